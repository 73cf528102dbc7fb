"""The eval's recommendation metrics: concordance with the reference, discordance flags,
hallucinated recommendations, and the worst-case row of a missed recommendation."""

from __future__ import annotations

import json

import pytest

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.evaluation.metrics.guideline_concordance import (
    RecommendationGroup,
    concordance,
    hallucinated,
)
from reportdraft.evaluation.scope import Candidate, CaseContext
from reportdraft.evaluation.suite import EvalCase, Reference
from reportdraft.models import Case, SectionKind, Statement
from reportdraft.resources import data_dir

NODULE = (
    "There is a 6 mm solid nodule in the right upper lobe. Mild emphysema.\n"
    "Impression: Solitary 6 mm solid right upper lobe nodule."
)


@pytest.mark.parametrize(
    ("draft", "reference", "expected"),
    [
        ("Follow-up CT in 6 to 12 months.", "Chest CT in 6-12 months is recommended.", 1.0),
        ("Follow-up CT in 3 months.", "Chest CT in 6-12 months is recommended.", 0.0),
        ("Recommend MRI in 6-12 months.", "Chest CT in 6-12 months is recommended.", 0.0),
        ("No follow-up is needed.", "Chest CT in 6-12 months is recommended.", 0.0),
        ("Nodule.", "Chest CT in 6-12 months is recommended.", 0.0),
        ("Follow-up CT in 3 months.", "Small nodule.", None),
        (
            "Per ACR BI-RADS: routine screening mammography in 12 months.",
            "Routine screening mammography in 1 year is recommended.",
            1.0,
        ),
    ],
)
def test_concordance(draft: str, reference: str, expected: float | None) -> None:
    assert concordance(draft, reference)[0] == expected


def _context(dictation: str, impression: str) -> tuple[CaseContext, Candidate]:
    data = json.loads((data_dir("examples") / "ct_chest_nodule.json").read_text())
    data["dictation"] = dictation
    case = Case.model_validate(data)
    result = drafting.draft_case(case, create_backend("rules", BackendOptions()))
    item = EvalCase(id="n1", case=case, reference=Reference(impression=impression))
    ctx = CaseContext(item=item, dictation=result.dictation, template=result.template)
    return ctx, Candidate.from_draft(result.draft)


def test_rules_draft_recommends_what_the_reference_does_and_hallucinates_nothing() -> None:
    ctx, candidate = _context(
        NODULE, "6 mm nodule. Non-contrast chest CT in 6 to 12 months is recommended."
    )
    values = RecommendationGroup().score(ctx, candidate)
    assert values == {
        "recommendation_concordance": 1.0,
        "recommendation_discordance_flags": 0.0,
        "recommendation_hallucinations": 0.0,
    }


def test_discordance_flags_are_counted() -> None:
    ctx, candidate = _context(NODULE + " Follow-up CT in 3 months.", "6 mm nodule.")
    values = RecommendationGroup().score(ctx, candidate)
    assert values["recommendation_discordance_flags"] == 1.0
    assert values["recommendation_concordance"] is None


def test_a_recommendation_without_a_finding_is_a_hallucination() -> None:
    ctx, candidate = _context("The lungs are clear. No nodules.", "Normal chest CT.")
    draft = candidate.draft
    assert draft is not None
    assert hallucinated(ctx, draft) == 0
    invented = Statement(
        id="S99",
        text="Per Fleischner Society 2017 guidelines: CT at 6-12 months.",
        sources=["G:fleischner-2017", "C:clinical_history"],
    )
    sections = [
        s.model_copy(update={"statements": [*s.statements, invented]})
        if s.kind is SectionKind.IMPRESSION
        else s
        for s in draft.sections
    ]
    assert hallucinated(ctx, draft.model_copy(update={"sections": sections})) == 1
