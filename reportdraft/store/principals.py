"""API keys, their facility scope, and radiologist profiles.

An API key is shown once, when it is created; only its SHA-256 is stored, so a leaked
database does not leak working keys. A key of role ``radiologist`` or ``attending`` is
bound to a radiologist profile: the service signs only as that profile.

Every key except an admin key is scoped to facilities (the case's
``study.performing_facility.identifier``): a list of identifiers, or ``all_facilities``
set explicitly (e.g. an enterprise QA key). A key with neither is *not scoped*; keys
that existed before scoping are in that state after the upgrade and read no patient
data until an admin assigns their facilities (fail closed). :class:`FacilityScope` is
the one statement of what a scope covers; webhook subscriptions use it too.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from reportdraft.errors import InputError, NotFoundError
from reportdraft.models.report import Radiologist
from reportdraft.store.tables import ApiKeyRow, RadiologistRow, ReportRow

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

FACILITY_ID_MAX = 64
"""Longest facility identifier (the length of ``Facility.identifier`` and the column)."""


@dataclass(frozen=True, kw_only=True)
class FacilityScope:
    """Which facilities' patient data a key (or a webhook subscription) covers.

    ``all_facilities`` covers every report, those whose case names no facility
    included; otherwise exactly the reports whose facility is in ``facilities``. A
    scope with neither is unassigned and covers nothing.
    """

    facilities: frozenset[str] = frozenset()
    all_facilities: bool = False

    @property
    def assigned(self) -> bool:
        """False for a key that no admin has scoped yet (it may read nothing)."""
        return self.all_facilities or bool(self.facilities)

    @property
    def visible(self) -> frozenset[str] | None:
        """The facilities a query must be restricted to; None when it needs no filter."""
        return None if self.all_facilities else self.facilities

    def covers(self, facility: str | None) -> bool:
        """True when a report of ``facility`` (None: the case named none) is in scope."""
        return self.all_facilities or (facility is not None and facility in self.facilities)


UNRESTRICTED = FacilityScope(all_facilities=True)
"""The scope of admin keys: they manage the service and see every facility."""


def facility_scope(facilities: Iterable[str] | None, all_facilities: bool) -> FacilityScope:
    """A validated scope: a non-empty list of identifiers, or ``all_facilities``, not both.

    Raises ``InputError`` (code ``facility_scope_required`` when neither is given), so
    no key or subscription is ever created silently unscoped.
    """
    names = list(facilities or ())
    if all_facilities and names:
        raise InputError(
            "give either facilities or all_facilities, not both", code="invalid_facility_scope"
        )
    if not all_facilities and not names:
        raise InputError(
            "name the facilities this may see (facility identifiers) or set all_facilities "
            "explicitly",
            code="facility_scope_required",
        )
    for name in names:
        if not name or len(name) > FACILITY_ID_MAX or name != name.strip():
            raise InputError(
                f"a facility identifier has 1 to {FACILITY_ID_MAX} characters and no "
                "surrounding spaces",
                code="invalid_facility_scope",
            )
    return FacilityScope(facilities=frozenset(names), all_facilities=all_facilities)


@dataclass(frozen=True, kw_only=True)
class ApiKey:
    """A stored API key (without the secret) and its facility scope."""

    id: str
    role: Role
    radiologist_id: str | None
    label: str | None
    revoked: bool
    created_at: datetime
    facilities: frozenset[str]
    all_facilities: bool

    @property
    def scope(self) -> FacilityScope:
        """What the key may see: every facility for admin keys, else its assignment."""
        if self.role is Role.ADMIN:
            return UNRESTRICTED
        return FacilityScope(facilities=self.facilities, all_facilities=self.all_facilities)


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
    facilities: Iterable[str] | None = None,
    all_facilities: bool = False,
) -> tuple[ApiKey, str]:
    """Create a key; return it and the secret (the only time the secret exists).

    A non-admin key needs its scope (``facilities`` or ``all_facilities``): refused
    otherwise. An admin key is unscoped by role and refuses a scope, which would
    suggest a restriction that does not exist.
    """
    scope = _scope_for(role, facilities, all_facilities)
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
        facilities=sorted(scope.facilities),
        all_facilities=scope.all_facilities,
    )
    session.add(row)
    session.flush()
    return _key(row), secret


def set_key_scope(
    session: Session, key_id: str, *, facilities: Iterable[str] | None, all_facilities: bool
) -> ApiKey:
    """Replace the facility scope of key ``key_id`` (how an admin scopes an old key)."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFoundError(f"no API key {key_id}")
    scope = _scope_for(Role(row.role), facilities, all_facilities)
    row.facilities = sorted(scope.facilities)
    row.all_facilities = scope.all_facilities
    session.flush()
    return _key(row)


