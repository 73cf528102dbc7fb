"""Ed25519 signing keys: generation for development, loading from configuration.

A key is identified by its *key id*: the first 16 hex digits of the sha256 of the raw
32-byte public key. The id goes into the radiologist's profile and into every signature,
so a signature made with any other key is refused. Keys come from configuration (a PEM
file path or the PEM text itself, e.g. ``REPORTDRAFT_SIGNING_KEY``); this module never
reads the environment, the CLI/API pass the value in.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from reportdraft.errors import ConfigurationError

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
    """A public key with its id, as a verifier's keyring holds it."""

    public: Ed25519PublicKey
    key_id: str

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
