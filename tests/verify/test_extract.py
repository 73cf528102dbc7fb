"""Fact extraction: negation and its traps, laterality, measurements, codes, qualifiers."""

from __future__ import annotations

import pytest

from reportdraft.models import Laterality
from reportdraft.verification import extract_facts, is_generic, is_significant

LEFT, RIGHT, BILATERAL = Laterality.LEFT, Laterality.RIGHT, Laterality.BILATERAL


def one(text: str, term: str):  # type: ignore[no-untyped-def]
    found = extract_facts(text).mentions(term)
    assert len(found) == 1, (text, extract_facts(text).findings)
    return found[0]


@pytest.mark.parametrize(
    ("text", "term", "negated"),
    [
        ("No pneumothorax.", "pneumothorax", True),
        ("Pneumothorax.", "pneumothorax", False),
        ("No pleural effusion, pneumothorax, or focal consolidation.", "consolidation", True),
        ("Pneumothorax is not seen.", "pneumothorax", True),
        ("The previously seen pneumothorax has resolved.", "pneumothorax", True),
        ("Small left effusion without pneumothorax.", "effusion", False),
        ("Small left effusion without pneumothorax.", "pneumothorax", True),
        ("There is no pneumothorax but there is a small effusion.", "effusion", False),
        # "free" is not a negation cue (docs/ARCHITECTURE.md#domain-traps); "free of" is.
        ("There is free air under the diaphragm.", "pneumoperitoneum", False),
        ("The lungs are free of focal consolidation.", "consolidation", True),
        ("The lungs are clear of focal airspace disease.", "consolidation", True),
        ("The lungs are not free of focal airspace disease.", "consolidation", False),
        # pseudo-negation: "no change" does not negate the nodule.
        ("No change in the 6 mm nodule.", "nodule", False),
        ("I don't see a definite tear.", "tear", True),
    ],
)
def test_negation(text: str, term: str, negated: bool) -> None:
    assert one(text, term).negated is negated


def test_uncertain_and_hypothetical_are_not_negated() -> None:
    hedged = one("A small right effusion cannot be excluded.", "effusion")
    assert hedged.uncertain
    assert not hedged.negated
    assert hedged.asserted
    assert one("Possible early infarct.", "infarct").uncertain
    question = one("Rule out pneumothorax.", "pneumothorax")
    assert question.hypothetical
    assert not question.negated
    assert not question.asserted
    assert one("Evaluate for PE.", "embolism").hypothetical


def test_no_other_denies_further_instances_only() -> None:
    other = one("No other enhancing renal masses.", "mass")
    assert other.other
    assert not other.negated
    assert not other.asserted


def test_laterality_per_finding_and_clause() -> None:
    facts = extract_facts("Small left pleural effusion and right basilar atelectasis.")
    assert one(facts.text, "effusion").laterality is LEFT
    assert one(facts.text, "atelectasis").laterality is RIGHT
    assert one("Nodule in the right upper lobe.", "nodule").laterality is RIGHT
    assert one("Bilateral pleural effusions.", "effusion").laterality is BILATERAL
    assert one("Bibasilar atelectasis.", "atelectasis").laterality is BILATERAL
    assert facts.lateralities == {LEFT, RIGHT}


def test_abbreviations_give_side_and_anatomy() -> None:
    nodule = one("6 mm nodule in the RLL.", "nodule")
    assert nodule.laterality is RIGHT
    assert "lower_lobe" in nodule.anatomy
    assert one("No PTX.", "pneumothorax").negated


def test_sided_anatomy_names_are_not_laterality() -> None:
    facts = extract_facts("The right ventricle is normal in size.")
    assert facts.lateralities == frozenset()
    assert "right_ventricle" in facts.anatomy


def test_measurements_normalise_units() -> None:
    (a,) = extract_facts("Nodule measuring 2.3 cm.").measurements
    (b,) = extract_facts("Nodule measuring 23 mm.").measurements
    (c,) = extract_facts("Nodule measuring 2.3 mm.").measurements
    (d,) = extract_facts("Nodule measuring 3.2 cm.").measurements
    assert a.same_as(b)
    assert not a.same_as(c)
    assert not a.same_as(d)
    assert (a.unit, a.dimension, a.base_value) == ("cm", "length", 23.0)


def test_dimension_lists_ranges_and_other_units() -> None:
    facts = extract_facts("A 2.3 x 1.5 x 1.0 cm mass; nodes 4-5 mm; 250 mL; 35 HU; 50%.")
    shown = sorted(str(q) for q in facts.measurements)
    assert shown == ["1 cm", "1.5 cm", "2.3 cm", "250 mL", "35 HU", "4 mm", "5 mm", "50 %"]
    (dose,) = extract_facts("DLP 456 mGy·cm.").measurements
    assert dose.dimension == "dlp"


def test_codes_dates_ordinals_and_number_words() -> None:
    facts = extract_facts(
        "L4-L5 disc bulge. BI-RADS 4A. Fracture of the 5th rib. "
        "Compared with 2025-01-03. Three views."
    )
    assert {"L4", "L5", "BIRADS 4A"} <= facts.codes
    assert facts.dates == {"2025-01-03"}
    assert {5.0, 3.0} <= set(facts.numbers)
    assert 4.0 not in facts.numbers  # "L4" is a level, not the number 4


def test_qualifiers_keep_their_polarity() -> None:
    assert "enlarged" in extract_facts("The heart is enlarged.").qualifiers
    assert "no_enlarged" in extract_facts("The heart is not enlarged.").qualifiers
    assert "unchanged" in extract_facts("No interval change.").qualifiers
    # qualifier words inside anatomy or finding terms are not qualifiers
    assert "small" not in extract_facts("Small bowel obstruction.").qualifiers


@pytest.mark.parametrize(
    ("text", "temporal"),
    [
        ("Biapical pleural thickening, unchanged from prior.", "unchanged"),
        ("Granuloma in the left midlung, stable.", "unchanged"),
        ("Right lower lobe consolidation, new since the prior study.", "new"),
        # the next clause names a structure: its "stable" is about that structure
        ("Cardiomegaly, stable mediastinal contours.", None),
        # the finding's own clause already says how it changed
        ("New right effusion, unchanged from prior.", "new"),
    ],
)
def test_a_temporal_clause_after_a_finding_qualifies_it(text: str, temporal: str | None) -> None:
    (first, *_rest) = extract_facts(text).findings
    said = {"unchanged", "new", "chronic", "increased", "decreased"} & set(first.qualifiers)
    assert said == ({temporal} if temporal else set())


def test_side_order_and_sited_anatomy() -> None:
    facts = extract_facts("Bilateral effusions, right greater than left. Left hilar node.")
    assert facts.side_order == {"right>left"}
    assert ("hilum", LEFT) in facts.sited_anatomy


def test_word_polarity_beyond_the_vocabulary() -> None:
    facts = extract_facts("There is no fetal heart motion.")
    assert {"fetal", "heart", "motion"} <= facts.negated_words
    assert "motion" in extract_facts("Fetal heart motion is present.").asserted_words


def test_concept_flags() -> None:
    assert is_significant("pneumothorax")
    assert not is_significant("atelectasis")
    assert is_generic("lesion")
    assert one("Bilateral pneumothoraces.", "pneumothorax")
    assert one("Multiple lesions.", "lesion")


def test_empty_text_has_no_facts() -> None:
    assert extract_facts("Thank you.").empty
    assert not extract_facts("Chest.").empty
