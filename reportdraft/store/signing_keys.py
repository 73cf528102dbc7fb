"""Each radiologist's own Ed25519 signing keys, the private halves sealed at rest.

Why per radiologist: a signature made with one service-wide key proves only that the
service signed. Here every radiologist profile has its own key pair (table
``radiologist_keys``); the profile's ``key_id`` names the *active* key, the one the
service signs with when that radiologist signs. The public halves are published (key
documents, :class:`reportdraft.attest.KeyDocument`) with their owner and revocation time,
so a verifier can check that a signature was made with the signer's own, unrevoked key.

Storage. A private key is never written in clear: its 32 raw bytes are sealed with
AES-256-GCM under the key-encryption key (KEK), with a fresh 96-bit nonce and the
radiologist id and key id as associated data (a sealed value copied onto another row
does not unseal). The column holds ``aesgcm1:`` + base64(nonce + ciphertext + tag);
``kek_id`` (a hash prefix of the KEK, never the KEK) says which KEK sealed it. The KEK
comes from ``REPORTDRAFT_KEY_ENCRYPTION_KEY`` (base64 of 32 bytes) or
``REPORTDRAFT_KEY_ENCRYPTION_KEY_FILE``; without one the service refuses to create keys
(``kek_missing``) rather than store them in clear. A key is unsealed per signing
request and not cached.

KEK rotation:

1. Make a new KEK (``openssl rand -base64 32``).
2. Configure it as ``REPORTDRAFT_KEY_ENCRYPTION_KEY`` and move the old one to
   ``REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS`` (comma-separated; or one per line in
   ``REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS_FILE``); restart the services. New keys are
   sealed under the new KEK; old rows still unseal with the previous one.
3. Run ``reportdraft keys rewrap``: it re-seals every private key under the current KEK in
   one transaction (all rows or none) and reports how many it changed.
4. Remove the old KEK from the previous list and restart. Database backups taken before
   step 3 still need the old KEK: keep it (offline) as long as those backups are kept.

A KEK that is not configured gives ``kek_unknown``; a configured KEK that does not open
the sealed value (wrong KEK under a colliding id, or an altered/moved value) gives
``key_unseal_failed``. Both are configuration errors and nothing is signed.

Radiologist key rotation and revocation: :func:`rotate_key` makes a new key the active
one (the profile's ``key_id`` follows); the old key stays published and unrevoked, so what
it signed still verifies. :func:`revoke_key` marks a key revoked at a time, with a reason:
signatures made before that time still verify, none can be made with it after (the
service refuses, and so do verifiers given the key documents). Revoking the active key
leaves the profile without one until an admin rotates.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from reportdraft.attest.keys import KeyDocument, SigningKey, VerifyKey, key_id_of, public_key_raw
from reportdraft.errors import ConfigurationError, ConflictError, InputError, NotFoundError
from reportdraft.models.report import Radiologist
from reportdraft.settings import Settings
from reportdraft.store import principals
from reportdraft.store.tables import RadiologistKeyRow, RadiologistRow

KEK_BYTES = 32
"""AES-256: the KEK is 32 bytes."""

NONCE_BYTES = 12
SEALED_PREFIX = "aesgcm1:"
"""Marks the sealing format, so a later format can be told apart."""

KEK_MISSING = (
    "no key-encryption key configured: set REPORTDRAFT_KEY_ENCRYPTION_KEY (base64 of 32 "
    "random bytes) or REPORTDRAFT_KEY_ENCRYPTION_KEY_FILE; radiologists' private keys are "
    "never stored in clear"
)


@dataclass(frozen=True)
class KeyEncryptionKey:
    """A 32-byte AES-256-GCM key that seals private keys; ``kek_id`` names it in rows."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEK_BYTES:
            raise ConfigurationError(
                f"a key-encryption key must be {KEK_BYTES} bytes, got {len(self.secret)}",
                code="kek_invalid",
            )

    @property
    def kek_id(self) -> str:
        """A hash prefix naming this KEK (domain-separated: no other hash equals it)."""
        return hashlib.sha256(b"reportdraft-kek-id\0" + self.secret).hexdigest()[:16]

    @classmethod
    def decode(cls, text: str, *, source: str) -> KeyEncryptionKey:
        """A KEK from its base64 text; ``source`` names where it came from (never the value)."""
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(f"{source} is not base64", code="kek_invalid") from None
        if len(secret) != KEK_BYTES:
            raise ConfigurationError(
                f"{source} must be base64 of {KEK_BYTES} bytes, got {len(secret)} bytes",
                code="kek_invalid",
            )
        return cls(secret)

    @classmethod
    def generate(cls) -> KeyEncryptionKey:
        """A fresh random KEK (tests and development)."""
        return cls(os.urandom(KEK_BYTES))

    def encoded(self) -> str:
        """The base64 text configuration holds."""
        return base64.b64encode(self.secret).decode("ascii")