def _scope_for(role: Role, facilities: Iterable[str] | None, all_facilities: bool) -> FacilityScope:
    """The scope to store for a key of ``role`` (nothing for admin keys: the role decides)."""
    if role is Role.ADMIN:
        if all_facilities or list(facilities or ()):
            raise InputError(
                "admin keys see every facility; they take no facility scope",
                code="invalid_facility_scope",
            )
        return FacilityScope()
    return facility_scope(facilities, all_facilities)


def authenticate(session: Session, secret: str) -> ApiKey | None:
    """The live key whose hash matches ``secret``, or None."""
    return authenticate_hash(session, key_hash(secret))


def authenticate_hash(session: Session, sha256: str) -> ApiKey | None:
    """The live key whose stored hash is ``sha256`` (a review-page session names its key
    so, never by the secret), or None."""
    row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_sha256 == sha256)).first()
    if row is None or row.revoked:
        return None
    return _key(row)


@dataclass(frozen=True)
class ReportSeen:
    """A report's ETag counter and facility, read beside the key that asks for it."""

    version: int
    facility: str | None


_KEY_COLUMNS = (
    ApiKeyRow.id,
    ApiKeyRow.role,
    ApiKeyRow.radiologist_id,
    ApiKeyRow.label,
    ApiKeyRow.revoked,
    ApiKeyRow.created_at,
    ApiKeyRow.facilities,
    ApiKeyRow.all_facilities,
)


def authenticate_reading(
    session: Session, secret: str, report_id: str
) -> tuple[ApiKey | None, ReportSeen | None]:
    """:func:`authenticate` and ``report_id``'s version and facility, in one statement.

    The hot read path (``GET /v1/reports/{id}``, answered from a per-process body cache
    when the version matches) otherwise spends two statements and ORM loading on
    facts of a few bytes; one Core statement on the session's connection halves its
    database work (``bench/results/api_load.json``). The caller applies the facility
    scope (:func:`reportdraft.store.reports.visible_to`) exactly as the scoped query does.
    """
    query = (
        select(*_KEY_COLUMNS, ReportRow.version.label("v"), ReportRow.facility.label("f"))
        .select_from(ApiKeyRow)
        .outerjoin(ReportRow, ReportRow.id == report_id)
        .where(ApiKeyRow.key_sha256 == key_hash(secret))
    )
    row = session.connection().execute(query).first()
    if row is None or row.revoked:
        return None, None
    return _key(row), (None if row.v is None else ReportSeen(int(row.v), row.f))


def revoke_api_key(session: Session, key_id: str) -> None:
    """Revoke a key (it stops working at once; the row stays for the audit trail)."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFoundError(f"no API key {key_id}")
    row.revoked = True


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key (revoked ones included), oldest first."""
    return [_key(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]


class _KeyFields(Protocol):
    """The key's columns: an ``ApiKeyRow``, or a Core row selecting ``_KEY_COLUMNS``."""

    @property
    def id(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def radiologist_id(self) -> str | None: ...
    @property
    def label(self) -> str | None: ...
    @property
    def revoked(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def facilities(self) -> list[str] | None: ...
    @property
    def all_facilities(self) -> bool: ...


def _key(row: _KeyFields) -> ApiKey:
    return ApiKey(
        id=row.id,
        role=Role(row.role),
        radiologist_id=row.radiologist_id,
        label=row.label,
        revoked=row.revoked,
        created_at=row.created_at,
        facilities=frozenset(row.facilities or ()),
        all_facilities=bool(row.all_facilities),
    )
