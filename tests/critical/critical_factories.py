"""Builders for critical-finding tests: drafts, dictations and communication records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reportdraft.models import (
    Case,
    CommunicationMethod,
    CommunicationRecord,
    DictationSentence,
    Draft,
    DraftProvenance,
    DraftSection,
    NormalizedDictation,
    Recipient,
    SectionKind,
    Statement,
)
from tests.factories import case_dict

T0 = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)


def make_draft(**sections: list[str]) -> Draft:
    """A draft with one statement per text, numbered S1… in section order.

    ``make_draft(findings=["..."], impression=["..."])``; section names are SectionKind values.
    """
    counter = 0
    built: list[DraftSection] = []
    for kind in SectionKind:
        texts = sections.get(kind.value)
        if texts is None:
            continue
        statements = []
        for text in texts:
            counter += 1
            statements.append(Statement(id=f"S{counter}", text=text, sources=["D1"]))
        built.append(DraftSection(kind=kind, statements=statements))
    return Draft(
        accession_number="ACC-TEST-1",
        template_id="xr-chest",
        template_version="1",
        sections=built or [DraftSection(kind=SectionKind.FINDINGS)],
        provenance=DraftProvenance(backend="rules", created_at=T0),
    )


def make_dictation(*sentences: tuple[str, SectionKind | None]) -> NormalizedDictation:
    """A normalised dictation with ids D1… and offsets into the joined raw text."""
    raw_parts: list[str] = []
    built: list[DictationSentence] = []
    offset = 0
    for i, (text, section) in enumerate(sentences, start=1):
        built.append(
            DictationSentence(
                id=f"D{i}", text=text, start=offset, end=offset + len(text), section=section
            )
        )
        raw_parts.append(text)
        offset += len(text) + 1
    return NormalizedDictation(raw=" ".join(raw_parts), sentences=built)


def make_case(*ai: tuple[str, str, str]) -> Case:
    """A valid case with AI findings given as ``(id, finding_type, decision)``."""
    data: dict[str, Any] = case_dict()
    data["ai_findings"] = [
        {
            "id": fid,
            "algorithm": {"name": "triage", "version": "2"},
            "finding_type": ftype,
            "description": ftype.replace("_", " "),
            "location": "chest",
            "confidence": 0.9,
            "decision": decision,
        }
        for fid, ftype, decision in ai
    ]
    return Case.model_validate(data)


def make_record(**fields: Any) -> CommunicationRecord:
    """A communication record for an acute PE identified at ``T0``; fields override."""
    data: dict[str, Any] = {
        "id": "C1",
        "finding_code": "pulmonary_embolism",
        "finding_label": "Pulmonary embolism",
        "category": 1,
        "identified_at": T0,
    }
    data.update(fields)
    return CommunicationRecord.model_validate(data)


def notified(**fields: Any) -> CommunicationRecord:
    """A record notified by phone to the ordering physician 20 minutes after ``T0``."""
    base: dict[str, Any] = {
        "communicating_radiologist": "Dr. Rae Kim",
        "recipient": Recipient(name="Ana Ortiz"),
        "method": CommunicationMethod.PHONE,
        "notified_at": datetime(2026, 11, 27, 14, 25, tzinfo=UTC),
        "read_back": True,
    }
    base.update(fields)
    return make_record(**base)
