"""The signed report as a FHIR R4 transaction Bundle (US Core DiagnosticReport for Report and Note).

The Bundle holds the DiagnosticReport, its Observations (confirmed AI findings with
measurements, alerting critical results), the Provenance of the attestation and the
resources they reference (Patient, Practitioner, Organization, ImagingStudy, the drafting
model as a Device), tied together by ``urn:uuid`` fullUrls. It is validated with
``fhir.resources.R4B`` (wire-compatible with R4 4.0.1) before it is returned, and
:func:`reportdraft.render.fhir_profile.check_us_core` checks what that library does not
(status codes, required elements, reference targets, us-core-10).

Status mapping: preliminary → ``preliminary``; final → ``final``; amended →
``amended``; corrected → ``corrected``; addendum → ``appended``. A draft is rendered only as
a preview (``preview=True``, see :mod:`reportdraft.render.trust`): DiagnosticReport status
``partial`` and Observations ``preliminary``, a ``draft-preview`` tag on the Bundle and the
DiagnosticReport, no Practitioner (nobody attested it) and no Provenance signature.

Why ``partial`` for a preview: of the R4 codes for a report not yet released, ``registered``
means nothing is available yet (but the preview carries text), and ``preliminary`` means
*verified* early results (a signed preliminary read, which is what we send as
``preliminary``); ``partial`` is "data in the report may be incomplete or unverified",
which is exactly an unsigned draft. The preview passes :func:`check_us_core` like a
signed Bundle (``partial`` is a US Core status; effective and issued are present; the
performer is the facility), so the profile checks need no exemption.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from pydantic import ValidationError

from reportdraft.errors import RenderError
from reportdraft.models import Report, ReportStatus, ReportVersion, SectionKind
from reportdraft.render import fhir_parts as parts
from reportdraft.render.fhir_parts import JSON, LOINC, SYSTEM_BASE, full_url, instant, ref
from reportdraft.render.text import clean, report_text
from reportdraft.render.trust import PREVIEW_LABEL, is_preview, renderable

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

OBS_STATUS: dict[ReportStatus, str] = {
    ReportStatus.PRELIMINARY: "preliminary",
    ReportStatus.FINAL: "final",
    ReportStatus.AMENDED: "amended",
    ReportStatus.CORRECTED: "corrected",
    ReportStatus.APPENDED: "final",
}
"""Observation.status has no ``appended``: the findings of an appended report stay final."""

PREVIEW_DR_STATUS = "partial"
"""DiagnosticReport.status of a draft preview: incomplete or unverified (module docstring)."""
PREVIEW_OBS_STATUS = "preliminary"
"""Observation.status of a draft preview's findings: "data may be incomplete or unverified"."""
PREVIEW_TAG = {"system": f"{SYSTEM_BASE}:tag", "code": "draft-preview", "display": PREVIEW_LABEL}
"""``meta.tag`` of a preview Bundle and its DiagnosticReport: no receiver files it as a result."""

SIGNATURE_TYPE = {
    "system": "urn:iso-astm:E1762-95:2013",
    "code": "1.2.840.10065.1.12.1.5",
    "display": "Verification Signature",
}
COMPLETION = "http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion"
PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


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
    for mention in parts.alerting_mentions(version):
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


def _signed(version: ReportVersion) -> tuple[Any, Any]:
    if version.status is ReportStatus.DRAFT or version.signature is None or version.signer is None:
        raise RenderError(
            f"report {version.report_id} v{version.version} is a draft: only signed "
            "versions are rendered for delivery",
            code="not_signed",
        )
    return version.signature, version.signer


def _issued(version: ReportVersion) -> str:
    """When this version was released: its signature time, or for a preview its creation."""
    if is_preview(version):
        return instant(version.created_at)
    return instant(_signed(version)[0].signed_at)


def _entry(url: str, resource: JSON, *, if_none_exist: str | None = None) -> JSON:
    request: JSON = {"method": "POST", "url": resource["resourceType"]}
    if if_none_exist:
        request["ifNoneExist"] = if_none_exist
    return {"fullUrl": url, "resource": resource, "request": request}


