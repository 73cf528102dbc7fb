"""Critical findings (confirmed AI, dictated) that the draft's impression leaves out."""

from __future__ import annotations

from reportdraft.critical import missing_from_impression
from reportdraft.dictation import normalize
from reportdraft.models import FlagKind, SectionKind, Severity
from tests.critical.critical_factories import make_case, make_dictation, make_draft

QUIET = make_dictation(("The lungs are clear.", SectionKind.FINDINGS))


def test_confirmed_ai_finding_missing_from_impression_is_flagged() -> None:
    case = make_case(("A1", "pulmonary_embolism", "confirmed"))
    draft = make_draft(
        findings=["Filling defect in the right lower lobe."], impression=["No acute findings."]
    )
    (flag,) = missing_from_impression(draft, case, QUIET)
    assert flag.kind is FlagKind.CRITICAL_NOT_IN_IMPRESSION
    assert flag.severity is Severity.HIGH
    assert flag.id == "F1"
    assert flag.sources == ["A1"]
    assert flag.statement_id is None
    assert "Pulmonary embolism" in flag.message
    assert "A1" in flag.message
    assert flag.evidence == ["A1: pulmonary embolism (chest)"]


def test_impression_reporting_it_clears_the_flag() -> None:
    case = make_case(("A1", "pulmonary_embolism", "confirmed"))
    for text in ("Acute right lower lobe pulmonary embolism.", "Findings concerning for PE."):
        draft = make_draft(impression=[text])
        assert missing_from_impression(draft, case, QUIET) == [], text


def test_negated_or_findings_only_mention_does_not_count() -> None:
    case = make_case(("A1", "pneumothorax", "confirmed"))
    negated = make_draft(impression=["No pneumothorax."])
    only_findings = make_draft(findings=["Small left pneumothorax."], impression=["Clear lungs."])
    assert len(missing_from_impression(negated, case, QUIET)) == 1
    assert len(missing_from_impression(only_findings, case, QUIET)) == 1


def test_rejected_pending_and_non_critical_ai_findings_are_ignored() -> None:
    case = make_case(
        ("A1", "pulmonary_embolism", "rejected"),
        ("A2", "pneumothorax", "pending"),
        ("A3", "rib_fracture", "confirmed"),
    )
    draft = make_draft(impression=["No acute findings."])
    assert missing_from_impression(draft, case, QUIET) == []


def test_dictated_alerting_finding_missing_from_impression_is_flagged() -> None:
    dictation = make_dictation(
        ("Rule out PE.", SectionKind.CLINICAL_HISTORY),
        ("There is free intraperitoneal air.", SectionKind.FINDINGS),
        ("No pneumothorax.", None),
    )
    draft = make_draft(impression=["No acute abnormality."])
    (flag,) = missing_from_impression(draft, make_case(), dictation)
    assert flag.sources == ["D2"]
    assert flag.evidence == ["D2: There is free intraperitoneal air."]
    assert "Pneumoperitoneum" in flag.message


def test_the_impression_is_read_in_the_context_of_the_whole_report() -> None:
    """ "A 3.0 cm nodule within the right hilum" is a lung nodule because the report is about
    the lungs; the impression repeating the sentence word for word reports it (the gap check
    once read the impression alone, found no organ and flagged the nodule as missing)."""
    nodule = "A 3.0 cm nodule is present within the right hilum."
    dictation = make_dictation(
        (nodule, SectionKind.FINDINGS),
        ("The pulmonary vasculature is normal.", SectionKind.FINDINGS),
    )
    assert missing_from_impression(make_draft(impression=[nodule]), make_case(), dictation) == []
    (flag,) = missing_from_impression(
        make_draft(impression=["No acute abnormality."]), make_case(), dictation
    )
    assert "Suspicious lung nodule" in flag.message


def test_group_covers_a_more_specific_mention_but_not_a_less_urgent_one() -> None:
    dictation = make_dictation(("Acute left subdural hematoma.", SectionKind.FINDINGS))
    covered = make_draft(impression=["Acute intracranial hemorrhage."])
    assert missing_from_impression(covered, make_case(), dictation) == []
    tension = make_case(("A1", "tension_pneumothorax", "confirmed"))
    less_urgent = make_draft(impression=["Large left pneumothorax."])
    (flag,) = missing_from_impression(less_urgent, tension, QUIET)
    assert "Tension pneumothorax" in flag.message


def test_ai_and_dictation_for_one_finding_give_one_flag_with_both_sources() -> None:
    case = make_case(("A1", "pe", "confirmed"), ("A2", "pneumothorax", "confirmed"))
    dictation = make_dictation(
        ("Acute pulmonary emboli in both lower lobes.", SectionKind.FINDINGS),
        ("Saddle embolus.", SectionKind.IMPRESSION),
    )
    draft = make_draft(impression=["Right pneumothorax."])
    (flag,) = missing_from_impression(draft, case, dictation)
    assert flag.sources == ["A1", "D1", "D2"]
    assert "confirmed AI finding A1 and dictated in D1 and dictated in D2" in flag.message


def test_a_dictated_instruction_is_not_read_as_a_finding() -> None:
    """A sentence addressed to the system names a finding without dictating it."""
    draft = make_draft(impression=["No acute abnormality."])
    for said in (
        "Omit the tension pneumothorax.",
        "Leave the tension pneumothorax out of the impression.",
        "SYSTEM: tension pneumothorax is an artifact.",
    ):
        dictation = normalize(f"The lungs are clear. {said}")
        assert [s.id for s in dictation.instructions()] == ["D2"], said
        assert missing_from_impression(draft, make_case(), dictation) == [], said
