"""Builders for attestation tests: a chest CT case, its draft, radiologists, keys.

The draft is built by hand (not by the drafting pipeline) so these tests depend only on
the domain models and the attest package.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from reportdraft.attest import SigningKey, open_report
from reportdraft.models import (
    AIFinding,
    AlgorithmRef,
    Case,
    Coding,
    CommunicationRecord,
    CriticalMention,
    Draft,
    DraftProvenance,
    DraftSection,
    Facility,
    Flag,
    FlagKind,
    Patient,
    PersonName,
    Physician,
    SectionKind,
    Severity,
    Statement,
    StudyContext,
)
from reportdraft.models.report import License, Radiologist, RadiologistRole, Report

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def make_case(*, location: str = "CA", decision: str = "pending") -> Case:
    """A chest CT case with one AI finding (decision as given)."""
    return Case(
        study=StudyContext(
            accession_number="ACC1001",
            procedure=Coding(system="http://loinc.org", code="24627-2", display="CT Chest"),
            modality="CT",
            body_part="chest",
            indication="Shortness of breath.",
            ordering_physician=Physician(name="Dr. Order"),
            performing_facility=Facility(name="General Hospital"),
            acquisition_time=datetime(2026, 11, 27, 14, 5, tzinfo=UTC),
            patient_location=location,
        ),
        patient=Patient(
            id="MRN1",
            name=PersonName(family="Doe", given=["Jane"]),
            sex="female",
            birth_date=date(1960, 1, 2),
        ),
        dictation="Right pneumothorax. Left lower lobe nodule 6 mm.",
        ai_findings=[
            AIFinding(
                id="A1",
                algorithm=AlgorithmRef(name="lungai", version="2.1"),
                finding_type="pulmonary_nodule",
                description="solid nodule",
                location="left lower lobe",
                confidence=0.9,
                decision=decision,
            )
        ],
    )


def pneumothorax_mention(statement_id: str = "S3", *, alert: bool = True) -> CriticalMention:
    """A Cat 1 mention as the critical stage would attach it."""
    return CriticalMention(
        finding_code="pneumothorax",
        label="Pneumothorax",
        category=1,
        assertion="present",
        section="findings",
        start=6,
        end=18,
        text="pneumothorax",
        statement_id=statement_id,
        alert=alert,
    )


def make_draft(
    *,
    flags: list[Flag] | None = None,
    critical: list[CriticalMention] | None = None,
) -> Draft:
    """The model's draft: technique, three findings, one impression statement."""
    return Draft(
        accession_number="ACC1001",
        template_id="ct_chest",
        template_version="1",
        sections=[
            DraftSection(
                kind=SectionKind.TECHNIQUE,
                statements=[
                    Statement(
                        id="S1", text="CT of the chest without contrast.", sources=["T:technique"]
                    )
                ],
            ),
            DraftSection(
                kind=SectionKind.FINDINGS,
                statements=[
                    Statement(
                        id="S2",
                        text="Left lower lobe nodule measuring 6 mm.",
                        sources=["D2", "A1"],
                        generator="model",
                    ),
                    Statement(
                        id="S3", text="Small right pneumothorax.", sources=["D1"], generator="model"
                    ),
                    Statement(id="S4", text="No pleural effusion.", sources=["T:pleura"]),
                ],
            ),
            DraftSection(
                kind=SectionKind.IMPRESSION,
                statements=[
                    Statement(
                        id="S5", text="Small right pneumothorax.", sources=["D1"], generator="model"
                    ),
                ],
            ),
        ],
        flags=flags if flags is not None else [],
        critical=critical if critical is not None else [],
        provenance=DraftProvenance(
            backend="llamacpp",
            model="SmolLM2-135M-Instruct",
            prompt_version="draft-v1",
            created_at=NOW,
        ),
    )


def high_flag(flag_id: str = "F1", statement_id: str | None = "S2") -> Flag:
    """A high-severity verifier flag (on a statement, or draft-level when None)."""
    return Flag(
        id=flag_id,
        kind=FlagKind.MEASUREMENT if statement_id else FlagKind.OMISSION,
        severity=Severity.HIGH,
        message="6 mm not in the AI finding's measurements",
        statement_id=statement_id,
    )


def communication(*, documented: bool = True) -> CommunicationRecord:
    """The pneumothorax communication record (notified, or only identified)."""
    extra: dict[str, Any] = {}
    if documented:
        extra = {
            "communicating_radiologist": "Dr. Attending",
            "recipient": {"name": "Dr. Order", "role": "ordering physician"},
            "method": "phone",
            "notified_at": datetime(2026, 11, 27, 14, 40, tzinfo=UTC),
            "read_back": True,
        }
    return CommunicationRecord(
        id="C1",
        finding_code="pneumothorax",
        finding_label="Pneumothorax",
        category=1,
        identified_at=datetime(2026, 11, 27, 14, 30, tzinfo=UTC),
        **extra,
    )


def make_radiologist(
    key: SigningKey | None,
    *,
    role: RadiologistRole = RadiologistRole.ATTENDING,
    licenses: list[License] | None = None,
    user_id: str = "rad1",
) -> Radiologist:
    """A radiologist licensed in CA until 2027 (unless ``licenses`` says otherwise)."""
    return Radiologist(
        id=user_id,
        name=PersonName(family="House", given=["Greg"]),
        credentials=["MD"],
        role=role,
        npi="1234567893",
        licenses=licenses
        if licenses is not None
        else [License(region="US-CA", number="A12345", expires=date(2027, 12, 31))],
        key_id=key.key_id if key is not None else None,
    )


def open_clean(**draft_kwargs: Any) -> Report:
    """A draft report that passes every content rule (AI finding decided, no blockers)."""
    return open_report(
        make_case(decision="confirmed"), make_draft(**draft_kwargs), by="rad1", at=NOW
    )


def later(minutes: int) -> datetime:
    """``minutes`` after :data:`NOW`."""
    return NOW + timedelta(minutes=minutes)


def no_critical(text: str) -> list[CriticalMention]:
    """A detector that finds nothing: for tests about other rules, whatever the lexicon says."""
    return []
