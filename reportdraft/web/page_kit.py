"""What every review page shares: templates, responses, the signed-in principal, the review.

The pages' routes (:mod:`reportdraft.web.pages`) and their state-changing forms
(:mod:`reportdraft.web.form_actions`) both answer through these helpers, so the security
headers, the sign-in check (an unusable session raises :class:`SignedOut`, which
``pages.install`` turns into a redirect to the sign-in page) and the review page itself
(shown by a GET and again by a save that lost a version race) have one home.
Reads go through ``service.load_report`` (facility scope: another facility's report is
"not found", as in the API).

Roles on the pages: radiologist, attending and qa keys may sign in (qa reads only);
the role of each action is the API's matrix (``EDITORS``, ``ATTENDINGS``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from reportdraft.api import routes, service
from reportdraft.api.auth import Principal, app_state, authenticate_key_hash, check_allowed
from reportdraft.api.error_bodies import ApiError
from reportdraft.errors import NotFoundError
from reportdraft.models.report import ReportStatus
from reportdraft.store import reports
from reportdraft.store.principals import Role
from reportdraft.web import views
from reportdraft.web.sessions import Session, SessionStore, secure, session_of

HERE = Path(__file__).parent
PAGE_ROLES = frozenset({Role.RADIOLOGIST, Role.ATTENDING, Role.QA})
EDITORS = frozenset({Role.RADIOLOGIST, Role.ATTENDING})
ATTENDINGS = frozenset({Role.ATTENDING})

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


class SignedOut(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The request has no usable session: send the browser to the sign-in page."""


def session_store(request: Request) -> SessionStore:
    """The app's session store (``pages.install`` puts it on ``app.state``)."""
    store: SessionStore = request.app.state.web_sessions
    return store


def page(
    request: Request,
    name: str,
    status: int = 200,
    *,
    session: Session | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render template ``name`` with the pages' security headers."""
    flash = session_store(request).take_flash(session) if session else []
    html = templates.get_template(name).render(
        session=session, flash=flash, csrf=session.csrf if session else "", **context
    )
    return secure(HTMLResponse(html, status_code=status))  # type: ignore[return-value]


def redirect(url: str) -> Response:
    """A 303 to ``url`` (after a POST: the browser then GETs it)."""
    return secure(RedirectResponse(url, status_code=303))


def signed_in(request: Request) -> tuple[Session, Principal]:
    """The session and its principal, or :class:`SignedOut`."""
    session = session_of(request, session_store(request))
    if session is None or session.key_sha256 is None:
        raise SignedOut
    try:
        principal = authenticate_key_hash(request, session.key_sha256)
        check_allowed(principal, PAGE_ROLES)
    except ApiError as exc:
        if exc.http_status == 429:
            raise
        session_store(request).drop(session.id)
        raise SignedOut from None
    return session, principal


async def form_of(request: Request) -> dict[str, str]:
    """The urlencoded form body (last value of each field)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def forbidden(request: Request) -> Response:
    """The answer to a form without the session's CSRF token."""
    return secure(
        HTMLResponse(
            "<!doctype html><title>Refused</title><p>Refused: the form's security token is "
            "missing or out of date. Go back, reload the page and try again.</p>",
            status_code=403,
        )
    )


def load_stored(request: Request, principal: Principal, report_id: str) -> reports.StoredReport:
    """The report as the principal may see it (another facility's: not found)."""
    with app_state(request).db.read() as db:
        return service.load_report(db, principal, routes.path_id(report_id))


def review_page(
    request: Request,
    session: Session,
    principal: Principal,
    report_id: str,
    *,
    status: int = 200,
    edits: dict[str, str] | None = None,
    sign_status: ReportStatus | None = None,
    amend: bool = False,
    conflict: str | None = None,
) -> Response:
    """The three-pane review page: the GET routes' page and a lost save race's 409."""
    try:
        stored = load_stored(request, principal, report_id)
    except NotFoundError:
        return page(request, "not_found.html", 404, session=session, principal=principal)
    state = app_state(request)
    if stored.report is None:
        return page(request, "pending.html", session=session, principal=principal, stored=stored)
    view = views.review(stored.id, stored.version, stored.report, state.clock(), edits=edits)
    problems = (
        service.sign_problems(state, principal, stored.report, sign_status)
        if sign_status is not None
        else []
    )
    return page(
        request,
        "review.html",
        status,
        session=session,
        principal=principal,
        stored=stored,
        view=view,
        may_edit=principal.role in EDITORS,
        is_attending=principal.role in ATTENDINGS,
        sign_status=sign_status,
        problems=problems,
        amend=amend,
        conflict=conflict,
        edits=edits or {},
        severity_order=views.SEVERITY_ORDER,
    )


def sign_status_for(principal: Principal) -> ReportStatus:
    """What this key signs: final for an attending key, preliminary otherwise."""
    return ReportStatus.FINAL if principal.role is Role.ATTENDING else ReportStatus.PRELIMINARY


def _datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


templates.filters["when"] = _datetime
