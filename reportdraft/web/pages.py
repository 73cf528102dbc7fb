"""The radiologist's review pages: routes over the API's own endpoint functions.

Every change a page makes is the JSON API's endpoint function called with the page's
principal (``reportdraft.api.routes``: ``edit_report``, ``decide``, ``acknowledge_flag``,
``communicate``, ``sign_report``, ``amend_report``, ``add_addendum``), so the If-Match
check, the sign-off rules, the audit entries and the webhooks are exactly the API's.
Reads go through ``service.load_report`` (facility scope: another facility's report is
"not found", as in the API) and renderings through ``exports.render_report`` (verified
before rendering).

Roles on the pages: radiologist, attending and qa keys may sign in (qa reads only);
the role of each action is the API's matrix (``EDITORS``, ``ATTENDINGS``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from reportdraft.api import exports, routes, service
from reportdraft.api.auth import Principal, app_state, authenticate_key, check_allowed
from reportdraft.api.error_bodies import ApiError
from reportdraft.api.schemas import (
    AddendumRequest,
    AmendRequest,
    CommunicationRequest,
    DecisionsRequest,
    EditRequest,
    FlagAckRequest,
    SignRequest,
)
from reportdraft.attest import StatementEdit
from reportdraft.errors import NotFoundError, ReportDraftError
from reportdraft.models import Decision, Priority
from reportdraft.models.report import ReportStatus
from reportdraft.store import reports
from reportdraft.store.principals import Role
from reportdraft.web import views
from reportdraft.web.sessions import (
    Session,
    SessionStore,
    csrf_ok,
    secure,
    session_of,
    set_cookie,
)

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_FILES = {
    "htmx.min.js": "text/javascript",
    "app.js": "text/javascript",
    "app.css": "text/css",
}
"""The only files ``/static`` serves (htmx 2, vendored with its 0BSD licence; ours)."""
PAGE_ROLES = frozenset({Role.RADIOLOGIST, Role.ATTENDING, Role.QA})
EDITORS = frozenset({Role.RADIOLOGIST, Role.ATTENDING})
ATTENDINGS = frozenset({Role.ATTENDING})
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

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
router = APIRouter(include_in_schema=False)


class SignedOut(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The request has no usable session: send the browser to the sign-in page."""


def _store(request: Request) -> SessionStore:
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
    flash = list(session.flash) if session else []
    if session:
        session.flash.clear()
    html = templates.get_template(name).render(
        session=session, flash=flash, csrf=session.csrf if session else "", **context
    )
    return secure(HTMLResponse(html, status_code=status))  # type: ignore[return-value]


def redirect(url: str) -> Response:
    """A 303 to ``url`` (after a POST: the browser then GETs it)."""
    return secure(RedirectResponse(url, status_code=303))


def signed_in(request: Request) -> tuple[Session, Principal]:
    """The session and its principal, or :class:`SignedOut`."""
    session = session_of(request, _store(request))
    if session is None or session.api_key is None:
        raise SignedOut
    try:
        principal = authenticate_key(request, session.api_key)
        check_allowed(principal, PAGE_ROLES)
    except ApiError as exc:
        if exc.http_status == 429:
            raise
        _store(request).drop(session.id)
        raise SignedOut from None
    return session, principal


async def form_of(request: Request) -> dict[str, str]:
    """The urlencoded form body (last value of each field)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def install(app: FastAPI) -> None:
    """Mount the pages and their static files on the API ``app``."""
    app.state.web_sessions = SessionStore()

    async def signed_out(request: Request, exc: SignedOut) -> Response:
        return redirect("/signin")

    app.add_exception_handler(SignedOut, signed_out)  # type: ignore[arg-type]
    app.include_router(router)


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
    session = session_of(request, _store(request))
    return redirect("/worklist" if session and session.api_key else "/signin")


@router.get("/signin")
def signin_form(request: Request) -> Response:
    """The sign-in form (an anonymous session carries its CSRF token)."""
    store = _store(request)
    session = session_of(request, store) or store.new()
    response = page(request, "signin.html", session=session, error=None)
    set_cookie(request, response, session)
    return response


@router.post("/signin")
async def signin(request: Request) -> Response:
    """Check the key and keep it in a new server-side session."""
    store = _store(request)
    session = session_of(request, store)
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
    store.drop(session.id if session else None)
    fresh = store.new(api_key=key)
    response = redirect("/worklist")
    set_cookie(request, response, fresh)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    """End the session."""
    store = _store(request)
    session = session_of(request, store)
    form = await form_of(request)
    if not csrf_ok(session, form.get("csrf")):
        return forbidden(request)
    store.drop(session.id if session else None)
    response = redirect("/signin")
    response.delete_cookie("rd_session", path="/")
    return response


def forbidden(request: Request) -> Response:
    """The answer to a form without the session's CSRF token."""
    return secure(
        HTMLResponse(
            "<!doctype html><title>Refused</title><p>Refused: the form's security token is "
            "missing or out of date. Go back, reload the page and try again.</p>",
            status_code=403,
        )
    )


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


