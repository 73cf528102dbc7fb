"""The transaction Bundle: its entries in order, tied by ``urn:uuid`` fullUrls, and validation.

:func:`build_bundle` reads top to bottom as the Bundle does: the Patient, the Practitioner
(signed versions only), the Organization, the drafting model as a Device, the ImagingStudy,
one Observation per confirmed AI finding and per alerting critical result, the
DiagnosticReport that lists them, and the Provenance of the attestation (signed versions
only). Each resource is built by the module of its concern; this one only assigns the
fullUrls, wraps each resource in a POST entry and validates the whole with
``fhir.resources.R4B`` (wire-compatible with R4 4.0.1) before it is returned.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from reportdraft.errors import RenderError
from reportdraft.models import Report, ReportVersion
from reportdraft.render.fhir.diagnostic_report import PREVIEW_TAG, diagnostic_report
from reportdraft.render.fhir.imaging_study import imaging_study
from reportdraft.render.fhir.observations import (
    OBS_STATUS,
    PREVIEW_OBS_STATUS,
    alerting_mentions,
    confirmed_findings,
    critical_observation,
    finding_observation,
)
from reportdraft.render.fhir.participants import device, organization, patient, practitioner
from reportdraft.render.fhir.provenance import issued, provenance, signed
from reportdraft.render.fhir.wire import JSON, SYSTEM_BASE, full_url, ref
from reportdraft.render.text import clean
from reportdraft.render.trust import is_preview, renderable


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
    patient_resource = patient(version)
    mrn = patient_resource["identifier"][0]
    entries = [
        _entry(
            urls["patient"],
            patient_resource,
            if_none_exist=f"identifier={mrn['system']}|{mrn['value']}",
        )
    ]
    if not preview:
        practitioner_resource = practitioner(signed(version)[1], version)
        npi_or_user = practitioner_resource["identifier"][0]
        entries.append(
            _entry(
                urls["practitioner"],
                practitioner_resource,
                if_none_exist="identifier={system}|{value}".format(**npi_or_user),
            )
        )
    entries += [
        _entry(urls["organization"], organization(version)),
        _entry(urls["device"], device(version)),
        _entry(urls["study"], imaging_study(version, urls["patient"])),
    ]
    obs_status = PREVIEW_OBS_STATUS if preview else OBS_STATUS[version.status]
    results: list[JSON] = []
    for finding in confirmed_findings(version):
        url = full_url(version, "finding", finding.id)
        entries.append(
            _entry(url, finding_observation(version, finding, obs_status, urls["patient"]))
        )
        results.append(ref(url, clean(finding.description)))
    for mention in alerting_mentions(version):
        url = full_url(version, "critical", mention.finding_code)
        entries.append(
            _entry(url, critical_observation(version, mention, obs_status, urls["patient"]))
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
        "timestamp": issued(version),
        "entry": entries,
    }
    if preview:
        bundle = {"resourceType": "Bundle", "meta": {"tag": [PREVIEW_TAG]}, **bundle}
    return bundle


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
    :func:`~reportdraft.render.fhir.us_core.check_us_core` on the result.
    """
    version = renderable(report, preview=preview)
    if pdf is None:
        from reportdraft.render.pdf import render_pdf

        pdf = render_pdf(version, preview=preview)
    return validate_bundle(build_bundle(version, pdf))
