"""Ed25519 signing keys, the verifier's trusted keys, and the published key document.

A key is identified by its *key id*: the first 16 hex digits of the sha256 of the raw
32-byte public key. The id goes into the radiologist's profile and into every signature,
so a signature made with any other key is refused. Private keys for the CLI come from
configuration (a PEM file path or the PEM text itself, ``--key`` or
``REPORTDRAFT_SIGNING_KEY``); the service holds each radiologist's private key sealed in
its database instead (``reportdraft.store.signing_keys``). This module never reads the
environment: the CLI/API pass the value in.

Trust. A key id alone says nothing about *whose* key it is: anyone can make a key pair
and a profile copy naming it. A verifier therefore checks signatures against a keyring
of :class:`VerifyKey` entries that also name the key's ``owner`` (the radiologist id it
was issued to) and its ``revoked_at`` time. The service publishes these as *key
documents* (``GET /v1/radiologists/{id}/keys``), one JSON object per key::

    {"key_id": "3f1c...", "owner": "dr-att", "algorithm": "Ed25519",
     "public_key": "<raw 32 bytes, base64>", "public_key_pem": "-----BEGIN PUBLIC KEY-----...",
     "created_at": "2026-12-06T10:00:00Z", "revoked_at": null, "revocation_reason": null}

:func:`load_trusted_keys` is the one entry point that turns trust material (a PEM public
key, a key document or a JSON list of them, or a directory of such files) into a
keyring. A bare PEM names no owner or revocation, so it only proves the key, not the
signer: prefer key documents.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, Field, ValidationError

from reportdraft.errors import ConfigurationError
from reportdraft.models import Strict
from reportdraft.models.report import KeyId, UserId

KEY_ID_HEX_CHARS = 16
"""Length of a key id: 64 bits of the public key's sha256 name a key unambiguously here."""

PRIVATE_KEY_FILE = "signing_key.pem"
PUBLIC_KEY_FILE = "signing_key.pub.pem"
KEY_ID_FILE = "key_id.txt"


def public_key_raw(public: Ed25519PublicKey) -> bytes:
    """The raw 32-byte encoding of an Ed25519 public key."""
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public: Ed25519PublicKey | bytes) -> str:
    """The key id of a public key (object or raw bytes): sha256 hex prefix."""
    raw = public if isinstance(public, bytes) else public_key_raw(public)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_HEX_CHARS]


