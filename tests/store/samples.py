"""Domain values for store tests: a case, a hand-built draft and a radiologist."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from reportdraft.models import Case, Draft
from reportdraft.models.report import Radiologist
from tests.factories import case_dict

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def make_case(accession: str = "ACC-1", priority: str = "routine", **extra: Any) -> Case:
    """A valid case with the given accession and priority."""
    data = case_dict(accession_number=accession, priority=priority, **extra)
    return Case.model_validate(data)


def make_draft(case: Case) -> Draft:
    """A small draft for ``case`` (no model, no pipeline: the store only persists it)."""
    return Draft.model_validate(
        {
            "accession_number": case.study.accession_number,
            "template_id": "xr_chest",
            "template_version": "1",
            "sections": [
                {
                    "kind": "findings",
                    "statements": [{"id": "S1", "text": "The lungs are clear.", "sources": ["D1"]}],
                },
                {
                    "kind": "impression",
                    "statements": [{"id": "S2", "text": "No acute disease.", "sources": ["D1"]}],
                },
            ],
            "provenance": {"backend": "rules", "created_at": NOW.isoformat()},
        }
    )


def make_radiologist(rid: str = "dr-lee", role: str = "attending") -> Radiologist:
    """A radiologist licensed in CA until 2030."""
    return Radiologist.model_validate(
        {
            "id": rid,
            "name": {"family": "Lee", "given": ["Sam"]},
            "credentials": ["MD"],
            "role": role,
            "licenses": [{"region": "CA", "number": "A12345", "expires": str(date(2030, 1, 1))}],
        }
    )
