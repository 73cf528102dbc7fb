"""The radiologist's review pages: sign-in and -out, the worklist, the report's views.

The routes here only read (plus the sign-in session); the forms that change a report are
in :mod:`reportdraft.web.form_actions`, each the API's endpoint function called with the
page's principal, so the If-Match check, the sign-off rules, the audit entries and the
webhooks are exactly the API's. :func:`install` mounts both on the API app. Reads go
through ``service.load_report`` (facility scope: another facility's report is "not
found", as in the API) and renderings through ``exports.render_report`` (verified before
rendering); templates, responses and the signed-in check: :mod:`reportdraft.web.page_kit`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from reportdraft.api import exports
from reportdraft.api.auth import Principal, app_state, authenticate_key, check_allowed
from reportdraft.api.error_bodies import ApiError
from reportdraft.errors import NotFoundError, ReportDraftError
from reportdraft.models import Priority
from reportdraft.store import principals, reports
from reportdraft.web import form_actions, views
from reportdraft.web.page_kit import (
    HERE,
    PAGE_ROLES,
    SignedOut,
    forbidden,
    form_of,
    load_stored,
    page,
    redirect,
    review_page,
    session_store,
    sign_status_for,
    signed_in,
)
from reportdraft.web.sessions import SessionStore, csrf_ok, secure, session_of, set_cookie

STATIC = HERE / "static"
STATIC_FILES = {
    "htmx.min.js": "text/javascript",
    "app.js": "text/javascript",
    "app.css": "text/css",
}
"""The only files ``/static`` serves (htmx 2, vendored with its 0BSD licence; ours)."""
WORKLIST_LIMIT = 100
STATE_FILTERS = (
    "open",
    "all",
    "queued",
    "drafting",
    "failed",
    "draft",
    *sorted(reports.SIGNED_STATES),
)
"""``open``: every report not yet signed (the default); ``all``; or one state."""

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Mount the pages and their static files on the API ``app``."""
    app.state.web_sessions = SessionStore(app.state.rd.db)

    async def signed_out(request: Request, exc: SignedOut) -> Response:
        return redirect("/signin")

    app.add_exception_handler(SignedOut, signed_out)  # type: ignore[arg-type]
    app.include_router(router)
    app.include_router(form_actions.router)


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The pages' scripts and style sheet (nothing else)."""
    if name not in STATIC_FILES:
        return secure(Response("not found", status_code=404, media_type="text/plain"))
    response = FileResponse(STATIC / name, media_type=STATIC_FILES[name])
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/")
def root(request: Request) -> Response:
    """The worklist when signed in, else the sign-in page."""
    session = session_of(request, session_store(request))
    return redirect("/worklist" if session and session.key_sha256 else "/signin")


@router.get("/signin")
def signin_form(request: Request) -> Response:
    """The sign-in form (an anonymous session carries its CSRF token)."""
    store = session_store(request)
    session = session_of(request, store) or store.new()
    response = page(request, "signin.html", session=session, error=None)
    set_cookie(request, response, session)
    return response


@router.post("/signin")
async def signin(request: Request) -> Response:
    """Check the key and keep it in a new session (the database work in the thread pool)."""
    store = session_store(request)
    session = await run_in_threadpool(session_of, request, store)
    form = await form_of(request)
    if not csrf_ok(session, form.get("csrf")):
        return forbidden(request)
    key = form.get("api_key", "").strip()
    error = None
    try:
        if not key:
            raise ApiError(401, "enter your API key")
        principal = await run_in_threadpool(authenticate_key, request, key)
        if principal.role not in PAGE_ROLES:
            raise ApiError(403, f"a {principal.role.value} key cannot use the review pages")
        check_allowed(principal, PAGE_ROLES)
    except ApiError as exc:
        error = "That API key was not accepted." if exc.http_status == 401 else exc.message
    if error is not None:
        return page(request, "signin.html", 401, session=session, error=error)
    await run_in_threadpool(store.drop, session.id if session else None)
    fresh = await run_in_threadpool(store.new, principals.key_hash(key))
    response = redirect("/worklist")
    set_cookie(request, response, fresh)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    """End the session."""
    store = session_store(request)
    session = await run_in_threadpool(session_of, request, store)
    form = await form_of(request)
    if not csrf_ok(session, form.get("csrf")):
        return forbidden(request)
    await run_in_threadpool(store.drop, session.id if session else None)
    response = redirect("/signin")
    response.delete_cookie("rd_session", path="/")
    return response