@dataclass(frozen=True)
class VerifyKey:
    """A public key with its id, as a verifier's keyring holds it.

    ``owner`` is the radiologist id the key was issued to and ``revoked_at`` when it
    stopped being valid; both are None for a bare public key (then a verifier can check
    that the key is trusted, but not that it is the signer's, nor whether it was revoked).
    """

    public: Ed25519PublicKey
    key_id: str
    owner: str | None = None
    revoked_at: datetime | None = None

    @property
    def public_b64(self) -> str:
        """The raw public key, base64 (how a :class:`Signature` carries it)."""
        return base64.b64encode(public_key_raw(self.public)).decode("ascii")

    def public_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM."""
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key with its key id; ``sign`` returns a detached 64-byte signature."""

    private: Ed25519PrivateKey
    key_id: str

    @property
    def verify_key(self) -> VerifyKey:
        """The matching public key."""
        return VerifyKey(self.private.public_key(), self.key_id)

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` exactly as given (no hashing or re-encoding on our side)."""
        return self.private.sign(data)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (protect the file: mode 0600)."""
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def generate_signing_key() -> SigningKey:
    """A fresh Ed25519 key, for development and tests (production keys come from config)."""
    private = Ed25519PrivateKey.generate()
    return SigningKey(private, key_id_of(private.public_key()))


def write_key_files(key: SigningKey, out_dir: Path, *, overwrite: bool = False) -> list[Path]:
    """Write the private key (0600), the public key and the key id into ``out_dir``.

    Refuses to replace existing key files unless ``overwrite``: losing a signing key
    makes every report it signed unverifiable against the keyring.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        PRIVATE_KEY_FILE: key.private_pem(),
        PUBLIC_KEY_FILE: key.verify_key.public_pem(),
        KEY_ID_FILE: (key.key_id + "\n").encode("ascii"),
    }
    existing = [out_dir / name for name in files if (out_dir / name).exists()]
    if existing and not overwrite:
        raise ConfigurationError(
            f"refusing to overwrite existing key file(s): {', '.join(map(str, existing))}"
        )
    written = []
    for name, content in files.items():
        path = out_dir / name
        mode = 0o600 if name == PRIVATE_KEY_FILE else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(path, mode)
        written.append(path)
    return written


def _pem_bytes(path_or_pem: str | Path, what: str) -> bytes:
    if isinstance(path_or_pem, str) and path_or_pem.lstrip().startswith("-----BEGIN"):
        return path_or_pem.strip().encode("ascii")
    path = Path(path_or_pem)
    if not path.is_file():
        raise ConfigurationError(f"{what} not found: {path} (give a PEM file path or PEM text)")
    return path.read_bytes()


def load_signing_key(path_or_pem: str | Path, *, password: bytes | None = None) -> SigningKey:
    """Load an Ed25519 private key from a PEM file path or from PEM text.

    The value is what configuration holds (``Settings.signing_key``, a ``--key`` option);
    errors name the problem without echoing key material.
    """
    data = _pem_bytes(path_or_pem, "signing key")
    try:
        private = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(f"signing key is not a readable PEM private key: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigurationError(
            f"signing key must be Ed25519, got {type(private).__name__.lstrip('_')}"
        )
    return SigningKey(private, key_id_of(private.public_key()))


def load_verify_key(path_or_pem: str | Path) -> VerifyKey:
    """Load an Ed25519 public key (PEM file path or PEM text) for a verifier's keyring."""
    data = _pem_bytes(path_or_pem, "public key")
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(f"public key is not a readable PEM public key: {exc}") from None
    if not isinstance(public, Ed25519PublicKey):
        raise ConfigurationError("public key must be Ed25519")
    return VerifyKey(public, key_id_of(public))


class KeyDocument(Strict):
    """One published public key: who owns it, since when, and whether it was revoked.

    The format ``GET /v1/radiologists/{id}/keys`` returns per key and
    :func:`load_trusted_keys` reads. ``public_key`` (raw, base64) and ``public_key_pem``
    carry the same key; a document whose two forms or whose ``key_id`` disagree is refused.
    """

    key_id: KeyId
    owner: UserId
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{43}=$")]
    public_key_pem: Annotated[str, Field(min_length=40, max_length=400)]
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None = None
    revocation_reason: Annotated[str, Field(max_length=200)] | None = None

    @classmethod
    def of(
        cls,
        key: VerifyKey,
        *,
        created_at: datetime,
        revocation_reason: str | None = None,
    ) -> KeyDocument:
        """The document publishing ``key`` (which must name its owner)."""
        if key.owner is None:
            raise ConfigurationError(f"key {key.key_id} names no owner: it cannot be published")
        return cls(
            key_id=key.key_id,
            owner=key.owner,
            public_key=key.public_b64,
            public_key_pem=key.public_pem().decode("ascii"),
            created_at=created_at,
            revoked_at=key.revoked_at,
            revocation_reason=revocation_reason,
        )

    def verify_key(self) -> VerifyKey:
        """The keyring entry of this document, after checking its forms agree."""
        try:
            raw = base64.b64decode(self.public_key, validate=True)
            public = Ed25519PublicKey.from_public_bytes(raw)
        except (binascii.Error, ValueError):
            raise ConfigurationError(f"key document {self.key_id}: public_key invalid") from None
        if load_verify_key(self.public_key_pem).public_b64 != self.public_key:
            raise ConfigurationError(
                f"key document {self.key_id}: public_key and public_key_pem differ"
            )
        if key_id_of(raw) != self.key_id:
            raise ConfigurationError(f"key document {self.key_id}: key_id is not its key's id")
        return VerifyKey(public, self.key_id, owner=self.owner, revoked_at=self.revoked_at)


TRUST_SUFFIXES = (".pem", ".pub", ".json")
"""The files :func:`load_trusted_keys` reads from a directory (others are ignored)."""

TRUST_ERROR = "trusted_key_invalid"
"""The error code of every refusal of trust material."""


def _untrusted(message: str) -> ConfigurationError:
    return ConfigurationError(message, code=TRUST_ERROR)


def _keys_in_file(path: Path) -> list[VerifyKey]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _untrusted(f"trusted key file {path} cannot be read: {exc}") from None
    if "PRIVATE KEY-----" in text:
        # A verifier never needs a private key: one in a trust store is a mistake (often
        # the whole `keys generate` folder), refused rather than silently used or skipped.
        raise _untrusted(
            f"{path} is a private key: trust public keys only (the .pub.pem file or the "
            "published key documents)"
        )
    if text.lstrip().startswith("-----BEGIN"):
        try:
            return [load_verify_key(text)]
        except ConfigurationError as exc:
            raise _untrusted(f"{path}: {exc.message}") from None
    try:
        raw = json.loads(text)
    except ValueError:
        raise _untrusted(
            f"trusted key file {path} is neither a PEM public key nor key-document JSON"
        ) from None
    entries = raw if isinstance(raw, list) else [raw]
    keys = []
    for index, entry in enumerate(entries):
        try:
            document = KeyDocument.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise _untrusted(
                f"trusted key file {path}: entry {index} is not a key document "
                f"({where}: {first.get('msg')})"
            ) from None
        try:
            keys.append(document.verify_key())
        except ConfigurationError as exc:
            raise _untrusted(f"trusted key file {path}: {exc.message}") from None
    return keys


def _trust_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in TRUST_SUFFIXES)
        if not files:
            raise _untrusted(
                f"trusted key directory {path} holds no {'/'.join(TRUST_SUFFIXES)} file"
            )
        return files
    if path.is_file():
        return [path]
    raise _untrusted(f"trusted keys not found: {path}")


def load_trusted_keys(*paths: str | Path) -> dict[str, VerifyKey]:
    """A verifier's keyring (key id → :class:`VerifyKey`) from trust material.

    Each path is a PEM public key, a key-document JSON file (one document or a list), or
    a directory whose ``.pem``/``.pub``/``.json`` files are read. The same key given twice
    is kept once; two entries for one key id that disagree (another owner, another
    revocation time, another key) are refused, since either could be the forged one. A
    private key, an empty directory or a missing path is refused; every refusal is a
    ``ConfigurationError`` with code ``trusted_key_invalid`` naming the file.
    """
    keyring: dict[str, VerifyKey] = {}
    for path in paths:
        for file in _trust_files(Path(path)):
            for key in _keys_in_file(file):
                _merge(keyring, key, file)
    return keyring


def _merge(keyring: dict[str, VerifyKey], key: VerifyKey, source: Path) -> None:
    known = keyring.get(key.key_id)
    if known is None:
        keyring[key.key_id] = key
        return
    if (known.public_b64, known.owner, known.revoked_at) == (
        key.public_b64,
        key.owner,
        key.revoked_at,
    ):
        return
    if known.public_b64 == key.public_b64 and (known.owner is None or key.owner is None):
        # A bare PEM and a document of the same key: keep what the document adds.
        keyring[key.key_id] = key if key.owner is not None else known
        return
    raise _untrusted(f"{source}: conflicting trusted entries for key {key.key_id}")
