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
GET    /v1/reports/{id}/redline, /audit                 R A Q D
GET    /v1/reports/{id}/pdf, /fhir, /hl7   (?preview)   all
GET    /v1/radiologists/{id}/keys                       all
=====================================================  =========

Renderings verify first: every signature and version link of the stored report is checked
against the published keyring (each radiologist's keys with owner and revocation time);
a report that fails is refused with 409 ``signature_invalid`` and nothing is rendered. An
unsigned draft is refused (``not_signed``) unless ``preview=true`` asks for a preview,
which the renderers mark DRAFT / NOT FOR CLINICAL USE, without a signature block.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from reportdraft import attest
from reportdraft.api import service
from reportdraft.api.auth import READERS, Principal, app_state, require
from reportdraft.api.errors import ApiError
from reportdraft.api.schemas import (
    AddendumRequest,
    AmendRequest,
    AuditEntryOut,
    AuditOut,
    CommunicationAckRequest,
    CommunicationRequest,
    DecisionsRequest,
    EditRequest,
    ErrorBody,
    FlagAckRequest,
    OverdueItem,
    ReportOut,
    ReportPage,
    SignRequest,
)
from reportdraft.attest import KeyDocument
from reportdraft.errors import ConflictError
from reportdraft.models import Case, Priority
from reportdraft.models.report import Radiologist, Report, ReportStatus
from reportdraft.store import audit, reports, signing_keys
from reportdraft.store.principals import Role

W, R, A, Q, D = Role.WORKSTATION, Role.RADIOLOGIST, Role.ATTENDING, Role.QA, Role.ADMIN
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody}
    for status in (400, 401, 403, 404, 409, 412, 413, 422, 428, 429, 500, 501, 503)
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


def _path_id(report_id: str) -> str:
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
    response_model=ReportOut,
    summary="Create a report from a case; drafting runs in the background",
    responses={
        200: {"model": ReportOut, "description": "Idempotent replay"},
        201: {"model": ReportOut, "description": "Drafted (wait=true)"},
    },
)
def create_report(
    request: Request,
    response: Response,
    case: Case,
    principal: Annotated[Principal, Depends(require(W, D))],
    idempotency_key: IdempotencyKey = None,
    wait: Annotated[bool, Query(description="Wait for the draft (up to a timeout).")] = False,
) -> ReportOut:
    """Store the case and queue drafting (STAT first). Poll ``Location`` for the draft.

    202 with the queued report; 201 when ``wait=true`` and the draft is ready; 200 when the
    ``Idempotency-Key`` was seen before with the same body (the same report again).
    """
    state = app_state(request)
    canonical = json.dumps(case.model_dump(mode="json"), sort_keys=True).encode()
    created = reports.create(
        state.db,
        case=case,
        created_by=principal.key_id,
        now=state.clock(),
        idempotency_key=idempotency_key,
        body_sha256=reports.request_hash(canonical) if idempotency_key else None,
    )
    state.wake.set()
    stored = created.report
    if wait:
        stored = _wait_for_draft(request, stored.id)
    response.headers["Location"] = f"/v1/reports/{stored.id}"
    if not created.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    elif stored.state not in reports.PENDING_STATES:
        response.status_code = 201
    return _out(stored, response)


def _wait_for_draft(request: Request, report_id: str) -> reports.StoredReport:
    import time

    state = app_state(request)
    deadline = time.monotonic() + state.wait_timeout_s
    while True:
        with state.db.read() as session:
            stored = reports.get(session, report_id)
        if stored.state not in reports.PENDING_STATES or time.monotonic() > deadline:
            return stored
        time.sleep(0.1)