def build_bundle(version: ReportVersion, pdf: bytes | None) -> JSON:
    """The Bundle as a JSON dict, before validation (see :func:`render_fhir`).

    ``pdf`` None leaves the PDF out of ``presentedForm`` (see :func:`structured_bundle`).
    """
    preview = is_preview(version)
    urls = {
        kind: full_url(version, kind)
        for kind in ("patient", "practitioner", "organization", "device", "study", "report", "prov")
    }
    patient = parts.patient(version)
    mrn = patient["identifier"][0]
    entries = [
        _entry(urls["patient"], patient, if_none_exist=f"identifier={mrn['system']}|{mrn['value']}")
    ]
    if not preview:
        practitioner = parts.practitioner(_signed(version)[1], version)
        entries.append(
            _entry(
                urls["practitioner"],
                practitioner,
                if_none_exist="identifier={system}|{value}".format(**practitioner["identifier"][0]),
            )
        )
    entries += [
        _entry(urls["organization"], parts.organization(version)),
        _entry(urls["device"], parts.device(version)),
        _entry(urls["study"], parts.imaging_study(version, urls["patient"])),
    ]
    obs_status = PREVIEW_OBS_STATUS if preview else OBS_STATUS[version.status]
    results: list[JSON] = []
    for finding in parts.confirmed_findings(version):
        url = full_url(version, "finding", finding.id)
        entries.append(
            _entry(url, parts.finding_observation(version, finding, obs_status, urls["patient"]))
        )
        results.append(ref(url, clean(finding.description)))
    for mention in parts.alerting_mentions(version):
        url = full_url(version, "critical", mention.finding_code)
        entries.append(
            _entry(url, parts.critical_observation(version, mention, obs_status, urls["patient"]))
        )
        results.append(ref(url, clean(mention.label)))
    entries.append(_entry(urls["report"], diagnostic_report(version, pdf, urls, results)))
    if not preview:
        entries.append(_entry(urls["prov"], provenance(version, urls)))
    bundle: JSON = {
        "resourceType": "Bundle",
        "identifier": {
            "system": f"{SYSTEM_BASE}:bundle",
            "value": f"{version.report_id}-v{version.version}",
        },
        "type": "transaction",
        "timestamp": _issued(version),
        "entry": entries,
    }
    if preview:
        bundle = {"resourceType": "Bundle", "meta": {"tag": [PREVIEW_TAG]}, **bundle}
    return bundle


