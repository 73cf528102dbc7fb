"""Signing keys: generation, files, loading from a path or PEM text, clear errors."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from reportdraft.attest import (
    generate_signing_key,
    key_id_of,
    load_signing_key,
    load_verify_key,
    write_key_files,
)
from reportdraft.attest.keys import KEY_ID_FILE, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, public_key_raw
from reportdraft.errors import ConfigurationError


def test_key_id_is_sha256_prefix_of_raw_public_key() -> None:
    key = generate_signing_key()
    raw = public_key_raw(key.private.public_key())
    assert key.key_id == hashlib.sha256(raw).hexdigest()[:16]
    assert key_id_of(raw) == key.key_id


def test_written_files_load_back_from_path_and_from_pem_text(tmp_path: Path) -> None:
    key = generate_signing_key()
    written = write_key_files(key, tmp_path)
    assert sorted(p.name for p in written) == sorted(
        [PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, KEY_ID_FILE]
    )
    assert stat.S_IMODE((tmp_path / PRIVATE_KEY_FILE).stat().st_mode) == 0o600
    assert (tmp_path / KEY_ID_FILE).read_text().strip() == key.key_id
    from_path = load_signing_key(tmp_path / PRIVATE_KEY_FILE)
    from_text = load_signing_key((tmp_path / PRIVATE_KEY_FILE).read_text())
    assert from_path.key_id == from_text.key_id == key.key_id
    message = b"canonical bytes"
    key.verify_key.public.verify(from_text.sign(message), message)
    assert load_verify_key(str(tmp_path / PUBLIC_KEY_FILE)).key_id == key.key_id


def test_existing_key_files_are_not_overwritten(tmp_path: Path) -> None:
    write_key_files(generate_signing_key(), tmp_path)
    with pytest.raises(ConfigurationError, match="refusing to overwrite"):
        write_key_files(generate_signing_key(), tmp_path)
    replacement = generate_signing_key()
    write_key_files(replacement, tmp_path, overwrite=True)
    assert load_signing_key(tmp_path / PRIVATE_KEY_FILE).key_id == replacement.key_id


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        load_signing_key(tmp_path / "nope.pem")


def test_garbage_pem_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not a readable PEM"):
        load_signing_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_non_ed25519_key_is_refused() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ConfigurationError, match="Ed25519"):
        load_signing_key(pem)
