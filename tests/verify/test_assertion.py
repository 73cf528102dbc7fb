"""Assertion that follows radiology language (issue 12, point 3) in the shared extraction.

Each sentence below is written the way radiologists dictate; the expected reading is the
clinical one. Scope breaks, negated signs, question forms and hedges are tested in both
directions: the change must not turn a real list or a real denial into an assertion.
"""

from __future__ import annotations

import pytest

from reportdraft.verification import Temporality, extract_facts

POS, NEG, UNC, HYP = "present", "negated", "uncertain", "hypothetical"


def reading(text: str) -> dict[str, str]:
    """Concept -> how the text asserts it (the first mention of each concept)."""
    out: dict[str, str] = {}
    for f in extract_facts(text).findings:
        state = NEG if f.negated else HYP if f.hypothetical else UNC if f.uncertain else POS
        out.setdefault(f.term, state)
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a comma splice starts a new, positive statement
        ("No effusion, large right pneumothorax.", {"effusion": NEG, "pneumothorax": POS}),
        ("No pleural effusion, small pneumothorax.", {"effusion": NEG, "pneumothorax": POS}),
        ("No fracture, critical narrowing of the canal.", {"fracture": NEG, "narrowing": POS}),
        ("No pneumothorax and a small effusion.", {"pneumothorax": NEG, "effusion": POS}),
        ("There is no pneumothorax, 2 cm nodule in the right upper lobe.", {"nodule": POS}),
        ("No hydronephrosis, new 4 mm stone in the left ureter.", {"calculus": POS}),
        # ... while a list keeps its negation
        (
            "No pneumothorax, effusion or consolidation.",
            {"pneumothorax": NEG, "effusion": NEG, "consolidation": NEG},
        ),
        (
            "No focal consolidation, large pleural effusion, or pneumothorax.",
            {"consolidation": NEG, "effusion": NEG, "pneumothorax": NEG},
        ),
        ("No fracture, dislocation, or joint effusion.", {"fracture": NEG, "effusion": NEG}),
        # a clause with a link after the comma is a new statement
        ("No acute abnormality, findings compatible with emphysema.", {"emphysema": POS}),
        ("Without pneumothorax, pleural effusion, or edema.", {"edema": NEG}),
    ],
)
def test_comma_splice_ends_the_scope_a_list_keeps_it(text: str, expected: dict[str, str]) -> None:
    got = reading(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "term", "state"),
    [
        ("No flow in the left testis, consistent with torsion.", "torsion", POS),
        ("Absent lung sliding, consistent with pneumothorax.", "pneumothorax", POS),
        ("Absent color flow in the right testis, diagnostic of torsion.", "torsion", POS),
        ("No flow within the left common femoral vein, compatible with DVT.", "thrombosis", POS),
        ("The popliteal vein is not compressible, consistent with DVT.", "thrombosis", POS),
        (
            "Lack of compressibility of the femoral vein, consistent with thrombus.",
            "thrombosis",
            POS,
        ),
        (
            "No lung markings lateral to the pleural line, compatible with pneumothorax.",
            "pneumothorax",
            POS,
        ),
        ("No enhancement of the left kidney, in keeping with infarct.", "infarct", POS),
        ("Absent arterial flow, concerning for torsion.", "torsion", UNC),
        # denials that are not signs run on through the link
        ("No opacity consistent with pneumonia.", "consolidation", NEG),
        ("No internal vascularity suggestive of neoplasm.", "mass", NEG),
        ("No filling defect consistent with pulmonary embolism.", "embolism", NEG),
        ("No findings to suggest pneumonia.", "consolidation", NEG),
        ("No findings suggesting pneumothorax.", "pneumothorax", NEG),
        ("No focal consolidation to suggest pneumonia.", "consolidation", NEG),
    ],
)
def test_a_negated_sign_supports_its_diagnosis(text: str, term: str, state: str) -> None:
    assert reading(text)[term] == state


