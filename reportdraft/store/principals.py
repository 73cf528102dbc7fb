"""API keys and radiologist profiles.

An API key is shown once, when it is created; only its SHA-256 is stored, so a leaked
database does not leak working keys. A key of role ``radiologist`` or ``attending`` is
bound to a radiologist profile: the service signs only as that profile.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from reportdraft.errors import InputError, NotFoundError
from reportdraft.models.report import Radiologist
from reportdraft.store.tables import ApiKeyRow, RadiologistRow

KEY_PREFIX = "rdk_"
"""Every API key starts with this, so secret scanners and people can recognise one."""


class Role(StrEnum):
    """What a key may do (see ``reportdraft.api.auth`` for the endpoint matrix)."""

    WORKSTATION = "workstation"
    RADIOLOGIST = "radiologist"
    ATTENDING = "attending"
    QA = "qa"
    ADMIN = "admin"


SIGNING_ROLES = frozenset({Role.RADIOLOGIST, Role.ATTENDING})
"""Roles whose keys must be bound to a radiologist profile."""


@dataclass(frozen=True, kw_only=True)
class ApiKey:
    """A stored API key (without the secret)."""

    id: str
    role: Role
    radiologist_id: str | None
    label: str | None
    revoked: bool


def key_hash(secret: str) -> str:
    """The SHA-256 hex of an API key, as stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def put_radiologist(session: Session, profile: Radiologist, *, now: datetime) -> None:
    """Create or replace a radiologist profile."""
    row = session.get(RadiologistRow, profile.id)
    data = profile.model_dump(mode="json")
    if row is None:
        session.add(RadiologistRow(id=profile.id, profile=data, updated_at=now))
    else:
        row.profile = data
        row.updated_at = now
    session.flush()


def get_radiologist(session: Session, radiologist_id: str) -> Radiologist:
    """The profile ``radiologist_id``; raises ``NotFoundError``."""
    row = session.get(RadiologistRow, radiologist_id)
    if row is None:
        raise NotFoundError(f"no radiologist {radiologist_id}")
    return Radiologist.model_validate(row.profile)


def list_radiologists(session: Session) -> list[Radiologist]:
    """Every radiologist profile, by id."""
    rows = session.scalars(select(RadiologistRow).order_by(RadiologistRow.id))
    return [Radiologist.model_validate(r.profile) for r in rows]


def create_api_key(
    session: Session,
    *,
    role: Role,
    now: datetime,
    radiologist_id: str | None = None,
    label: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; return it and the secret (the only time the secret exists)."""
    if (role in SIGNING_ROLES) != (radiologist_id is not None):
        raise InputError(
            f"a {role.value} key must be bound to a radiologist profile"
            if role in SIGNING_ROLES
            else f"a {role.value} key cannot be bound to a radiologist profile"
        )
    if radiologist_id is not None:
        get_radiologist(session, radiologist_id)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKeyRow(
        id=f"k-{secrets.token_hex(8)}",
        key_sha256=key_hash(secret),
        role=role.value,
        radiologist_id=radiologist_id,
        label=label,
        revoked=False,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _key(row), secret


def authenticate(session: Session, secret: str) -> ApiKey | None:
    """The live key whose hash matches ``secret``, or None."""
    row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_sha256 == key_hash(secret))).first()
    if row is None or row.revoked:
        return None
    return _key(row)


def revoke_api_key(session: Session, key_id: str) -> None:
    """Revoke a key (it stops working at once; the row stays for the audit trail)."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFoundError(f"no API key {key_id}")
    row.revoked = True


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key (revoked ones included), oldest first."""
    return [_key(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        role=Role(row.role),
        radiologist_id=row.radiologist_id,
        label=row.label,
        revoked=row.revoked,
    )