@router.get("/reports", response_model=ReportPage, summary="List reports, newest first")
def list_reports(
    request: Request,
    _: Annotated[Principal, Depends(require(*READERS))],
    status: Annotated[str | None, Query(pattern=r"^[a-z]{1,16}$")] = None,
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
        )
    return ReportPage(items=[service.summary(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/reports/{report_id}", response_model=ReportOut, summary="Get a report")
def get_report(
    request: Request,
    response: Response,
    report_id: str,
    _: Annotated[Principal, Depends(require(*READERS))],
) -> ReportOut:
    """The report with its draft (sources, flags, critical mentions) and current version."""
    state = app_state(request)
    with state.db.read() as session:
        stored = reports.get(session, _path_id(report_id))
    return _out(stored, response)


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
        _path_id(report_id),
        if_match=expected,
        actor=principal.actor,
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
        _path_id(report_id),
        if_match=required_version(if_match) if if_match else None,
        actor=principal.actor,
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
        _path_id(report_id),
        if_match=required_version(if_match) if if_match else None,
        actor=principal.actor,
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
    """Document the communication (or an override) of an alerting critical finding."""
    profile = service.signer(principal)

    def step(report: Report, now: Any) -> Report:
        record = service.new_communication(report, body, by=profile, now=now)
        change = service.signoff(communications=[record])
        return attest.edit(report, change, by=principal.actor, at=now)

    stored = service.mutate(
        app_state(request),
        _path_id(report_id),
        if_match=required_version(if_match) if if_match else None,
        actor=principal.actor,
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
    """Record the recipient's acknowledgement (and read-back) of a communication."""

    def step(report: Report, now: Any) -> Report:
        record = next((r for r in report.current.communications if r.id == communication_id), None)
        if record is None:
            raise ApiError(404, f"no communication {communication_id} in this report")
        if record.notified_at is None:
            raise ConflictError("this communication was overridden, not notified")
        updated = record.model_validate(
            {
                **record.model_dump(mode="json"),
                "acknowledged_at": (body.acknowledged_at or now).isoformat(),
                "read_back": body.read_back,
            }
        )
        change = service.signoff(communications=[updated])
        return attest.edit(report, change, by=principal.actor, at=now)

    stored = service.mutate(
        app_state(request),
        _path_id(report_id),
        if_match=None,
        actor=principal.actor,
        step=step,
    )
    return _out(stored, response)


@router.get("/communications/overdue", response_model=list[OverdueItem])
def overdue(
    request: Request,
    _: Annotated[Principal, Depends(require(R, A, Q, D))],
) -> list[OverdueItem]:
    """Critical results whose communication is overdue or escalated."""
    state = app_state(request)
    now = state.clock()
    with state.db.read() as session:
        page = reports.list_reports(session, critical_open=True, limit=200)
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
    if body.status is ReportStatus.FINAL and principal.role is not A:
        raise ApiError(403, "only an attending key may sign a final report")
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
        _path_id(report_id),
        if_match=expected,
        actor=principal.actor,
        step=lambda report, now: step(report, now, me),
    )
    return _out(stored, response)


def _drafted(request: Request, report_id: str) -> reports.StoredReport:
    with app_state(request).db.read() as session:
        stored = reports.get(session, _path_id(report_id))
    if stored.report is None or stored.draft is None:
        raise ConflictError(f"report {report_id} has no draft yet", code="not_drafted")
    return stored


@router.get("/reports/{report_id}/redline", summary="Draft vs current content, word level")
def redline(
    request: Request,
    report_id: str,
    _: Annotated[Principal, Depends(require(R, A, Q, D))],
) -> JSONResponse:
    """The radiologist's changes to the model's draft, with clinical change classes."""
    stored = _drafted(request, report_id)
    assert stored.draft is not None
    assert stored.report is not None
    try:
        module = importlib.import_module("reportdraft.redline")
    except ImportError:
        raise ApiError(501, "redline is not available in this installation") from None
    result = module.redline(stored.draft, stored.report.current)
    return JSONResponse(result.model_dump(mode="json"))


@router.get("/reports/{report_id}/audit", response_model=AuditOut)
def audit_trail(
    request: Request,
    report_id: str,
    _: Annotated[Principal, Depends(require(R, A, Q, D))],
) -> AuditOut:
    """Every audit entry of the report and whether the hash chain verifies."""
    with app_state(request).db.read() as session:
        reports.get(session, _path_id(report_id))
        chain = audit.entries(session, report_id)
    problem = audit.verify_chain(chain)
    return AuditOut(
        report_id=report_id,
        verified=problem is None,
        problem=problem,
        entries=[AuditEntryOut.model_validate(e.as_json()) for e in chain],
    )


Preview = Annotated[
    bool,
    Query(
        description="Render an unsigned draft as a preview (watermarked DRAFT / NOT FOR "
        "CLINICAL USE, no signature block); without it a draft is refused (not_signed)."
    ),
]
RENDERINGS = {
    "pdf": ("render_pdf", "application/pdf"),
    "fhir": ("render_fhir", "application/fhir+json"),
    "hl7": ("render_hl7", "x-application/hl7-v2+er7"),
}


def _render(request: Request, report_id: str, kind: str, *, preview: bool = False) -> Response:
    """Verify the stored report against the published keyring, then render it.

    What is verified is the JSON form of the report the renderer receives, so what is
    rendered is exactly what verified.
    """
    stored = _drafted(request, report_id)
    if stored.report is None:
        raise ConflictError(f"report {report_id} has no draft yet", code="not_drafted")
    problems = attest.verify_report_data(
        stored.report.model_dump(mode="json"), keyring=service.keyring(app_state(request))
    )
    if problems:
        raise ApiError(
            409,
            f"report {report_id} does not verify against the published keys; not rendered",
            code="signature_invalid",
            details={"problems": [{"code": p.code, "detail": p.detail} for p in problems]},
        )
    if not stored.report.current.is_signed and not preview:
        raise ConflictError(
            f"report {report_id} is not signed (status {stored.state}); renderings are of "
            "signed reports (preview=true renders an unsigned draft as a preview)",
            code="not_signed",
        )
    function, media_type = RENDERINGS[kind]
    try:
        module = importlib.import_module("reportdraft.render")
        render = getattr(module, function)
    except (ImportError, AttributeError):
        raise ApiError(501, f"{kind} rendering is not available in this installation") from None
    result = render(stored.report)
    if isinstance(result, bytes):
        content = result
    elif isinstance(result, str):
        content = result.encode("utf-8")
    else:
        content = json.dumps(result).encode("utf-8")
    return Response(content=content, media_type=media_type, headers={"ETag": stored.etag})


@router.get(
    "/reports/{report_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def pdf(
    request: Request,
    report_id: str,
    _: Annotated[Principal, Depends(require(*READERS))],
    preview: Preview = False,
) -> Response:
    """The signed report as PDF."""
    return _render(request, report_id, "pdf", preview=preview)


@router.get(
    "/reports/{report_id}/fhir",
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {}}}},
)
def fhir(
    request: Request,
    report_id: str,
    _: Annotated[Principal, Depends(require(*READERS))],
    preview: Preview = False,
) -> Response:
    """The signed report as a FHIR R4 Bundle (DiagnosticReport, Observations, Provenance)."""
    return _render(request, report_id, "fhir", preview=preview)


@router.get(
    "/reports/{report_id}/hl7",
    response_class=Response,
    responses={200: {"content": {"x-application/hl7-v2+er7": {}}}},
)
def hl7(
    request: Request,
    report_id: str,
    _: Annotated[Principal, Depends(require(*READERS))],
    preview: Preview = False,
) -> Response:
    """The signed report as an HL7 v2.5.1 ORU^R01 message."""
    return _render(request, report_id, "hl7", preview=preview)


@router.get(
    "/radiologists/{radiologist_id}/keys",
    response_model=list[KeyDocument],
    summary="A radiologist's public signing keys (key documents)",
)
def radiologist_keys(
    request: Request,
    radiologist_id: RadiologistId,
    _: Annotated[Principal, Depends(require(*READERS))],
) -> list[KeyDocument]:
    """Every key of the radiologist, oldest first, revoked ones included (they still
    verify what they signed before their revocation): the trust material a verifier needs,
    in the format ``reportdraft.attest.load_trusted_keys`` reads."""
    with app_state(request).db.read() as session:
        return [key.document() for key in signing_keys.list_keys(session, radiologist_id)]
