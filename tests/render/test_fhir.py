"""FHIR rendering: every signed example gives a valid, US Core-conforming, round-tripping Bundle."""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from reportdraft.errors import RenderError
from reportdraft.models import Report, ReportStatus, SectionKind
from reportdraft.render import check_us_core, render_fhir, render_pdf, report_text
from tests.render.signed_examples import (
    corrected,
    load_case,
    open_report,
    sign_case,
    signed_example,
    with_addendum,
)


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _report(bundle: dict[str, Any]) -> dict[str, Any]:
    (report,) = _resources(bundle, "DiagnosticReport")
    return report


def test_bundle_validates_conforms_and_round_trips(signed: Report) -> None:
    pdf = render_pdf(signed)
    bundle = render_fhir(signed, pdf=pdf)
    model = Bundle.model_validate(bundle)
    dumped = model.model_dump(mode="json")
    assert dumped == bundle
    assert Bundle.model_validate(dumped) == model
    assert check_us_core(bundle) == []
    urls = {e["fullUrl"] for e in bundle["entry"]}
    assert all(url.startswith("urn:uuid:") for url in urls)
    dr = _report(bundle)
    version = signed.current
    assert dr["status"] == "final"
    assert dr["category"][0]["coding"][0]["code"] == "LP29684-5"
    assert dr["code"]["coding"][0]["code"] == version.case.study.procedure.code
    assert dr["subject"]["reference"] in urls
    assert dr["effectiveDateTime"] == version.case.study.acquisition_time.isoformat()
    assert version.signature is not None
    assert dr["issued"] == version.signature.signed_at.isoformat()
    assert dr["resultsInterpreter"][0]["reference"] in urls
    assert dr["imagingStudy"][0]["reference"] in urls
    forms = {f["contentType"]: f for f in dr["presentedForm"]}
    pdf_form, text_form = forms["application/pdf"], forms["text/plain; charset=utf-8"]
    assert base64.b64decode(pdf_form["data"]) == pdf
    assert pdf_form["size"] == len(pdf)
    assert base64.b64decode(pdf_form["hash"]) == hashlib.sha1(pdf).digest()
    assert base64.b64decode(text_form["data"]).decode("utf-8") == report_text(signed)
    impression = " ".join(st.text for st in version.section(SectionKind.IMPRESSION))
    if impression:
        assert dr["conclusion"] == impression
    if version.case.study.service_request_id:
        assert dr["basedOn"][0]["identifier"]["value"] == version.case.study.service_request_id
    (prov,) = _resources(bundle, "Provenance")
    assert prov["target"][0]["reference"] == next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"] is dr
    )
    agents = {a["type"]["coding"][0]["code"]: a["who"]["reference"] for a in prov["agent"]}
    by_url = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle["entry"]}
    assert by_url[agents["verifier"]] == "Practitioner"
    assert by_url[agents["author"]] == "Device"
    signature = prov["signature"][0]
    assert version.signature is not None
    assert signature["data"] == version.signature.value
    assert signature["type"][0]["code"] == "1.2.840.10065.1.12.1.5"
    assert signature["when"] == dr["issued"]
    assert signature["who"]["reference"] == agents["verifier"]


def test_confirmed_findings_become_observations_with_ucum_measurements() -> None:
    report = signed_example("ct_head_ich")
    bundle = render_fhir(report)
    observations = _resources(bundle, "Observation")
    finding = next(o for o in observations if o.get("component"))
    assert finding["bodySite"]["text"] == "right parietal lobe"
    assert finding["bodySite"]["coding"][0]["code"] == "24028007"
    quantities = [c["valueQuantity"] for c in finding["component"]]
    assert {(q["value"], q["code"]) for q in quantities} == {(3.4, "cm"), (14.3, "mL")}
    assert all(q["system"] == "http://unitsofmeasure.org" for q in quantities)
    critical = [o for o in observations if o.get("interpretation")]
    assert critical
    assert critical[0]["interpretation"][0]["coding"][0]["code"] == "AA"
    assert "communicated by telephone" in critical[0]["note"][0]["text"]
    dr = _report(bundle)
    assert len(dr["result"]) == len(observations)


