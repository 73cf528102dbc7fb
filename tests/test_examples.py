"""The bundled example cases: valid, drafted on a bundled template, and saying what they claim."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from reportdraft.models import Case, Decision, Laterality, Priority
from reportdraft.resources import data_dir
from reportdraft.templates import catch_all_key, default_library, route_sentence

EXAMPLES = sorted(data_dir("examples").glob("*.json"))

NAMED = {
    "ct_head_ich",
    "cta_chest_pe",
    "xr_chest_normal",
    "ct_chest_nodule",
    "mr_knee",
    "messy_dictation",
    "us_scrotum_torsion",
    "ct_abd_free_air",
    "mammo_screening",
}


@cache
def load(stem: str) -> Case:
    path = data_dir("examples") / f"{stem}.json"
    return Case.model_validate_json(path.read_text(encoding="utf-8"))


def test_the_named_cases_are_all_there() -> None:
    stems = {p.stem for p in EXAMPLES}
    assert stems >= NAMED
    assert len(stems) >= 9


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_a_valid_case_with_a_template(path: Path) -> None:
    case = load(path.stem)
    study = case.study
    template = default_library().select(study)
    # Selected by its procedure code, not by the body-part fallback.
    codes = {(c.system, c.code) for c in template.procedure_codes}
    assert (study.procedure.system, study.procedure.code) in codes
    assert template.modality == study.modality
    # Complete context, as a worklist would send it.
    assert study.acquisition_time.utcoffset() is not None
    assert len(study.state) == 2
    assert study.study_instance_uid is not None
    assert study.indication
    assert study.ordering_physician.name
    assert study.performing_facility.name
    assert study.performing_facility.address
    # The file is exactly what the model reads: no key the model drops or defaults silently.
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["study"].keys() <= case.study.model_dump().keys()
    assert [f["id"] for f in raw["ai_findings"]] == [
        f"A{i}" for i in range(1, len(raw["ai_findings"]) + 1)
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_confirmed_ai_findings_route_to_a_real_subsection(path: Path) -> None:
    case = load(path.stem)
    template = default_library().select(case.study)
    for finding in case.ai_findings:
        if finding.decision is Decision.CONFIRMED:
            key = route_sentence(template, f"{finding.description} {finding.location}")
            assert key != catch_all_key(template), finding.id


def test_only_the_free_air_case_leaves_a_finding_pending() -> None:
    pending = {
        (path.stem, f.id)
        for path in EXAMPLES
        for f in load(path.stem).ai_findings
        if f.decision is Decision.PENDING
    }
    assert pending == {("ct_abd_free_air", "A1")}


def test_ct_head_ich() -> None:
    case = load("ct_head_ich")
    assert case.study.priority is Priority.STAT
    assert case.study.contrast.value == "none"
    (ich,) = case.ai_findings
    assert ich.finding_type == "intracranial_hemorrhage"
    assert ich.decision is Decision.CONFIRMED
    assert ich.laterality is Laterality.RIGHT
    assert ich.measurements
    impression = case.dictation.split("impression colon", 1)[1]
    assert "hemorrhage" in impression
    assert "communicated" in impression


def test_cta_chest_pe() -> None:
    case = load("cta_chest_pe")
    assert case.study.priority is Priority.STAT
    (pe,) = case.ai_findings
    assert pe.finding_type == "pulmonary_embolism"
    assert pe.decision is Decision.CONFIRMED
    assert "right lower lobe segmental" in pe.location
    assert "right lower lobe segmental" in case.dictation


def test_xr_chest_normal() -> None:
    case = load("xr_chest_normal")
    assert case.ai_findings == []
    assert case.study.priority is Priority.ROUTINE
    assert case.study.views == 2
    assert len(case.dictation) < 400


def test_ct_chest_nodule() -> None:
    case = load("ct_chest_nodule")
    decisions = {f.location: f.decision for f in case.ai_findings}
    assert decisions == {
        "right upper lobe": Decision.CONFIRMED,
        "left lower lobe": Decision.REJECTED,
    }
    confirmed = case.ai_finding("A1")
    assert confirmed is not None
    assert [(m.value, m.unit) for m in confirmed.measurements] == [(6, "mm")]
    assert {f.finding_type for f in case.ai_findings} == {"pulmonary_nodule"}


def test_mr_knee() -> None:
    case = load("mr_knee")
    assert case.study.laterality is Laterality.RIGHT
    assert "medial meniscus" in case.dictation
    assert "tear" in case.dictation


def test_messy_dictation() -> None:
    text = load("messy_dictation").dictation
    for spoken in (
        "period",
        "comma",
        "new paragraph",
        "findings colon",
        "impression colon",
        "two point three centimeters",
        "five millimeters comma correction comma six",
    ):
        assert spoken in text, spoken


def test_us_scrotum_torsion() -> None:
    case = load("us_scrotum_torsion")
    assert case.study.priority is Priority.STAT
    assert case.study.laterality is Laterality.LEFT
    assert "left testicular torsion" in case.dictation


def test_ct_abd_free_air() -> None:
    case = load("ct_abd_free_air")
    assert case.study.priority is Priority.STAT
    assert "pneumoperitoneum with free air" in case.dictation
    (finding,) = case.ai_findings
    assert finding.finding_type == "pneumoperitoneum"
    assert finding.decision is Decision.PENDING


def test_mammo_screening() -> None:
    case = load("mammo_screening")
    assert case.study.modality.value == "MG"
    assert case.patient.sex == "female"
    assert "BI-RADS 1" in case.dictation
    assert all(f.decision is Decision.REJECTED for f in case.ai_findings)