def _load(request: Request, principal: Principal, report_id: str) -> reports.StoredReport:
    with app_state(request).db.read() as db:
        return service.load_report(db, principal, routes.path_id(report_id))


def _review(
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
    try:
        stored = _load(request, principal, report_id)
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


@router.get("/reports/{report_id}")
def review(request: Request, report_id: str) -> Response:
    """The three-pane review page (read-only once signed)."""
    session, principal = signed_in(request)
    return _review(request, session, principal, report_id)


def sign_status_for(principal: Principal) -> ReportStatus:
    """What this key signs: final for an attending key, preliminary otherwise."""
    return ReportStatus.FINAL if principal.role is Role.ATTENDING else ReportStatus.PRELIMINARY


@router.get("/reports/{report_id}/sign")
def sign_dialog(request: Request, report_id: str) -> Response:
    """The review page with the sign dialog open, listing every rule that would refuse."""
    session, principal = signed_in(request)
    return _review(request, session, principal, report_id, sign_status=sign_status_for(principal))


@router.get("/reports/{report_id}/amend")
def amend_form(request: Request, report_id: str) -> Response:
    """The signed report's statements made editable for an amendment (attending)."""
    session, principal = signed_in(request)
    return _review(request, session, principal, report_id, amend=True)


def _edits(stored: reports.StoredReport, form: dict[str, str]) -> list[StatementEdit]:
    """Statement edits for every textbox whose text differs from the current version."""
    if stored.report is None:
        return []
    edits = []
    for statement in stored.report.current.statements():
        text = form.get(f"text-{statement.id}")
        if text is None:
            continue
        text = text.strip()
        if text == statement.text:
            continue
        edits.append(
            StatementEdit(id=statement.id, delete=True)
            if not text
            else StatementEdit(id=statement.id, text=text)
        )
    for section in stored.report.current.content:
        added = form.get(f"new-{section.kind.value}", "").strip()
        if added:  # a sentence the radiologist wrote: cites R:radiologist
            edits.append(StatementEdit(section=section.kind, text=added))
    return edits


async def _action(
    request: Request,
    report_id: str,
    roles: frozenset[Role],
    act: Callable[[Session, Principal, dict[str, str], Response], str | Response | None],
) -> Response:
    """Run one state-changing form: CSRF, role, then ``act`` in the thread pool.

    ``act`` returns a flash line (then the browser is sent back to the report), or a
    response of its own. A domain refusal becomes the flash line; the page lists it.
    """
    form = await form_of(request)
    session, principal = signed_in(request)
    if not csrf_ok(session, form.get("csrf")):
        return forbidden(request)
    back = f"/reports/{report_id}"
    try:
        check_allowed(principal, roles)
        outcome = await run_in_threadpool(act, session, principal, form, Response())
    except NotFoundError:
        return page(request, "not_found.html", 404, session=session, principal=principal)
    except ReportDraftError as exc:
        outcome = f"Refused: {exc.message}"
    except (ValidationError, ValueError) as exc:
        outcome = f"Not saved: {_first_error(exc)}"
    if isinstance(outcome, Response):
        return outcome
    if outcome:
        session.flash.append(outcome)
    return redirect(back + form.get("anchor", ""))


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', '')}".strip(": ")
    return str(exc)


def _etag(form: dict[str, str]) -> str:
    return f'"{form.get("etag", "")}"'


@router.post("/reports/{report_id}/save")
async def save(request: Request, report_id: str) -> Response:
    """Store the edited statements through the API's edit path (If-Match: the page's ETag)."""

    def act(
        session: Session, principal: Principal, form: dict[str, str], response: Response
    ) -> str | Response:
        stored = _load(request, principal, report_id)
        edits = _edits(stored, form)
        if not edits:
            return "Nothing to save: no statement changed."
        try:
            routes.edit_report(
                request,
                response,
                report_id,
                EditRequest(statement_edits=edits),
                principal,
                _etag(form),
            )
        except reports.StaleVersion:
            texts = {k.removeprefix("text-"): v for k, v in form.items() if k.startswith("text-")}
            texts.update({k: v for k, v in form.items() if k.startswith("new-")})
            return _review(
                request,
                session,
                principal,
                report_id,
                status=409,
                edits=texts,
                conflict="This report was changed by someone else — reload to see their "
                "changes. Your edits were not saved.",
            )
        return f"Saved {len(edits)} change(s)."

    return await _action(request, report_id, EDITORS, act)


@router.post("/reports/{report_id}/decide")
async def decide(request: Request, report_id: str) -> Response:
    """Confirm or reject one AI finding."""

    def act(
        session: Session, principal: Principal, form: dict[str, str], response: Response
    ) -> str:
        finding, decision = form.get("finding", ""), Decision(form.get("decision", ""))
        body = DecisionsRequest.model_validate({"decisions": {finding: decision.value}})
        routes.decide(request, response, report_id, body, principal, None)
        return f"AI finding {finding} {decision.value}."

    return await _action(request, report_id, EDITORS, act)


@router.post("/reports/{report_id}/ack")
async def acknowledge(request: Request, report_id: str) -> Response:
    """Acknowledge a flag with the radiologist's reason."""

    def act(
        session: Session, principal: Principal, form: dict[str, str], response: Response
    ) -> str:
        flag = form.get("flag", "")
        body = FlagAckRequest.model_validate({"reason": form.get("reason", "").strip()})
        routes.acknowledge_flag(request, response, report_id, flag, body, principal, None)
        return f"Flag {flag} acknowledged."

    return await _action(request, report_id, EDITORS, act)


@router.post("/reports/{report_id}/communicate")
async def communicate(request: Request, report_id: str) -> Response:
    """Document the communication of a critical result."""

    def act(
        session: Session, principal: Principal, form: dict[str, str], response: Response
    ) -> str:
        now = app_state(request).clock()
        body = CommunicationRequest.model_validate(
            {
                "finding_code": form.get("finding", ""),
                "recipient": {
                    "name": form.get("recipient_name", "").strip(),
                    "role": form.get("recipient_role", "").strip(),
                },
                "method": form.get("method", ""),
                "notified_at": views.parse_notified(form.get("notified_at", ""), now),
                "read_back": form.get("read_back") == "yes",
            }
        )
        routes.communicate(request, response, report_id, body, principal, None)
        return f"Communication of {body.finding_code} recorded."

    return await _action(request, report_id, EDITORS, act)


@router.post("/reports/{report_id}/sign")
async def sign(request: Request, report_id: str) -> Response:
    """Sign as the key's status (final for an attending, preliminary otherwise)."""

    def act(
        session: Session, principal: Principal, form: dict[str, str], response: Response
    ) -> str:
        status = sign_status_for(principal)
        body = SignRequest.model_validate({"status": status.value})
        routes.sign_report(request, response, report_id, body, principal, _etag(form))
        return f"Signed as {status.value}."

    return await _action(request, report_id, EDITORS, act)


@router.post("/reports/{report_id}/addendum")
async def addendum(request: Request, report_id: str) -> Response:
    """Append a signed addendum (attending)."""

    def act(
        session: Session, principal: Principal, form: dict[str, str], response: Response
    ) -> str:
        body = AddendumRequest.model_validate(
            {"text": form.get("text", "").strip(), "reason": form.get("reason", "").strip() or None}
        )
        routes.add_addendum(request, response, report_id, body, principal, _etag(form))
        return "Addendum signed."

    return await _action(request, report_id, ATTENDINGS, act)


@router.post("/reports/{report_id}/amend")
async def amend(request: Request, report_id: str) -> Response:
    """Sign an amended version of a signed report (attending)."""

    def act(
        session: Session, principal: Principal, form: dict[str, str], response: Response
    ) -> str:
        stored = _load(request, principal, report_id)
        edits = _edits(stored, form)
        body = AmendRequest.model_validate(
            {
                "status": "amended",
                "reason": form.get("reason", "").strip(),
                "statement_edits": [e.model_dump(exclude_none=True) for e in edits],
            }
        )
        routes.amend_report(request, response, report_id, body, principal, _etag(form))
        return "Amendment signed."

    return await _action(request, report_id, ATTENDINGS, act)


@router.get("/reports/{report_id}/signed")
def signed_view(request: Request, report_id: str) -> Response:
    """The signed report: the PDF inline, FHIR and HL7 links, the audit trail."""
    session, principal = signed_in(request)
    try:
        stored = _load(request, principal, report_id)
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


def _datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


templates.filters["when"] = _datetime
