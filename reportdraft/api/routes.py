"""The report endpoints (``/v1/reports``, ``/v1/communications``).

Who may call what (roles: W workstation, R radiologist, A attending, Q qa, D admin):

=====================================================  =========
POST   /v1/reports                                      W D
GET    /v1/reports, /v1/reports/{id}                    all
PATCH  /v1/reports/{id}                   (If-Match)    R A
POST   /v1/reports/{id}/decisions                       R A
POST   /v1/reports/{id}/flags/{flag_id}/ack             R A
POST   /v1/reports/{id}/communications                  R A
POST   /v1/reports/{id}/communications/{cid}/ack        W R A
GET    /v1/communications/overdue                       R A Q D
POST   /v1/reports/{id}/sign                (If-Match)  R A  (final: A only)
POST   /v1/reports/{id}/amend               (If-Match)  A
POST   /v1/reports/{id}/addenda             (If-Match)  A
GET    /v1/reports/{id}/redline, /audit                 R A Q D  (``api.exports``)
GET    /v1/reports/{id}/pdf, /fhir, /hl7   (?preview)   all      (``api.exports``)
GET    /v1/radiologists/{id}/keys                       all      (``api.exports``)
=====================================================  =========

Every key but an admin key is scoped to facilities (``reportdraft.api.auth``): each
endpoint above reads reports only through ``service.load_report`` (listings through
``reports.list_reports`` with the key's facilities), so another facility's report answers
404 exactly like a missing one and never appears in a list; a case for a facility
outside the key's scope is refused (403 ``facility_forbidden``, 422
``facility_required`` when it names none).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response

from reportdraft import attest
from reportdraft.api import service
from reportdraft.api.auth import (
    READERS,
    Principal,
    app_state,
    authorize_read,
    require,
)
from reportdraft.api.error_bodies import ApiError
from reportdraft.api.schemas import (
    CASE_EXAMPLE,
    REPORT_STATES,
    AddendumRequest,
    AmendRequest,
    CommunicationAckRequest,
    CommunicationRequest,
    CreatedReport,
    DecisionsRequest,
    EditRequest,
    ErrorBody,
    FlagAckRequest,
    OverdueItem,
    ReportOut,
    ReportPage,
    ReportWarning,
    SignRequest,
)
from reportdraft.models import Case, Priority
from reportdraft.models.report import Radiologist, Report
from reportdraft.store import reports
from reportdraft.store.principals import Role

W, R, A, Q, D = Role.WORKSTATION, Role.RADIOLOGIST, Role.ATTENDING, Role.QA, Role.ADMIN
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody}
    for status in (400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429, 500, 501, 503)
}
router = APIRouter(prefix="/v1", responses=ERRORS)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        pattern=r"^[\x21-\x7e]{1,200}$",
        description="A client-chosen key: a retry with the same key and body returns the "
        "same report instead of creating another.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=40, description="The ETag of the version you read."),
]
RadiologistId = Annotated[str, Path(pattern=r"^[A-Za-z0-9\-_.@]{1,64}$")]
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def path_id(report_id: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9\-_.]{1,64}", report_id):
        raise ApiError(404, f"no report {report_id[:64]!r}")
    return report_id


def required_version(if_match: str | None) -> int:
    """The version an ``If-Match`` header names (428 when missing, 412 when malformed)."""
    if if_match is None:
        raise ApiError(428, "this change needs an If-Match header with the report's ETag")
    found = _ETAG.match(if_match)
    if found is None:
        raise ApiError(412, 'If-Match must be an ETag this service issued, e.g. "3"')
    return int(found.group(1))


def _out(stored: reports.StoredReport, response: Response) -> ReportOut:
    response.headers["ETag"] = stored.etag
    return service.to_out(stored)


@router.post(
    "/reports",
    status_code=202,
    response_model=CreatedReport,
    summary="Create a report from a case; drafting runs in the background",
    responses={
        200: {"model": CreatedReport, "description": "Idempotent replay"},
        201: {"model": CreatedReport, "description": "Drafted (wait=true)"},
    },
)
def create_report(
    request: Request,
    response: Response,
    case: Annotated[Case, Body(openapi_examples={"chest_xr": {"value": CASE_EXAMPLE}})],
    principal: Annotated[Principal, Depends(require(W, D))],
    idempotency_key: IdempotencyKey = None,
    wait: Annotated[bool, Query(description="Wait for the draft (up to a timeout).")] = False,
) -> CreatedReport:
    """Store the case and queue drafting (STAT first). Poll ``Location`` for the draft.

    202 with the queued report; 201 when ``wait=true`` and the draft is ready; 200 when the
    ``Idempotency-Key`` was seen before with the same body (the same report again).
    ``warnings`` names other reports of the same accession at the same facility (a
    re-read is allowed; the draft gets a low ``duplicate_accession`` flag).
    """
    principal.check_may_create(reports.facility_of(case))
    state = app_state(request)
    canonical = json.dumps(case.model_dump(mode="json"), sort_keys=True).encode()
    created = reports.create(
        state.db,
        case=case,
        created_by=principal.key_id,
        now=state.clock(),
        idempotency_key=idempotency_key,
        body_sha256=reports.request_hash(canonical) if idempotency_key else None,
        facilities=principal.facilities,
    )
    state.wake.set()
    stored = created.report
    if wait:
        stored = _wait_for_draft(request, principal, stored.id)
    response.headers["Location"] = f"/v1/reports/{stored.id}"
    if not created.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    elif stored.state not in reports.PENDING_STATES:
        response.status_code = 201
    with state.db.read() as session:
        others = reports.same_accession(
            session, accession=stored.accession, facility=stored.facility, exclude=stored.id
        )
    warnings = (
        [
            ReportWarning(
                code="duplicate_accession",
                message=f"accession {stored.accession} at facility {stored.facility} already "
                f"has {len(others)} other report(s); this one was created all the same",
                report_ids=others,
            )
        ]
        if others
        else []
    )
    return CreatedReport.model_validate({**dict(_out(stored, response)), "warnings": warnings})


def _wait_for_draft(request: Request, principal: Principal, report_id: str) -> reports.StoredReport:
    import time

    state = app_state(request)
    deadline = time.monotonic() + state.wait_timeout_s
    while True:
        with state.db.read() as session:
            stored = service.load_report(session, principal, report_id)
        if stored.state not in reports.PENDING_STATES or time.monotonic() > deadline:
            return stored
        time.sleep(0.1)


@router.get("/reports", response_model=ReportPage, summary="List reports, newest first")
def list_reports(
    request: Request,
    principal: Annotated[Principal, Depends(require(*READERS))],
    status: Annotated[
        str | None,
        Query(
            pattern=f"^({'|'.join(REPORT_STATES)})$",
            description=f"One of: {', '.join(REPORT_STATES)}.",
        ),
    ] = None,
    priority: Priority | None = None,
    accession: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9\-_.]{1,32}$")] = None,
    critical_open: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9\-_.]{1,64}$")] = None,
) -> ReportPage:
    """Filter by status, priority, accession or open critical results; page with cursor."""
    state = app_state(request)
    with state.db.read() as session:
        page = reports.list_reports(
            session,
            state=status,
            priority=priority,
            accession=accession,
            critical_open=critical_open,
            limit=limit,
            cursor=cursor,
            facilities=principal.facilities,
        )
    return ReportPage(items=[service.summary(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/reports/{report_id}", response_model=ReportOut, summary="Get a report")
def get_report(request: Request, report_id: str) -> Response:
    """The report with its draft (sources, flags, critical mentions) and current version."""
    state = app_state(request)
    # The key and the report's version in one statement (every role may read: READERS).
    report_id = path_id(report_id)
    with state.db.read() as session:
        principal, version = authorize_read(request, session, report_id, *READERS)
        body, etag = service.report_body(state, session, principal, report_id, version)
    # Already serialised from a validated ReportOut (service.report_body): returned as is.
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.patch("/reports/{report_id}", response_model=ReportOut, summary="Edit the draft")
def edit_report(
    request: Request,
    response: Response,
    report_id: str,
    body: EditRequest,
    principal: Annotated[Principal, Depends(require(R, A))],
    if_match: IfMatch = None,
) -> ReportOut:
    """Apply statement edits (or replace the content) of the unsigned draft version."""
    expected = required_version(if_match)
    state = app_state(request)
    change = service.signoff(content=body.content, statement_edits=body.statement_edits)
    stored = service.mutate(
        state,
        path_id(report_id),
        if_match=expected,
        principal=principal,
        step=lambda report, now: attest.edit(report, change, by=principal.actor, at=now),
    )
    return _out(stored, response)


@router.post("/reports/{report_id}/decisions", response_model=ReportOut)
def decide(
    request: Request,
    response: Response,
    report_id: str,
    body: DecisionsRequest,
    principal: Annotated[Principal, Depends(require(R, A))],
    if_match: IfMatch = None,
) -> ReportOut:
    """Confirm or reject AI findings (If-Match optional: decisions merge)."""
    change = service.signoff(decisions=body.decisions)
    stored = service.mutate(
        app_state(request),
        path_id(report_id),
        if_match=required_version(if_match) if if_match else None,
        principal=principal,
        step=lambda report, now: attest.edit(report, change, by=principal.actor, at=now),
    )
    return _out(stored, response)


@router.post("/reports/{report_id}/flags/{flag_id}/ack", response_model=ReportOut)
def acknowledge_flag(
    request: Request,
    response: Response,
    report_id: str,
    flag_id: Annotated[str, Path(pattern=r"^F\d{1,4}$")],
    body: FlagAckRequest,
    principal: Annotated[Principal, Depends(require(R, A))],
    if_match: IfMatch = None,
) -> ReportOut:
    """Acknowledge a verifier flag with the reason it may stand."""
    change = service.ack(flag_id, body.reason)
    stored = service.mutate(
        app_state(request),
        path_id(report_id),
        if_match=required_version(if_match) if if_match else None,
        principal=principal,
        step=lambda report, now: attest.edit(report, change, by=principal.actor, at=now),
    )
    return _out(stored, response)


@router.post("/reports/{report_id}/communications", response_model=ReportOut)
def communicate(
    request: Request,
    response: Response,
    report_id: str,
    body: CommunicationRequest,
    principal: Annotated[Principal, Depends(require(R, A))],
    if_match: IfMatch = None,
) -> ReportOut:
    """Document the communication (or an override) of an alerting critical finding.

    Refusals (422 unless said): ``notified_in_future`` (later than the service clock plus
    ``REPORTDRAFT_CLOCK_SKEW_S``), ``notified_before_acquisition``, ``read_back_missing``,
    ``override_code_missing`` / ``override_code_unknown`` / ``override_reason_insufficient``,
    and 403 ``override_not_attending`` (an override needs an attending's key).
    """
    profile = service.signer(principal)
    state = app_state(request)
    skew = timedelta(seconds=state.settings.clock_skew_s)
    attending = service.is_attending(principal, profile)

    def step(report: Report, now: datetime) -> Report:
        record = service.new_communication(
            report, body, by=profile, attending=attending, now=now, skew=skew
        )
        change = service.signoff(communications=[record])
        return attest.edit(report, change, by=principal.actor, at=now)

    stored = service.mutate(
        state,
        path_id(report_id),
        if_match=required_version(if_match) if if_match else None,
        principal=principal,
        step=step,
    )
    return _out(stored, response)


@router.post("/reports/{report_id}/communications/{communication_id}/ack", response_model=ReportOut)
def acknowledge_communication(
    request: Request,
    response: Response,
    report_id: str,
    communication_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9\-_]{1,64}$")],
    body: CommunicationAckRequest,
    principal: Annotated[Principal, Depends(require(W, R, A))],
) -> ReportOut:
    """Record the recipient's acknowledgement (and read-back, when given) of a communication.

    Refused with 422 ``acknowledged_in_future`` past the service clock plus the skew.
    """
    state = app_state(request)
    skew = timedelta(seconds=state.settings.clock_skew_s)

    def step(report: Report, now: datetime) -> Report:
        updated = service.acknowledged(report, communication_id, body, now=now, skew=skew)
        change = service.signoff(communications=[updated])
        return attest.edit(report, change, by=principal.actor, at=now)

    stored = service.mutate(
        state,
        path_id(report_id),
        if_match=None,
        principal=principal,
        step=step,
    )
    return _out(stored, response)


@router.get("/communications/overdue", response_model=list[OverdueItem])
def overdue(
    request: Request,
    principal: Annotated[Principal, Depends(require(R, A, Q, D))],
) -> list[OverdueItem]:
    """Critical results (of the key's facilities) whose communication is overdue or escalated."""
    state = app_state(request)
    now = state.clock()
    with state.db.read() as session:
        page = reports.list_reports(
            session, critical_open=True, limit=200, facilities=principal.facilities
        )
    items = []
    for stored in page.items:
        if stored.report is None:
            continue
        for mention, record in service.pending_records(stored.report):
            effective = record or service.placeholder_record(stored.report, mention)
            status = service.communication_state(effective, now)
            if status.value not in ("overdue", "escalated"):
                continue
            items.append(
                OverdueItem(
                    report_id=stored.id,
                    accession_number=stored.accession,
                    finding_code=mention.finding_code,
                    label=mention.label,
                    category=mention.category,
                    state=status,
                    identified_at=effective.identified_at,
                    communication_id=record.id if record else None,
                )
            )
    return items


@router.post("/reports/{report_id}/sign", response_model=ReportOut, summary="Sign the draft")
def sign_report(
    request: Request,
    response: Response,
    report_id: str,
    body: SignRequest,
    principal: Annotated[Principal, Depends(require(R, A))],
    if_match: IfMatch = None,
) -> ReportOut:
    """Sign as ``preliminary`` or ``final`` (final needs an attending key); 409 on refusal."""
    service.check_may_sign(principal, body.status)
    return _as_signer(
        request,
        response,
        report_id,
        principal,
        if_match,
        lambda report, now, me: attest.sign(
            report,
            to_status=body.status,
            reason=body.reason,
            at=now,
            signer=me.profile,
            key=me.key,
            keyring=me.keyring,
        ),
    )


@router.post("/reports/{report_id}/amend", response_model=ReportOut)
def amend_report(
    request: Request,
    response: Response,
    report_id: str,
    body: AmendRequest,
    principal: Annotated[Principal, Depends(require(A))],
    if_match: IfMatch = None,
) -> ReportOut:
    """Amend or correct a signed report: a new signed version, with the reason."""
    change = service.signoff(
        content=body.content, statement_edits=body.statement_edits, reason=body.reason
    )
    return _as_signer(
        request,
        response,
        report_id,
        principal,
        if_match,
        lambda report, now, me: attest.sign(
            report,
            to_status=body.status,
            signoff=change,
            reason=body.reason,
            at=now,
            signer=me.profile,
            key=me.key,
            keyring=me.keyring,
        ),
    )


@router.post("/reports/{report_id}/addenda", response_model=ReportOut)
def add_addendum(
    request: Request,
    response: Response,
    report_id: str,
    body: AddendumRequest,
    principal: Annotated[Principal, Depends(require(A))],
    if_match: IfMatch = None,
) -> ReportOut:
    """Append a signed addendum to a signed report."""
    return _as_signer(
        request,
        response,
        report_id,
        principal,
        if_match,
        lambda report, now, me: attest.add_addendum(
            report,
            text=body.text,
            author=me.profile,
            key=me.key,
            at=now,
            reason=body.reason,
            keyring=me.keyring,
        ),
    )


class _Signer(NamedTuple):
    """Who signs: the caller's profile, its signing key and the keyring to verify with."""

    profile: Radiologist
    key: attest.SigningKey
    keyring: Mapping[str, attest.VerifyKey]


def _as_signer(
    request: Request,
    response: Response,
    report_id: str,
    principal: Principal,
    if_match: str | None,
    step: Callable[[Report, datetime, _Signer], Report],
) -> ReportOut:
    """Apply a signing ``step`` as the caller's radiologist profile with their own active
    key (unsealed for this request), through the conditional (If-Match) update of
    ``service.mutate``. The published keyring goes along, so the lifecycle checks the key
    is the signer's and unrevoked, and that the earlier versions verify."""
    expected = required_version(if_match)
    state = app_state(request)
    profile = service.signer(principal)
    me = _Signer(profile, service.signing_key(state, profile), service.keyring(state))
    stored = service.mutate(
        state,
        path_id(report_id),
        if_match=expected,
        principal=principal,
        step=lambda report, now: step(report, now, me),
    )
    return _out(stored, response)
