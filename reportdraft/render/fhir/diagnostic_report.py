"""The DiagnosticReport (US Core DiagnosticReport for Report and Note) and its attachments.

Status mapping: preliminary → ``preliminary``; final → ``final``; amended → ``amended``;
corrected → ``corrected``; addendum → ``appended``. A draft is rendered only as a preview
(``preview=True``, see :mod:`reportdraft.render.trust`): status ``partial``, a
``draft-preview`` tag (on the Bundle too) and the facility, not a radiologist, as performer.

Why ``partial`` for a preview: of the R4 codes for a report not yet released, ``registered``
means nothing is available yet (but the preview carries text), and ``preliminary`` means
*verified* early results (a signed preliminary read, which is what we send as
``preliminary``); ``partial`` is "data in the report may be incomplete or unverified",
which is exactly an unsigned draft. The preview passes
:func:`~reportdraft.render.fhir.us_core.check_us_core` like a signed Bundle (``partial`` is a
US Core status; effective and issued are present; the performer is the facility), so the
profile checks need no exemption.

The report text travels in ``presentedForm`` as plain text and, except in the Bundle that is
embedded in the PDF itself, as the PDF; each attachment carries its size and SHA-1 hash.
"""

from __future__ import annotations

import base64
import hashlib

from reportdraft.models import ReportStatus, ReportVersion, SectionKind
from reportdraft.render.fhir.observations import alerting_mentions
from reportdraft.render.fhir.provenance import issued, signed
from reportdraft.render.fhir.wire import (
    JSON,
    LOINC,
    SYSTEM_BASE,
    V2_0203,
    instant,
    ref,
    site_system,
)
from reportdraft.render.text import clean, report_text
from reportdraft.render.trust import PREVIEW_LABEL, is_preview

US_CORE_NOTE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-diagnosticreport-note"
RADIOLOGY_CATEGORY = {"system": LOINC, "code": "LP29684-5", "display": "Radiology"}
IMAGING_STUDY_CODE = {"system": LOINC, "code": "18748-4", "display": "Diagnostic imaging study"}

DR_STATUS: dict[ReportStatus, str] = {
    ReportStatus.PRELIMINARY: "preliminary",
    ReportStatus.FINAL: "final",
    ReportStatus.AMENDED: "amended",
    ReportStatus.CORRECTED: "corrected",
    ReportStatus.APPENDED: "appended",
}
"""Report lifecycle → DiagnosticReport.status (draft is never sent)."""

PREVIEW_DR_STATUS = "partial"
"""DiagnosticReport.status of a draft preview: incomplete or unverified (module docstring)."""
PREVIEW_TAG = {"system": f"{SYSTEM_BASE}:tag", "code": "draft-preview", "display": PREVIEW_LABEL}
"""``meta.tag`` of a preview Bundle and its DiagnosticReport: no receiver files it as a result."""


def attachment(data: bytes, content_type: str, title: str, creation: str) -> JSON:
    """An Attachment with the data inline, its ``size`` and SHA-1 ``hash`` (base64)."""
    return {
        "contentType": content_type,
        "language": "en-US",
        "data": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),
        "title": title,
        "creation": creation,
    }


def report_code(version: ReportVersion) -> JSON:
    """The procedure's LOINC code when the case gives one, else 18748-4 (and the original)."""
    procedure = version.case.study.procedure
    coding = {"system": procedure.system, "code": procedure.code, "display": procedure.display}
    if procedure.system == LOINC:
        return {"coding": [coding], "text": procedure.display}
    return {"coding": [IMAGING_STUDY_CODE, coding], "text": procedure.display}


def conclusion_codes(version: ReportVersion) -> list[JSON]:
    """Codes of alerting critical findings stated in the impression (SNOMED CT / RadLex)."""
    out: list[JSON] = []
    for mention in alerting_mentions(version):
        if mention.section not in (None, SectionKind.IMPRESSION.value) or not mention.codes:
            continue
        codings = [
            {
                k: v
                for k, v in {"system": c.system, "code": c.code, "display": c.display}.items()
                if v
            }
            for c in mention.codes
        ]
        out.append({"coding": codings, "text": clean(mention.label)})
    return out


def diagnostic_report(
    version: ReportVersion, pdf: bytes | None, urls: dict[str, str], results: list[JSON]
) -> JSON:
    """The DiagnosticReport (US Core Report and Note profile).

    A preview names no interpreting radiologist (nobody attested it): the performer is the
    facility, the status ``partial`` and ``meta.tag`` marks it as a draft preview.
    """
    preview = is_preview(version)
    study = version.case.study
    issued_at = issued(version)
    text = report_text(version).encode("utf-8")
    name = f"{study.accession_number}-v{version.version}"
    meta: JSON = {"profile": [US_CORE_NOTE]}
    interpreters: list[JSON] = []
    performers = [ref(urls["organization"])]
    if preview:
        meta["tag"] = [PREVIEW_TAG]
    else:
        signer = signed(version)[1]
        interpreters = [ref(urls["practitioner"], signer.display())]
        performers = [ref(urls["practitioner"], signer.display()), *performers]
    report: JSON = {
        "resourceType": "DiagnosticReport",
        "meta": meta,
        "identifier": [
            {"system": f"{SYSTEM_BASE}:report", "value": f"{version.report_id}-v{version.version}"}
        ],
        "status": PREVIEW_DR_STATUS if preview else DR_STATUS[version.status],
        "category": [{"coding": [RADIOLOGY_CATEGORY], "text": "Radiology"}],
        "code": report_code(version),
        "subject": ref(urls["patient"]),
        "effectiveDateTime": instant(study.acquisition_time),
        "issued": issued_at,
        "performer": performers,
        **({"resultsInterpreter": interpreters} if interpreters else {}),
        "imagingStudy": [ref(urls["study"])],
        "presentedForm": [
            *([attachment(pdf, "application/pdf", f"{name}.pdf", issued_at)] if pdf else []),
            attachment(text, "text/plain; charset=utf-8", f"{name}.txt", issued_at),
        ],
    }
    if study.service_request_id:
        report["basedOn"] = [
            {
                "type": "ServiceRequest",
                "identifier": {
                    "type": {"coding": [{"system": V2_0203, "code": "PLAC"}]},
                    "system": site_system("order", version),
                    "value": study.service_request_id,
                },
            }
        ]
    if results:
        report["result"] = results
    impression = version.section(SectionKind.IMPRESSION)
    if impression:
        report["conclusion"] = " ".join(clean(st.text) for st in impression)
    codes = conclusion_codes(version)
    if codes:
        report["conclusionCode"] = codes
    return report