def test_rejected_ai_finding_is_not_sent() -> None:
    report = signed_example("mammo_screening")
    assert [f.decision for f in report.current.case.ai_findings] == ["rejected"]
    bundle = render_fhir(report)
    assert not [o for o in _resources(bundle, "Observation") if o.get("method")]


@pytest.mark.parametrize(
    ("make", "dr_status", "obs_status"),
    [
        (
            lambda: sign_case(load_case("cta_chest_pe"), status=ReportStatus.PRELIMINARY),
            "preliminary",
            "preliminary",
        ),
        (
            lambda: corrected(
                signed_example("ct_head_ich"),
                new_text="Acute right parietal hemorrhage.",
                reason="Impression wording corrected.",
            ),
            "corrected",
            "corrected",
        ),
        (
            lambda: with_addendum(signed_example("ct_chest_nodule"), "Prior CT reviewed."),
            "appended",
            "final",
        ),
    ],
)
def test_status_follows_the_lifecycle(make: Any, dr_status: str, obs_status: str) -> None:
    report = make()
    bundle = render_fhir(report)
    assert check_us_core(bundle) == []
    assert _report(bundle)["status"] == dr_status
    assert {o["status"] for o in _resources(bundle, "Observation")} <= {obs_status}
    (prov,) = _resources(bundle, "Provenance")
    if report.current.previous is not None:
        assert prov["entity"][0]["role"] == "revision"


def test_a_draft_is_never_rendered() -> None:
    case = load_case("xr_chest_normal")
    draft = open_report(case)
    assert draft.current.status is ReportStatus.DRAFT
    with pytest.raises(RenderError, match="draft"):
        render_fhir(draft, pdf=b"%PDF-")


def _mutate(path: str, value: Any) -> dict[str, Any]:
    bundle = copy.deepcopy(render_fhir(signed_example("ct_head_ich")))
    dr = _report(bundle)
    if value is _DELETE:
        del dr[path]
    else:
        dr[path] = value
    return bundle


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("status", "foo", "status: binding"),
        ("subject", _DELETE, "subject: required"),
        ("effectiveDateTime", _DELETE, "us-core-10"),
        (
            "category",
            [{"coding": [{"system": "http://loinc.org", "code": "LP7839-6"}]}],
            "radiology report has category LP29684-5",
        ),
        (
            "category",
            [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}
                    ]
                }
            ],
            "category: binding",
        ),
        ("code", {"text": "CT head"}, "code: binding: no LOINC"),
    ],
)
def test_profile_check_catches_what_fhir_resources_accepts(
    path: str, value: Any, expected: str
) -> None:
    bundle = _mutate(path, value)
    Bundle.model_validate(bundle)  # structurally fine: fhir.resources does not object
    problems = check_us_core(bundle)
    assert any(expected in p for p in problems), problems


def test_profile_check_catches_wrong_reference_target_and_bad_hash() -> None:
    bundle = copy.deepcopy(render_fhir(signed_example("ct_head_ich")))
    dr = _report(bundle)
    dr["subject"] = dict(dr["resultsInterpreter"][0])  # a Practitioner, not a Patient
    dr["presentedForm"][1]["hash"] = dr["presentedForm"][0]["hash"]
    dr["result"].append({"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"})
    problems = check_us_core(bundle)
    assert any("subject: reference: points to Practitioner" in p for p in problems), problems
    assert any("hash is not the SHA-1" in p for p in problems), problems
    assert any("does not resolve within the Bundle" in p for p in problems), problems


def test_profile_check_reports_structure_errors_and_text_form_rule() -> None:
    bundle = copy.deepcopy(render_fhir(signed_example("mr_knee")))
    dr = _report(bundle)
    dr["presentedForm"] = [f for f in dr["presentedForm"] if f["contentType"] == "application/pdf"]
    dr["issued"] = "not a time"
    problems = check_us_core(bundle)
    assert any("structure" in p for p in problems), problems
    assert any("onc: note text" in p for p in problems), problems
    dr["presentedForm"] = []
    assert any("no PDF form" in p for p in check_us_core(bundle))
    assert check_us_core({"resourceType": "Patient"}) == ["Bundle: structure: not a Bundle"]