def _worklist(request: Request, principal: Principal) -> dict[str, Any]:
    state = app_state(request)
    chosen = request.query_params.get("state", "open")
    if chosen not in STATE_FILTERS:
        chosen = "open"
    prio_text = request.query_params.get("priority", "")
    priority = Priority(prio_text) if prio_text in {p.value for p in Priority} else None
    states: frozenset[str] | None
    if chosen == "open":
        states = frozenset({reports.QUEUED, reports.DRAFTING, reports.FAILED, "draft"})
    elif chosen == "all":
        states = None
    else:
        states = frozenset({chosen})
    with state.db.read() as db:
        entries = reports.worklist(
            db,
            facilities=principal.facilities,
            states=states,
            priority=priority,
            limit=WORKLIST_LIMIT,
        )
    rows = views.worklist_rows(
        entries, state.clock(), state.settings.routine_tat_min, reports.SIGNED_STATES
    )
    query = urlencode({"state": chosen, "priority": prio_text})
    return {
        "rows": rows,
        "state_filter": chosen,
        "priority_filter": prio_text,
        "state_filters": STATE_FILTERS,
        "priorities": [p.value for p in Priority],
        "query": query,
        "limit": WORKLIST_LIMIT,
    }


@router.get("/worklist")
def worklist(request: Request) -> Response:
    """The reports the key's facilities may see, STAT first, then longest waiting."""
    session, principal = signed_in(request)
    return page(
        request,
        "worklist.html",
        session=session,
        principal=principal,
        **_worklist(request, principal),
    )


@router.get("/worklist/rows")
def worklist_rows(request: Request) -> Response:
    """The worklist's table body (htmx polls it; the page keeps its scroll position)."""
    session, principal = signed_in(request)
    return page(request, "worklist_rows.html", session=session, **_worklist(request, principal))


@router.get("/reports/{report_id}")
def review(request: Request, report_id: str) -> Response:
    """The three-pane review page (read-only once signed)."""
    session, principal = signed_in(request)
    return review_page(request, session, principal, report_id)


@router.get("/reports/{report_id}/sign")
def sign_dialog(request: Request, report_id: str) -> Response:
    """The review page with the sign dialog open, listing every rule that would refuse."""
    session, principal = signed_in(request)
    return review_page(
        request, session, principal, report_id, sign_status=sign_status_for(principal)
    )


@router.get("/reports/{report_id}/amend")
def amend_form(request: Request, report_id: str) -> Response:
    """The signed report's statements made editable for an amendment (attending)."""
    session, principal = signed_in(request)
    return review_page(request, session, principal, report_id, amend=True)


@router.get("/reports/{report_id}/signed")
def signed_view(request: Request, report_id: str) -> Response:
    """The signed report: the PDF inline, FHIR and HL7 links, the audit trail."""
    session, principal = signed_in(request)
    try:
        stored = load_stored(request, principal, report_id)
        audit = exports.audit_trail(request, report_id, check_allowed(principal, PAGE_ROLES))
    except NotFoundError:
        return page(request, "not_found.html", 404, session=session, principal=principal)
    return page(
        request, "signed.html", session=session, principal=principal, stored=stored, audit=audit
    )


@router.get("/reports/{report_id}/files/{kind}")
def rendering(request: Request, report_id: str, kind: str) -> Response:
    """The verified PDF / FHIR / HL7 of a signed report (the API's renderer)."""
    session, principal = signed_in(request)
    if kind not in exports.RENDERINGS:
        return page(request, "not_found.html", 404, session=session, principal=principal)
    try:
        response = exports.render_report(request, principal, report_id, kind)
    except NotFoundError:
        return page(request, "not_found.html", 404, session=session, principal=principal)
    except ReportDraftError as exc:
        return secure(Response(exc.message, status_code=409, media_type="text/plain"))
    return secure(response, frameable=kind == "pdf")
