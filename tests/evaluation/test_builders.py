"""Suite builders: transcription parsing, modality detection, the shipped examples suite,
and (when the public data is present) the Open-i and MTSamples suites."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reportdraft.evaluation.builders import (
    build_examples,
    build_mtsamples,
    build_openi,
    detect_contrast,
    detect_modality,
    split_transcription,
    write_suite,
)
from reportdraft.evaluation.suite import dump_cases, load_cases, load_suite
from reportdraft.models import Contrast, Modality
from reportdraft.resources import data_dir
from reportdraft.templates import TemplateLibrary

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("REPORTDRAFT_DATA") or ROOT.parent / "shared" / "data")
needs_data = pytest.mark.skipif(
    not (DATA / "openi_opi").is_dir(),
    reason=f"public data not found at {DATA} (set REPORTDRAFT_DATA)",
)


def test_split_transcription_on_header_commas() -> None:
    text = (
        "EXAM: , Two views of the chest.,HISTORY:,  Cough.,FINDINGS: , The lungs are clear.,"
        "No effusion.,IMPRESSION:,1. Normal chest.,2. BPD: 9.0cm"
    )
    parts = split_transcription(text)
    assert [h for h, _ in parts] == ["EXAM", "HISTORY", "FINDINGS", "IMPRESSION"]
    assert parts[2][1] == "The lungs are clear. No effusion."
    assert parts[3][1].endswith("BPD: 9.0cm")  # "BPD:" has no ":," so it is not a header


@pytest.mark.parametrize(
    ("text", "modality"),
    [
        ("CT Brain: Subdural hematoma", Modality.CT),
        ("HCT - Pituitary mass", Modality.CT),
        ("CT Angiography of the chest", Modality.CT),
        ("MRI Knee - 4", Modality.MR),
        ("Ultrasound OB", Modality.US),
        ("X-RAY of the soft tissues of the neck", Modality.XR),
        ("Bilateral Screening Mammogram", Modality.MG),
        ("Whole body radionuclide bone scan", Modality.NM),
        ("Cerebral Angiogram - moyamoya disease", Modality.XA),
        ("EMG/Nerve Conduction Study", None),
    ],
)
def test_detect_modality(text: str, modality: Modality | None) -> None:
    assert detect_modality(text) is modality


def test_detect_contrast() -> None:
    assert detect_contrast("CT abdomen with and without contrast") is Contrast.WITHOUT_AND_WITH
    assert detect_contrast("MRI head without contrast") is Contrast.NONE
    assert detect_contrast("CT chest with contrast") is Contrast.WITH
    assert detect_contrast("Two views of the chest") is Contrast.NONE


def test_examples_suite_is_up_to_date_and_loads() -> None:
    """eval/examples.cases.jsonl is generated: regenerate with `eval-build examples --out eval`."""
    cases, report = build_examples(data_dir("examples"), ROOT / "eval" / "examples.references.yaml")
    shipped = (ROOT / "eval" / "examples.cases.jsonl").read_text(encoding="utf-8")
    assert dump_cases(cases) == shipped
    assert report.written == len(list(data_dir("examples").glob("*.json")))
    suite = load_suite(ROOT / "eval" / "examples.yaml")
    assert {s.backend for s in suite.systems} == {"rules", "llamacpp"}
    loaded = load_cases(suite.cases_path())
    assert all(not c.reference.empty for c in loaded)


@needs_data
def test_openi_validate_builds_341_chest_cases() -> None:
    cases, report = build_openi(DATA, library=TemplateLibrary.load())
    assert len(cases) == 341
    assert report.written == 341
    first = cases[0]
    assert first.case.study.procedure.code == "36643-5"
    assert first.case.study.modality is Modality.XR
    assert first.reference.impression
    assert first.case.dictation
    assert any("XXXX" in c.case.dictation for c in cases)  # de-identification tokens kept


@needs_data
def test_mtsamples_builds_some_cases_and_counts_the_rest(tmp_path: Path) -> None:
    cases, report = build_mtsamples(DATA, library=TemplateLibrary.load())
    assert len(cases) + sum(report.skipped.values()) == 136
    assert len(cases) >= 30
    assert any(k.startswith("no template") for k in report.skipped)
    assert report.skipped["clinic note, not an imaging report"] > 0
    assert all(c.reference.sections for c in cases)
    for item in cases:
        assert "FINDINGS:" not in item.case.dictation
        assert "IMPRESSION:" not in item.case.dictation
    written = write_suite("mtsamples", DATA, tmp_path, library=TemplateLibrary.load(), limit=5)
    suite = load_suite(written.files[0])
    assert len(load_cases(suite.cases_path())) == 5


def test_mtsamples_clinic_notes_are_skipped_not_scored(tmp_path: Path) -> None:
    rows = [
        {
            "note_id": 1,
            "sample_name": "MRI Brain",
            "description": "MRI brain without contrast.",
            "transcription": "CC:, Headache. HX:, 40 y/o RHF with headaches. MRI brain, "
            "FINDINGS:, No mass. IMPRESSION:, Normal MRI brain.",
        },
        {
            "note_id": 2,
            "sample_name": "CT Head",
            "description": "CT head without contrast.",
            "transcription": "FINDINGS:, No intracranial hemorrhage. IMPRESSION:, No acute "
            "intracranial abnormality.",
        },
    ]
    folder = tmp_path / "mtsamples"
    folder.mkdir()
    (folder / "radiology_dev.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    cases, report = build_mtsamples(tmp_path, library=TemplateLibrary.load())
    assert [c.id for c in cases] == ["mtsamples-2"]
    assert report.skipped == {"clinic note, not an imaging report": 1}
