"""The case and draft models: strict validation with messages that name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reportdraft.errors import CaseValidationError
from reportdraft.io import describe_validation_error, parse_model
from reportdraft.models import Case, Draft
from tests.factories import case_dict


def test_valid_case_round_trips() -> None:
    case = Case.model_validate(case_dict())
    assert Case.model_validate(case.model_dump(mode="json")) == case


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["study"].update(modality="XX"), "study.modality"),
        (lambda d: d["study"].pop("accession_number"), "study.accession_number"),
        (
            lambda d: d["study"].update(acquisition_time="2026-11-27T14:05:00"),
            "study.acquisition_time",
        ),
        (lambda d: d["study"].update(patient_location="California"), "study.patient_location"),
        (lambda d: d.update(dictation="  ...  "), "dictation"),
        (lambda d: d.update(surprise=1), "surprise"),
        (lambda d: d["patient"].update(sex="f"), "patient.sex"),
        (lambda d: d.update(ai_findings=[{"id": "X1"}]), "ai_findings.0.id"),
    ],
)
def test_invalid_case_names_the_field(mutate, field) -> None:  # type: ignore[no-untyped-def]
    data = case_dict()
    mutate(data)
    with pytest.raises(CaseValidationError) as info:
        parse_model(Case, data, error=CaseValidationError, what="case")
    assert field in info.value.message
    assert info.value.code == "invalid_case"


def test_duplicate_ai_finding_ids_rejected() -> None:
    finding = {
        "id": "A1",
        "algorithm": {"name": "x", "version": "1"},
        "finding_type": "pulmonary_nodule",
        "description": "nodule",
        "location": "right upper lobe",
        "confidence": 0.9,
    }
    data = case_dict()
    data["ai_findings"] = [finding, dict(finding)]
    with pytest.raises(ValidationError) as info:
        Case.model_validate(data)
    assert "duplicate id(s) A1" in describe_validation_error(info.value)


def test_oversized_dictation_rejected() -> None:
    data = case_dict()
    data["dictation"] = "word " * 5000
    with pytest.raises(ValidationError):
        Case.model_validate(data)


def test_json_schemas_export() -> None:
    case_schema = Case.model_json_schema()
    draft_schema = Draft.model_json_schema()
    assert "study" in case_schema["properties"]
    assert "sections" in draft_schema["properties"]