@dataclass(frozen=True)
class KekRing:
    """The current KEK (seals) and earlier ones (only unseal, until a rewrap)."""

    current: KeyEncryptionKey
    previous: tuple[KeyEncryptionKey, ...] = ()

    def find(self, kek_id: str | None) -> KeyEncryptionKey | None:
        """The configured KEK named ``kek_id``, or None."""
        return next((k for k in (self.current, *self.previous) if k.kek_id == kek_id), None)


def _read_secret_file(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"{what} {path} cannot be read: {exc}", code="kek_invalid"
        ) from None


def kek_ring(settings: Settings) -> KekRing | None:
    """The KEKs ``settings`` configure, or None when no current KEK is set.

    Refuses ambiguous or malformed configuration (``kek_invalid``): both the variable and
    the file, previous KEKs without a current one, anything not base64 of 32 bytes.
    """
    if settings.key_encryption_key and settings.key_encryption_key_file:
        raise ConfigurationError(
            "set REPORTDRAFT_KEY_ENCRYPTION_KEY or REPORTDRAFT_KEY_ENCRYPTION_KEY_FILE, not both",
            code="kek_invalid",
        )
    current: KeyEncryptionKey | None = None
    if settings.key_encryption_key:
        current = KeyEncryptionKey.decode(
            settings.key_encryption_key, source="REPORTDRAFT_KEY_ENCRYPTION_KEY"
        )
    elif settings.key_encryption_key_file:
        path = settings.key_encryption_key_file
        current = KeyEncryptionKey.decode(
            _read_secret_file(path, "key-encryption key file"), source=f"KEK file {path}"
        )
    texts = [
        (t, "REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS")
        for t in settings.key_encryption_keys_previous
    ]
    if settings.key_encryption_keys_previous_file:
        path = settings.key_encryption_keys_previous_file
        lines = _read_secret_file(path, "previous key-encryption keys file").splitlines()
        texts += [(line, f"previous KEK file {path}") for line in lines]
    previous = [
        KeyEncryptionKey.decode(text, source=source)
        for text, source in texts
        if text.strip() and not text.lstrip().startswith("#")
    ]
    if current is None:
        if previous:
            raise ConfigurationError(
                "previous key-encryption keys are configured but no current one",
                code="kek_invalid",
            )
        return None
    kept = tuple({k.kek_id: k for k in previous if k.kek_id != current.kek_id}.values())
    return KekRing(current, kept)


def require_keks(keks: KekRing | None) -> KekRing:
    """``keks``, or the ``kek_missing`` configuration error."""
    if keks is None:
        raise ConfigurationError(KEK_MISSING, code="kek_missing")
    return keks


def _associated_data(radiologist_id: str, key_id: str) -> bytes:
    return f"reportdraft radiologist key v1\0{radiologist_id}\0{key_id}".encode()


