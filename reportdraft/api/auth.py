"""Bearer API keys, roles, and per-key rate limiting.

Every endpoint except ``/health`` and the OpenAPI document depends on :func:`require`
with the roles allowed to call it (the matrix is in ``reportdraft.api.routes``):

============  ===============================================================
workstation   create reports, read, acknowledge a communication for a recipient
radiologist   read, edit, decide AI findings, acknowledge flags, communicate,
              sign *preliminary*; bound to one radiologist profile
attending     everything a radiologist may, plus sign final, amend, addendum
qa            read and export (renderings, audit trail, redline)
admin         read, API keys, radiologist profiles, webhooks
============  ===============================================================

A key is looked up by its SHA-256; the key itself never reaches a log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from reportdraft.api.errors import ApiError
from reportdraft.api.limits import RateLimiter
from reportdraft.api.state import AppState
from reportdraft.models.report import Radiologist
from reportdraft.store import principals
from reportdraft.store.principals import Role

READERS = frozenset(Role)
"""Every role may read reports."""


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The authenticated caller."""

    key_id: str
    role: Role
    radiologist: Radiologist | None

    @property
    def actor(self) -> str:
        """Who the audit trail names: the radiologist's id, else the key id."""
        return self.radiologist.id if self.radiologist is not None else self.key_id


def app_state(request: Request) -> AppState:
    """The service state of the running app."""
    state: AppState = request.app.state.rd
    return state


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "missing or malformed Authorization header (expected 'Bearer <api key>')",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def authenticate(request: Request) -> Principal:
    """Resolve the bearer key to a principal and apply its rate limit."""
    state = app_state(request)
    token = _bearer(request)
    with state.db.read() as session:
        key = principals.authenticate(session, token)
        if key is None:
            raise ApiError(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
        profile = (
            principals.get_radiologist(session, key.radiologist_id)
            if key.radiologist_id is not None
            else None
        )
    wait = state.limiter.take(key.id)
    if wait > 0:
        raise ApiError(
            429,
            "rate limit exceeded for this API key",
            headers={"Retry-After": RateLimiter.retry_after(wait)},
            details={"retry_after_s": round(wait, 3)},
        )
    principal = Principal(key_id=key.id, role=key.role, radiologist=profile)
    request.state.principal = principal
    return principal


def require(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency admitting only ``roles`` (401 without a valid key, 403 otherwise)."""
    allowed = frozenset(roles)

    def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        if principal.role not in allowed:
            raise ApiError(
                403,
                f"role {principal.role.value} may not do this "
                f"(allowed: {', '.join(sorted(r.value for r in allowed))})",
            )
        return principal

    return dependency
