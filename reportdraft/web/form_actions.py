"""The review page's state-changing forms: each one is the JSON API's endpoint function.

Every change a page makes is the API's endpoint function called with the page's
principal (``reportdraft.api.routes``: ``edit_report``, ``decide``, ``acknowledge_flag``,
``communicate``, ``sign_report``, ``amend_report``, ``add_addendum``), so the If-Match
check, the sign-off rules, the audit entries and the webhooks are exactly the API's.
Each form goes through :func:`_action` (CSRF, role, then the call in the thread pool), so a
refusal is a flash line on the report, never a page of its own.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from reportdraft.api import routes
from reportdraft.api.auth import Principal, app_state, check_allowed
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
from reportdraft.models import Decision
from reportdraft.store import reports
from reportdraft.store.principals import Role
from reportdraft.web import views
from reportdraft.web.page_kit import (
    ATTENDINGS,
    EDITORS,
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
from reportdraft.web.sessions import Session, csrf_ok

router = APIRouter(include_in_schema=False)


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
    """Run one state-changing form: CSRF, role, then ``act``, all database work in the
    thread pool.

    ``act`` returns a flash line (then the browser is sent back to the report), or a
    response of its own. A domain refusal becomes the flash line; the page lists it.
    """
    form = await form_of(request)
    # The session and the key are database reads: off the event loop, like ``act``.
    session, principal = await run_in_threadpool(signed_in, request)
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
        await run_in_threadpool(session_store(request).flash, session, outcome)
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
        stored = load_stored(request, principal, report_id)
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
            return review_page(
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
        stored = load_stored(request, principal, report_id)
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