@pytest.mark.parametrize(
    ("text", "term", "state"),
    [
        ("Pneumothorax? No.", "pneumothorax", NEG),
        ("Pneumothorax? None seen.", "pneumothorax", NEG),
        ("Free air? Negative.", "pneumoperitoneum", NEG),
        ("Is there a pneumothorax? No, the lungs are fully expanded.", "pneumothorax", NEG),
        ("Free air? Yes.", "pneumoperitoneum", POS),
        ("Pneumothorax?", "pneumothorax", UNC),
        ("Question small right pleural effusion.", "effusion", UNC),
        ("Atelectasis rather than pneumonia.", "consolidation", NEG),
        ("Atelectasis rather than pneumonia.", "atelectasis", POS),
        ("Cannot exclude pneumothorax.", "pneumothorax", UNC),
        ("Findings concerning for appendicitis.", "appendicitis", UNC),
        ("Atelectasis versus infiltrate.", "atelectasis", UNC),
        ("Atelectasis versus infiltrate.", "consolidation", UNC),
        ("Opacity may reflect atelectasis or pneumonia.", "atelectasis", UNC),
        ("Differential diagnosis includes pulmonary edema.", "edema", UNC),
        ("Opacity favored to represent atelectasis.", "atelectasis", UNC),
        ("Infiltrate is less likely but not entirely excluded.", "consolidation", UNC),
        ("Correlate clinically for pneumonia.", "consolidation", HYP),
    ],
)
def test_questions_contrasts_and_hedges(text: str, term: str, state: str) -> None:
    assert reading(text)[term] == state


def test_a_question_reaches_only_its_own_sentence() -> None:
    got = reading("Pneumothorax? No. Small left pleural effusion.")
    assert got == {"pneumothorax": NEG, "effusion": POS}


@pytest.mark.parametrize(
    ("text", "state", "temporality"),
    [
        ("Stable small left pleural effusion.", POS, Temporality.UNCHANGED),
        ("Persistent right pleural effusion.", POS, Temporality.UNCHANGED),
        ("Unchanged moderate right pleural effusion.", POS, Temporality.UNCHANGED),
        ("New left pleural effusion.", POS, Temporality.NEW),
        ("Increasing right pleural effusion.", POS, Temporality.WORSENING),
        ("Decreasing right pleural effusion.", POS, Temporality.IMPROVING),
        ("Chronic small left pleural effusion.", POS, Temporality.CHRONIC),
        ("The left pleural effusion has resolved.", NEG, Temporality.RESOLVED),
        ("Interval resolution of the pleural effusion.", NEG, Temporality.RESOLVED),
        ("Small left pleural effusion.", POS, None),
        ("No pleural effusion.", NEG, None),
    ],
)
def test_temporality_is_separate_from_assertion(
    text: str, state: str, temporality: Temporality | None
) -> None:
    (fact,) = [f for f in extract_facts(text).findings if f.term == "effusion"]
    assert reading(text)["effusion"] == state
    assert fact.temporality == temporality


def test_the_plural_lists_of_a_resolution_reach_back_over_the_list() -> None:
    text = "Consolidation, atelectasis, and blunting in the left base have cleared."
    assert reading(text) == {"consolidation": NEG, "atelectasis": NEG}
    # a singular cue after a comma splice does not
    assert reading("Small effusion, pneumothorax has resolved.") == {
        "effusion": POS,
        "pneumothorax": NEG,
    }


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Heart size is mildly enlarged.", POS),
        ("The heart is large.", POS),
        ("Stable enlargement of the cardiac silhouette.", POS),
        ("The heart is not enlarged.", NEG),
        ("The heart is not significantly enlarged.", NEG),
        ("No cardiac enlargement.", NEG),
    ],
)
def test_an_organ_and_its_predicate_name_a_finding(text: str, state: str) -> None:
    assert reading(text)["cardiomegaly"] == state


@pytest.mark.parametrize(
    "text",
    [
        "Heart size is normal.",
        "Large hiatal hernia behind the heart.",  # the predicate describes the hernia
        "Prominent left heart border.",
    ],
)
def test_no_composed_finding_without_its_predicate(text: str) -> None:
    assert "cardiomegaly" not in reading(text)