def seal(private_raw: bytes, *, kek: KeyEncryptionKey, radiologist_id: str, key_id: str) -> str:
    """``private_raw`` sealed under ``kek``, bound to its owner and key id."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(kek.secret).encrypt(
        nonce, private_raw, _associated_data(radiologist_id, key_id)
    )
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def unseal(
    sealed: str, *, keks: KekRing, kek_id: str | None, radiologist_id: str, key_id: str
) -> bytes:
    """The raw private key sealed in ``sealed`` (see the module docstring for the errors)."""
    kek = keks.find(kek_id)
    if kek is None:
        raise ConfigurationError(
            f"key {key_id} is sealed under key-encryption key {kek_id}, which is not "
            f"configured (current: {keks.current.kek_id}); add it to "
            "REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS",
            code="kek_unknown",
        )
    failed = ConfigurationError(
        f"key {key_id} does not unseal under key-encryption key {kek.kek_id}: wrong KEK, "
        "or the sealed value was altered or moved to another row",
        code="key_unseal_failed",
    )
    if not sealed.startswith(SEALED_PREFIX):
        raise failed
    try:
        blob = base64.b64decode(sealed[len(SEALED_PREFIX) :], validate=True)
        return AESGCM(kek.secret).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], _associated_data(radiologist_id, key_id)
        )
    except (binascii.Error, ValueError, InvalidTag):
        raise failed from None


@dataclass(frozen=True, kw_only=True)
class RadiologistKey:
    """A stored key's public facts (the sealed private half stays in the row)."""

    key_id: str
    radiologist_id: str
    public_key: str
    created_at: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    kek_id: str | None

    def revoked(self, at: datetime) -> bool:
        """True when the key may no longer sign at ``at`` (the verifier's rule, too)."""
        return self.revoked_at is not None and at >= self.revoked_at

    def verify_key(self) -> VerifyKey:
        """The keyring entry: public key, owner and revocation time."""
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))
        return VerifyKey(public, self.key_id, owner=self.radiologist_id, revoked_at=self.revoked_at)

    def document(self) -> KeyDocument:
        """The published key document."""
        return KeyDocument.of(
            self.verify_key(),
            created_at=self.created_at,
            revocation_reason=self.revocation_reason,
        )


def _key(row: RadiologistKeyRow) -> RadiologistKey:
    return RadiologistKey(
        key_id=row.key_id,
        radiologist_id=row.radiologist_id,
        public_key=row.public_key,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason,
        kek_id=row.kek_id,
    )


def list_keys(session: Session, radiologist_id: str) -> list[RadiologistKey]:
    """Every key of ``radiologist_id``, oldest first (``NotFoundError`` for no profile)."""
    principals.get_radiologist(session, radiologist_id)
    rows = session.scalars(
        select(RadiologistKeyRow)
        .where(RadiologistKeyRow.radiologist_id == radiologist_id)
        .order_by(RadiologistKeyRow.created_at, RadiologistKeyRow.key_id)
    )
    return [_key(r) for r in rows]


def keyring(session: Session) -> dict[str, VerifyKey]:
    """Every radiologist key, with owner and revocation: what signatures verify against."""
    rows = session.scalars(select(RadiologistKeyRow))
    return {row.key_id: _key(row).verify_key() for row in rows}


