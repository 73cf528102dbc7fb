"""Small builders for test values (a valid case dict to mutate in tests)."""

from __future__ import annotations

import copy
from typing import Any

_CASE: dict[str, Any] = {
    "study": {
        "accession_number": "ACC-TEST-1",
        "procedure": {
            "system": "http://loinc.org",
            "code": "36643-5",
            "display": "XR Chest 2 Views",
        },
        "modality": "XR",
        "body_part": "chest",
        "priority": "routine",
        "indication": "Cough for two weeks.",
        "ordering_physician": {"name": "Dr. Ana Ortiz"},
        "performing_facility": {"name": "Test Imaging Center"},
        "acquisition_time": "2026-11-27T14:05:00Z",
        "patient_location": "CA",
    },
    "patient": {
        "id": "MRN-1",
        "name": {"family": "Doe", "given": ["Jan"]},
        "sex": "female",
        "birth_date": "1970-01-01",
    },
    "dictation": "The lungs are clear. No pleural effusion or pneumothorax.",
    "ai_findings": [],
}


def case_dict(**study_overrides: Any) -> dict[str, Any]:
    """A fresh, valid case as a dict; ``study_overrides`` replace study fields."""
    data = copy.deepcopy(_CASE)
    data["study"].update(study_overrides)
    return data
