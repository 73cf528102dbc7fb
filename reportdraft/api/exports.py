"""Read-only exports of a report: redline, audit trail, renderings; published keys.

Renderings verify first: every signature and version link of the stored report is checked
against the published keyring (each radiologist's keys with owner and revocation time),
through the same rules as ``reportdraft render`` (``reportdraft.render.trust``); a report
that fails is refused with 409 ``signature_invalid`` and nothing is rendered. An unsigned
draft is refused (``not_signed``) unless ``preview=true`` asks for a preview, which the
renderers mark DRAFT / NOT FOR CLINICAL USE, without a signature block. Reports are read
through ``service.load_report``, so another facility's report answers 404. The role
matrix is in ``reportdraft.api.routes``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from reportdraft.api import service
from reportdraft.api.auth import READERS, Principal, app_state, require
from reportdraft.api.routes import ERRORS, A, D, Q, R, RadiologistId, path_id
from reportdraft.api.schemas import AuditEntryOut, AuditOut
from reportdraft.attest import KeyDocument
from reportdraft.errors import ConflictError
from reportdraft.models import Draft
from reportdraft.models.report import Report
from reportdraft.redline import redline as compute_redline
from reportdraft.render import render_fhir, render_hl7, render_pdf
from reportdraft.render.trust import renderable, verified_report
from reportdraft.store import reports, signing_keys
from reportdraft.store.audit_trail import entries, verify_chain

router = APIRouter(prefix="/v1", responses=ERRORS)


def _drafted(
    request: Request, principal: Principal, report_id: str
) -> tuple[reports.StoredReport, Draft, Report]:
    """The report the caller may see, with its model draft and attested report (409
    ``not_drafted`` while drafting has not finished)."""
    with app_state(request).db.read() as session:
        stored = service.load_report(session, principal, path_id(report_id))
    if stored.report is None or stored.draft is None:
        raise ConflictError(f"report {report_id} has no draft yet", code="not_drafted")
    return stored, stored.draft, stored.report


@router.get("/reports/{report_id}/redline", summary="Draft vs current content, word level")
def redline(
    request: Request,
    report_id: str,
    principal: Annotated[Principal, Depends(require(R, A, Q, D))],
) -> JSONResponse:
    """The radiologist's changes to the model's draft, with clinical change classes."""
    _, draft, report = _drafted(request, principal, report_id)
    result = compute_redline(draft, report.current)
    return JSONResponse(result.model_dump(mode="json"))


@router.get("/reports/{report_id}/audit", response_model=AuditOut)
def audit_trail(
    request: Request,
    report_id: str,
    principal: Annotated[Principal, Depends(require(R, A, Q, D))],
) -> AuditOut:
    """Every audit entry of the report and whether the hash chain verifies."""
    with app_state(request).db.read() as session:
        service.load_report(session, principal, path_id(report_id))
        chain = entries(session, report_id)
    problem = verify_chain(chain)
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
RENDERINGS: dict[str, tuple[Callable[[Report, bool], bytes], str]] = {
    "pdf": (lambda report, preview: render_pdf(report, preview=preview), "application/pdf"),
    "fhir": (
        lambda report, preview: json.dumps(render_fhir(report, preview=preview)).encode("utf-8"),
        "application/fhir+json",
    ),
    "hl7": (
        lambda report, preview: render_hl7(report, preview=preview).encode("utf-8"),
        "x-application/hl7-v2+er7",
    ),
}
"""Each rendering: the function producing its bytes (given the preview choice), media type."""


def render_report(
    request: Request, principal: Principal, report_id: str, kind: str, *, preview: bool = False
) -> Response:
    """Verify the stored report against the published keyring, then render it.

    The same rules as ``reportdraft render`` (``reportdraft.render.trust``): every signature
    and version link of the report's JSON form is verified first (409 ``signature_invalid``
    with every problem in ``details``), so what is rendered is exactly what verified; an
    unsigned draft renders only with ``preview=true`` (409 ``not_signed`` otherwise).
    """
    stored, _, report = _drafted(request, principal, report_id)
    verified = verified_report(report.model_dump(mode="json"), service.keyring(app_state(request)))
    renderable(verified, preview=preview)
    produce, media_type = RENDERINGS[kind]
    return Response(
        content=produce(verified, preview),
        media_type=media_type,
        headers={"ETag": stored.etag},
    )


@router.get(
    "/reports/{report_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def pdf(
    request: Request,
    report_id: str,
    principal: Annotated[Principal, Depends(require(*READERS))],
    preview: Preview = False,
) -> Response:
    """The signed report as PDF."""
    return render_report(request, principal, report_id, "pdf", preview=preview)


@router.get(
    "/reports/{report_id}/fhir",
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {}}}},
)
def fhir(
    request: Request,
    report_id: str,
    principal: Annotated[Principal, Depends(require(*READERS))],
    preview: Preview = False,
) -> Response:
    """The signed report as a FHIR R4 Bundle (DiagnosticReport, Observations, Provenance)."""
    return render_report(request, principal, report_id, "fhir", preview=preview)


@router.get(
    "/reports/{report_id}/hl7",
    response_class=Response,
    responses={200: {"content": {"x-application/hl7-v2+er7": {}}}},
)
def hl7(
    request: Request,
    report_id: str,
    principal: Annotated[Principal, Depends(require(*READERS))],
    preview: Preview = False,
) -> Response:
    """The signed report as an HL7 v2.5.1 ORU^R01 message."""
    return render_report(request, principal, report_id, "hl7", preview=preview)


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
