"""Bearer API keys, roles, facility scope, and per-key rate limiting.

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

Every key except an admin key is scoped to facilities (the case's performing-facility
identifier) or marked all-facilities: it sees, edits and signs only its facilities'
reports (another facility's report answers 404, as if it did not exist) and creates
reports only for them (403 ``facility_forbidden``). A key no admin has scoped yet —
every key created before scoping existed — authenticates but is refused with 403
``key_not_scoped`` until an admin assigns its facilities. The scope lives in
:class:`Principal`; the report endpoints read reports only through
``reportdraft.api.service.load_report``.

A key is looked up by its SHA-256; the key itself never reaches a log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from reportdraft.api.error_bodies import ApiError
from reportdraft.api.limits import RateLimiter
from reportdraft.api.state import AppState
from reportdraft.errors import NotFoundError
from reportdraft.models.report import Radiologist
from reportdraft.store import principals, reports
from reportdraft.store.principals import FacilityScope, Role

READERS = frozenset(Role)
"""Every role may read reports."""


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The authenticated caller and the facilities whose reports it may see."""

    key_id: str
    role: Role
    radiologist: Radiologist | None
    scope: FacilityScope

    @property
    def facilities(self) -> frozenset[str] | None:
        """The facilities report queries are restricted to (None: every facility)."""
        return self.scope.visible

    def check_may_create(self, facility: str | None) -> None:
        """Refuse a case outside the key's scope (422 without a facility, 403 another one)."""
        if self.scope.covers(facility):
            return
        if facility is None:
            raise ApiError(
                422,
                "this key is scoped to facilities: the case must name its facility "
                "(study.performing_facility.identifier)",
                code="facility_required",
            )
        raise ApiError(
            403,
            "this key may not create reports for the case's facility",
            code="facility_forbidden",
        )

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


def _live(
    session: Session, key: principals.ApiKey | None
) -> tuple[principals.ApiKey, Radiologist | None]:
    """The key found for a bearer token (401 without one) and its radiologist profile."""
    if key is None:
        raise ApiError(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    profile = (
        principals.get_radiologist(session, key.radiologist_id)
        if key.radiologist_id is not None
        else None
    )
    return key, profile


def authenticate(request: Request) -> Principal:
    """Resolve the bearer key to a principal and apply its rate limit."""
    return authenticate_key(request, _bearer(request))


def authenticate_key(request: Request, token: str) -> Principal:
    """Resolve the API key ``token`` to a principal and apply its rate limit.

    The one lookup behind the bearer header and the review pages' sign-in; a page
    session then presents the key's hash on every request (:func:`authenticate_key_hash`),
    so a revoked key stops working at once in both.
    """
    return authenticate_key_hash(request, principals.key_hash(token))


def authenticate_key_hash(request: Request, sha256: str) -> Principal:
    """:func:`authenticate_key` for a key named by its stored hash (a review-page session
    keeps only that)."""
    with app_state(request).db.read() as session:
        key, profile = _live(session, principals.authenticate_hash(session, sha256))
    return _admit(request, key, profile)


def _admit(request: Request, key: principals.ApiKey, profile: Radiologist | None) -> Principal:
    """The principal of a live ``key``, after its rate limit (429 when spent)."""
    state = app_state(request)
    wait = state.limiter.take(key.id)
    if wait > 0:
        raise ApiError(
            429,
            "rate limit exceeded for this API key",
            headers={"Retry-After": RateLimiter.retry_after(wait)},
            details={"retry_after_s": round(wait, 3)},
        )
    principal = Principal(key_id=key.id, role=key.role, radiologist=profile, scope=key.scope)
    request.state.principal = principal
    return principal


def check_allowed(principal: Principal, allowed: frozenset[Role]) -> Principal:
    """Refuse a principal outside ``allowed`` (403) or without a facility scope (403
    ``key_not_scoped``); see :func:`require`."""
    if principal.role not in allowed:
        raise ApiError(
            403,
            f"role {principal.role.value} may not do this "
            f"(allowed: {', '.join(sorted(r.value for r in allowed))})",
        )
    if not principal.scope.assigned:
        raise ApiError(
            403,
            f"API key {principal.key_id} has no facility scope yet: an admin must assign "
            "its facilities (PATCH /v1/admin/api-keys/{id} or 'reportdraft apikey scope') "
            "or mark it all-facilities",
            code="key_not_scoped",
        )
    return principal


def require(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency admitting only ``roles`` (401 without a valid key, 403 otherwise).

    A key without a facility scope is refused here (403 ``key_not_scoped``), before any
    report is looked at, so an unscoped key learns nothing, not even what exists.
    """
    allowed = frozenset(roles)

    def dependency(request: Request) -> Principal:
        return check_allowed(authenticate(request), allowed)

    return dependency


def authorize_read(
    request: Request, session: Session, report_id: str, *roles: Role
) -> tuple[Principal, int]:
    """:func:`authorize` and the current version of ``report_id`` as the principal may see
    it, with one statement for both (:func:`principals.authenticate_reading`).

    The same answers in the same order: 401 (no or a revoked key), 429, 403, then 404 for
    a report that is missing or outside the key's facilities (indistinguishable). Inside
    the endpoint's read transaction rather than a dependency: a FastAPI dependency with
    ``yield`` could share the session too, but it costs two more thread-pool hops per
    request and holds the connection until its exit has run (in one noisy run it was much
    slower with one worker at 32 clients, ``bench/results/api_load_yield_dependency.json``).
    """
    found, seen = principals.authenticate_reading(session, _bearer(request), report_id)
    key, profile = _live(session, found)
    principal = check_allowed(_admit(request, key, profile), frozenset(roles))
    if seen is None or not reports.visible_to(seen.facility, principal.facilities):
        raise NotFoundError(f"no report {report_id}")
    return principal, seen.version