def diagnostic_report(
    version: ReportVersion, pdf: bytes | None, urls: dict[str, str], results: list[JSON]
) -> JSON:
    """The DiagnosticReport (US Core Report and Note profile).

    A preview names no interpreting radiologist (nobody attested it): the performer is the
    facility, the status ``partial`` and ``meta.tag`` marks it as a draft preview.
    """
    preview = is_preview(version)
    study = version.case.study
    issued = _issued(version)
    text = report_text(version).encode("utf-8")
    name = f"{study.accession_number}-v{version.version}"
    meta: JSON = {"profile": [US_CORE_NOTE]}
    interpreters: list[JSON] = []
    performers = [ref(urls["organization"])]
    if preview:
        meta["tag"] = [PREVIEW_TAG]
    else:
        signer = _signed(version)[1]
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
        "issued": issued,
        "performer": performers,
        **({"resultsInterpreter": interpreters} if interpreters else {}),
        "imagingStudy": [ref(urls["study"])],
        "presentedForm": [
            *([attachment(pdf, "application/pdf", f"{name}.pdf", issued)] if pdf else []),
            attachment(text, "text/plain; charset=utf-8", f"{name}.txt", issued),
        ],
    }
    if study.service_request_id:
        report["basedOn"] = [
            {
                "type": "ServiceRequest",
                "identifier": {
                    "type": {"coding": [{"system": parts.V2_0203, "code": "PLAC"}]},
                    "system": parts.site_system("order", version),
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


def provenance(version: ReportVersion, urls: dict[str, str]) -> JSON:
    """The attestation: the radiologist verified this version; the model drafted it.

    ``signature.data`` is the Ed25519 signature over the canonical JSON of the version as
    stored (``targetFormat`` application/json), so a receiver holding the stored report can
    check it; the FHIR JSON itself is never what was signed (it re-serialises timestamps).
    """
    signature, signer = _signed(version)
    final = version.status is not ReportStatus.PRELIMINARY
    activity = ("LA", "legally authenticated") if final else ("AU", "authenticated")
    out: JSON = {
        "resourceType": "Provenance",
        "target": [ref(urls["report"], f"Report {version.report_id} version {version.version}")],
        "occurredDateTime": instant(signature.signed_at),
        "recorded": instant(signature.signed_at),
        "activity": {
            "coding": [{"system": COMPLETION, "code": activity[0], "display": activity[1]}]
        },
        "agent": [
            {
                "type": {"coding": [{"system": PARTICIPANT, "code": "verifier"}]},
                "who": ref(urls["practitioner"], signer.display()),
                "onBehalfOf": ref(urls["organization"]),
            },
            {
                "type": {"coding": [{"system": PARTICIPANT, "code": "author"}]},
                "who": ref(urls["device"], f"drafting model ({version.draft.provenance.backend})"),
                "onBehalfOf": ref(urls["organization"]),
            },
        ],
        "signature": [
            {
                "type": [SIGNATURE_TYPE],
                "when": instant(signature.signed_at),
                "who": ref(urls["practitioner"]),
                "targetFormat": "application/json",
                "sigFormat": "application/octet-stream",
                "data": signature.value,
            }
        ],
    }
    if version.previous is not None:
        out["entity"] = [
            {
                "role": "revision",
                "what": {
                    "identifier": {
                        "system": f"{SYSTEM_BASE}:report",
                        "value": f"{version.report_id}-v{version.previous.version}",
                    },
                    "display": f"sha256 {version.previous.sha256}",
                },
            }
        ]
    return out


def validate_bundle(bundle: JSON) -> JSON:
    """Validate ``bundle`` with fhir.resources R4B and return its JSON form (round-tripped)."""
    from fhir.resources.R4B.bundle import Bundle

    try:
        model = Bundle.model_validate(bundle)
    except ValidationError as exc:
        raise RenderError(f"FHIR Bundle does not validate: {exc.errors()[:3]}") from exc
    dumped: JSON = model.model_dump(mode="json")
    return dumped


def structured_bundle(report: Report | ReportVersion) -> dict[str, Any]:
    """The Bundle without the PDF form: what is embedded *inside* the PDF.

    A Bundle embedded in the PDF cannot carry that PDF's own hash (it would change the PDF
    it describes), so this one holds only the text form; ``check_us_core`` reports the
    missing PDF form for it, which is expected.
    """
    version = renderable(report, preview=False)
    return validate_bundle(build_bundle(version, None))


def render_fhir(
    report: Report | ReportVersion, *, pdf: bytes | None = None, preview: bool = False
) -> dict[str, Any]:
    """The current version of ``report`` as a FHIR R4 transaction Bundle (JSON-ready dict).

    ``pdf`` is the already rendered PDF to embed in ``presentedForm``; when None the PDF is
    rendered here. An unsigned version is rendered only with ``preview=True`` (as a tagged
    ``partial`` preview); without it :class:`~reportdraft.render.trust.NotSignedError` is
    raised. Raises :class:`RenderError` for a Bundle that fails fhir.resources validation.
    Our US Core checks are separate: run
    :func:`~reportdraft.render.fhir_profile.check_us_core` on the result.
    """
    version = renderable(report, preview=preview)
    if pdf is None:
        from reportdraft.render.pdf import render_pdf

        pdf = render_pdf(version, preview=preview)
    return validate_bundle(build_bundle(version, pdf))
