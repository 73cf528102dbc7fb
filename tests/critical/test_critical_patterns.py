"""Radiology phrasings of the patterns an independent test set found wrong (issue 12).

Each case is a sentence of our own wording for one pattern (not the independent set's
sentences): the detector, with the bundled data, must give the finding the stated
assertion, temporality and alert. Run through the real spaCy/medspaCy pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from reportdraft.critical.context_rules import ContextRuleSpec
from reportdraft.critical.detector import detect_text
from reportdraft.critical.policy import default_policy


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    code: str
    assertion: str
    temporality: str | None
    alert: bool
    section_aware: bool = False


CASES = [
    # 1. comparative alternatives: the alternative set aside is negated
    Case(
        "cmp_more_likely_than",
        "The fluid collection more likely reflects a hematoma than an abscess.",
        "abscess",
        "negated",
        None,
        False,
    ),
    Case(
        "cmp_x_more_likely_than_y",
        "Postoperative seroma is more likely than abscess.",
        "abscess",
        "negated",
        None,
        False,
    ),
    Case(
        "cmp_favored_over",
        "Appearance is favoured to represent a lymphocele over abscess.",
        "abscess",
        "negated",
        None,
        False,
    ),
    Case(
        "cmp_more_consistent_than",
        "Findings are more consistent with atelectasis than pneumothorax.",
        "pneumothorax",
        "negated",
        None,
        False,
    ),
    # 2. organ masses described by size and organ; lobe abbreviations
    Case(
        "mass_liver_segment",
        "A 4.2 cm heterogeneously enhancing mass in the left hepatic lobe.",
        "liver_mass",
        "present",
        None,
        True,
    ),
    Case(
        "mass_liver_plain",
        "There is a 2 cm hypervascular mass within the liver.",
        "liver_mass",
        "present",
        None,
        True,
    ),
    Case(
        "mass_kidney_pole",
        "A 3.3 cm exophytic enhancing mass arising from the upper pole of the right kidney.",
        "renal_mass",
        "present",
        None,
        True,
    ),
    Case(
        "mass_kidney_nosize",
        "Heterogeneous solid mass in the right kidney.",
        "renal_mass",
        "present",
        None,
        True,
    ),
    Case(
        "mass_lobe_abbrev",
        "Irregular 3.0 cm LUL mass abutting the pleura.",
        "lung_mass",
        "present",
        None,
        True,
    ),
    Case("mass_lobe_abbrev_bare", "RLL spiculated mass.", "lung_mass", "present", None, True),
    Case(
        "nodule_lobe_abbrev",
        "New 9 mm RUL nodule.",
        "suspicious_lung_nodule",
        "present",
        "new",
        True,
    ),
    # 3. lexicon
    Case(
        "lvo_hyperdense_ica",
        "Hyperdense right ICA.",
        "large_vessel_occlusion",
        "present",
        None,
        True,
    ),
    Case(
        "lvo_hyperdense_vertebral",
        "Hyperdense left vertebral artery, concerning for thrombus.",
        "large_vessel_occlusion",
        "present",
        None,
        True,
    ),
    Case(
        "lvo_hyperdense_mca",
        "Hyperdense left middle cerebral artery.",
        "large_vessel_occlusion",
        "present",
        None,
        True,
    ),
    Case(
        "pneumatosis_colon",
        "Intramural air within the ascending colon.",
        "pneumatosis",
        "present",
        None,
        True,
    ),
    Case(
        "pneumatosis_bowel_wall",
        "Gas in the small bowel wall.",
        "pneumatosis",
        "present",
        None,
        True,
    ),
    # 4. expected post-operative free air, across sentences and wordings
    Case(
        "postop_prev_sentence",
        "Status post open sigmoid colectomy 3 days ago. Trace free air, as expected.",
        "pneumoperitoneum",
        "present",
        None,
        False,
    ),
    Case(
        "postop_expected_given",
        "Pneumoperitoneum, expected given laparoscopic appendectomy yesterday.",
        "pneumoperitoneum",
        "present",
        None,
        False,
    ),
    Case(
        "postop_apposition",
        "Free intraperitoneal air, an expected finding after recent laparotomy.",
        "pneumoperitoneum",
        "present",
        None,
        False,
    ),
    Case(
        "postop_not_expected",
        "Laparotomy was 5 weeks ago; this amount of free air is not expected.",
        "pneumoperitoneum",
        "present",
        None,
        True,
    ),
    Case(
        "expected_without_procedure",
        "Large pneumoperitoneum, as expected.",
        "pneumoperitoneum",
        "present",
        None,
        True,
    ),
    Case(
        "postop_beyond_window",
        "Colectomy 3 weeks ago. Free air, as expected.",
        "pneumoperitoneum",
        "present",
        None,
        True,
    ),
    # 5. resolved
    Case(
        "resolved_previously_seen",
        "The previously noted right pneumothorax has resolved.",
        "pneumothorax",
        "negated",
        "resolved",
        False,
    ),
    Case(
        "resolved_prior_exam",
        "Small bowel obstruction seen on the prior CT has resolved.",
        "bowel_obstruction",
        "negated",
        "resolved",
        False,
    ),
    Case(
        "resolved_inverted",
        "No longer visualized are the bilateral subdural hematomas.",
        "subdural_hematoma",
        "negated",
        "resolved",
        False,
    ),
    # 6. chronic
    Case(
        "chronic_coordinate",
        "Chronic, mixed density subdural hematoma along the right convexity.",
        "subdural_hematoma",
        "present",
        "chronic",
        False,
    ),
    Case(
        "chronic_bilateral",
        "Bilateral chronic subdural hematomas.",
        "subdural_hematoma",
        "present",
        "chronic",
        False,
    ),
    Case(
        "acute_on_chronic",
        "Acute-on-chronic subdural hematoma over the left convexity.",
        "subdural_hematoma",
        "present",
        None,
        True,
    ),
    # 7. known / previously described
    Case(
        "known_previously_reported",
        "Previously reported 3 cm enhancing renal mass.",
        "renal_mass",
        "present",
        "known",
        False,
    ),
    Case(
        "known_previously_noted_pe",
        "Previously noted pulmonary embolism.",
        "pulmonary_embolism",
        "present",
        "known",
        True,
    ),
    # 8. sections: findings after a History/Indication header without their own header
    Case(
        "section_indication",
        "INDICATION: Right scrotal pain. Absent intratesticular flow to the right testis,"
        " consistent with testicular torsion.",
        "testicular_torsion",
        "present",
        None,
        True,
        True,
    ),
    Case(
        "section_history",
        "HISTORY: Prior left partial nephrectomy.\n"
        "FINDINGS: 2.1 cm solid mass in the right kidney.",
        "renal_mass",
        "present",
        None,
        True,
        True,
    ),
    # 9. a stated unstable fracture is not caught by the next sentence's negation
    Case(
        "unstable_fracture",
        "Jefferson fracture, an unstable spine fracture. No cord compression.",
        "unstable_spine_fracture",
        "present",
        None,
        True,
    ),
    Case(
        "unstable_fracture_sections",
        "FINDINGS: Flexion teardrop fracture of C5, an unstable spine fracture."
        " No cord compression is seen.",
        "unstable_spine_fracture",
        "present",
        None,
        True,
        True,
    ),
    # 10. the mass stays present beside an uncertain diagnosis
    Case(
        "mass_suspicious_for",
        "3 cm enhancing mass in the left kidney, suspicious for renal cell carcinoma.",
        "renal_mass",
        "present",
        None,
        True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_pattern(case: Case) -> None:
    mentions = [
        m
        for m in detect_text(case.text, section_aware=case.section_aware)
        if m.finding_code == case.code
    ]
    assert mentions, f"{case.code} not found in {case.text!r}"
    first = mentions[0]
    got = (
        first.assertion.value,
        first.temporality.value if first.temporality else None,
        first.alert,
    )
    assert got == (case.assertion, case.temporality, case.alert), first.triggers


def test_policy_reads_the_procedure_and_window_from_the_report() -> None:
    policy = default_policy()
    assert policy.names_procedure("Postoperative day 1 after robotic prostatectomy.")
    assert policy.names_procedure("Status post cholecystectomy.")
    assert not policy.names_procedure("Large amount of free air.")
    assert policy.within_window("Free air, as expected.", "Laparotomy 2 days ago.")
    assert not policy.within_window("Free air, as expected.", "Laparotomy 4 weeks ago.")
    # the sentence's own interval comes first
    assert policy.within_window("Free air 1 day after surgery.", "Hernia repair 6 weeks ago.")


def test_only_expected_rules_may_need_a_procedure() -> None:
    with pytest.raises(ValidationError):
        ContextRuleSpec.model_validate(
            {
                "id": "neg_x",
                "category": "negated",
                "direction": "forward",
                "phrases": ["x"],
                "needs_procedure": True,
            }
        )