def _insert_key(
    session: Session, radiologist_id: str, *, keks: KekRing, now: datetime
) -> RadiologistKey:
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    key_id = key_id_of(public)
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    row = RadiologistKeyRow(
        key_id=key_id,
        radiologist_id=radiologist_id,
        public_key=base64.b64encode(public_key_raw(public)).decode("ascii"),
        private_key_enc=seal(raw, kek=keks.current, radiologist_id=radiologist_id, key_id=key_id),
        kek_id=keks.current.kek_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _key(row)


def _set_active(
    session: Session, profile: Radiologist, key_id: str | None, now: datetime
) -> Radiologist:
    updated = profile.model_copy(update={"key_id": key_id})
    principals.put_radiologist(session, updated, now=now)
    return updated


def rotate_key(
    session: Session, radiologist_id: str, *, keks: KekRing | None, now: datetime
) -> RadiologistKey:
    """Create a new key for ``radiologist_id`` and make it the active one.

    The previous key is neither deleted nor revoked: its signatures keep verifying.
    """
    ring = require_keks(keks)
    profile = principals.get_radiologist(session, radiologist_id)
    key = _insert_key(session, radiologist_id, keks=ring, now=now)
    _set_active(session, profile, key.key_id, now)
    return key


def register_profile(
    session: Session, profile: Radiologist, *, keks: KekRing | None, now: datetime
) -> Radiologist:
    """Create or replace ``profile``; its ``key_id`` is the service's, never the client's.

    A ``key_id`` given in ``profile`` must be one of this radiologist's unrevoked keys
    (``key_not_radiologists`` / ``key_revoked``, 422); otherwise the stored active key is
    kept, or a new key pair is made when there is none. Returns the profile as stored.
    """
    row = session.get(RadiologistRow, profile.id)
    stored = Radiologist.model_validate(row.profile) if row is not None else None
    keys = {k.key_id: k for k in list_keys(session, profile.id)} if stored is not None else {}
    if profile.key_id is not None:
        named = keys.get(profile.key_id)
        if named is None:
            raise InputError(
                f"key {profile.key_id} is not one of {profile.id}'s keys; leave key_id out "
                "(the service creates and binds the radiologist's key)",
                code="key_not_radiologists",
            )
        if named.revoked(now):
            raise InputError(f"key {profile.key_id} is revoked", code="key_revoked")
        principals.put_radiologist(session, profile, now=now)
        return profile
    active = keys.get(stored.key_id) if stored is not None and stored.key_id else None
    if active is not None and not active.revoked(now):
        return _set_active(session, profile, active.key_id, now)
    ring = require_keks(keks)
    principals.put_radiologist(session, profile, now=now)
    key = _insert_key(session, profile.id, keks=ring, now=now)
    return _set_active(session, profile, key.key_id, now)


def revoke_key(
    session: Session, radiologist_id: str, key_id: str, *, at: datetime, reason: str
) -> RadiologistKey:
    """Revoke ``radiologist_id``'s key ``key_id`` as of ``at``, saying why.

    Signatures made before ``at`` still verify; none can be made after. When it was the
    active key the profile is left without one (signing is refused, ``no_active_key``,
    until an admin rotates).
    """
    profile = principals.get_radiologist(session, radiologist_id)
    row = session.get(RadiologistKeyRow, key_id, with_for_update=True)
    if row is None or row.radiologist_id != radiologist_id:
        raise NotFoundError(f"no key {key_id} of radiologist {radiologist_id}")
    if row.revoked_at is not None:
        raise ConflictError(
            f"key {key_id} was already revoked at {row.revoked_at.isoformat()}",
            code="key_already_revoked",
        )
    row.revoked_at = at
    row.revocation_reason = reason
    session.flush()
    if profile.key_id == key_id:
        _set_active(session, profile, None, at)
    return _key(row)


def active_signing_key(
    session: Session, radiologist_id: str, *, keks: KekRing | None, at: datetime
) -> SigningKey:
    """The unsealed active key of ``radiologist_id``, for one signature at ``at``.

    Refuses (409 ``no_active_key`` / ``key_revoked``) when the profile names no key of
    theirs, the key is revoked at ``at``, or the service holds no private half.
    """
    profile = principals.get_radiologist(session, radiologist_id)
    if profile.key_id is None:
        raise ConflictError(
            f"{radiologist_id} has no active signing key (an admin creates one with "
            f"POST /v1/admin/radiologists/{radiologist_id}/keys)",
            code="no_active_key",
        )
    row = session.get(RadiologistKeyRow, profile.key_id)
    if row is None or row.radiologist_id != radiologist_id or row.private_key_enc is None:
        raise ConflictError(
            f"the service holds no private key {profile.key_id} of {radiologist_id}",
            code="no_active_key",
        )
    key = _key(row)
    if key.revoked(at):
        raise ConflictError(f"{radiologist_id}'s key {key.key_id} is revoked", code="key_revoked")
    raw = unseal(
        row.private_key_enc,
        keks=require_keks(keks),
        kek_id=row.kek_id,
        radiologist_id=radiologist_id,
        key_id=row.key_id,
    )
    private = Ed25519PrivateKey.from_private_bytes(raw)
    if key_id_of(private.public_key()) != row.key_id:
        raise ConfigurationError(
            f"key {row.key_id} unsealed to another key", code="key_unseal_failed"
        )
    return SigningKey(private, row.key_id)


def rewrap(session: Session, keks: KekRing | None) -> int:
    """Re-seal every private key not under the current KEK; return how many changed.

    Run inside one write transaction: any key that does not unseal raises and the caller's
    transaction rolls back, so the table is never left half under one KEK and half under
    another because of a failure here.
    """
    ring = require_keks(keks)
    rows = session.scalars(
        select(RadiologistKeyRow)
        .where(RadiologistKeyRow.private_key_enc.is_not(None))
        .order_by(RadiologistKeyRow.key_id)
        .with_for_update()
    ).all()
    changed = 0
    for row in rows:
        if row.kek_id == ring.current.kek_id or row.private_key_enc is None:
            continue
        raw = unseal(
            row.private_key_enc,
            keks=ring,
            kek_id=row.kek_id,
            radiologist_id=row.radiologist_id,
            key_id=row.key_id,
        )
        row.private_key_enc = seal(
            raw, kek=ring.current, radiologist_id=row.radiologist_id, key_id=row.key_id
        )
        row.kek_id = ring.current.kek_id
        changed += 1
    session.flush()
    return changed
