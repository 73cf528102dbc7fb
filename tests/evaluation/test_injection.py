"""Error injection: each rewrite does what it says, deterministically, and metrics react."""

from __future__ import annotations

import random

import pytest

from reportdraft.evaluation.injection import (
    ErrorKind,
    change_measurement,
    default_rules,
    flip_negation,
    inject_draft,
    inject_sentences,
    run_injection,
    swap_laterality,
)
from reportdraft.evaluation.metrics import build_groups
from reportdraft.evaluation.scoring import available_groups
from reportdraft.evaluation.suite import InjectionConfig
from reportdraft.models import SectionKind
from tests.evaluation.helpers import contexts, draft_of, make_case, make_item

RULES = default_rules()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("No pneumothorax.", "Pneumothorax."),
        ("There is no pleural effusion.", "There is pleural effusion."),
        ("No evidence of fracture.", "Fracture."),
        ("Heart size normal without effusion.", "Heart size normal with effusion."),
        ("There is a 6 mm nodule.", "There is no 6 mm nodule."),
        ("Mild cardiomegaly.", "No mild cardiomegaly."),
    ],
)
def test_flip_negation(before: str, after: str) -> None:
    assert flip_negation(before, RULES) == after


def test_swap_laterality_keeps_case() -> None:
    assert swap_laterality("Left effusion, right lung clear.", RULES) == (
        "Right effusion, left lung clear."
    )
    assert swap_laterality("Bilateral effusions.", RULES) is None


def test_change_measurement_doubles_the_first_measured_value() -> None:
    assert change_measurement("A 2.1 cm mass and a 4 mm nodule.", RULES) == (
        "A 4.2 cm mass and a 4 mm nodule."
    )
    assert change_measurement("Mass 3 x 2 cm.", RULES) == "Mass 6 x 2 cm."
    assert change_measurement("Series 4, image 52.", RULES) is None


def test_inject_sentences_is_deterministic_and_knows_when_it_does_not_apply() -> None:
    located = [(SectionKind.IMPRESSION, "No acute disease.")]
    assert inject_sentences(located, ErrorKind.DROPPED_FINDING, random.Random(0), RULES) is None
    assert inject_sentences(located, ErrorKind.LATERALITY_SWAP, random.Random(0), RULES) is None
    added = inject_sentences(located, ErrorKind.ADDED_FINDING, random.Random(0), RULES)
    assert added is not None
    assert len(added) == 2
    assert added[1][1] in RULES.added_findings
    two = [*located, (SectionKind.IMPRESSION, "Stable left effusion.")]
    first = inject_sentences(two, ErrorKind.DROPPED_FINDING, random.Random(5), RULES)
    assert first == inject_sentences(two, ErrorKind.DROPPED_FINDING, random.Random(5), RULES)
    assert first is not None
    assert len(first) == 1


def test_inject_draft_keeps_ids_and_sources() -> None:
    case = make_case("ACC-1", "Small left pleural effusion. No pneumothorax.")
    draft = draft_of(case)
    swapped = inject_draft(draft, ErrorKind.LATERALITY_SWAP, random.Random(0), RULES)
    assert swapped is not None
    assert [s.id for s in swapped.statements()] == [s.id for s in draft.statements()]
    assert "right" in " ".join(s.text for s in swapped.statements()).lower()
    added = inject_draft(draft, ErrorKind.ADDED_FINDING, random.Random(0), RULES)
    assert added is not None
    assert len(added.statements()) == len(draft.statements()) + 1
    assert added.statements()[-1].sources == draft.statements()[-1].sources
    dropped = inject_draft(draft, ErrorKind.DROPPED_FINDING, random.Random(0), RULES)
    assert dropped is not None
    assert len(dropped.statements()) == len(draft.statements()) - 1


def test_injection_table_shows_rouge_is_blind_where_finding_f1_is_not() -> None:
    items = [
        make_item(f"ACC-{i}", "x.", text)
        for i, text in enumerate(
            [
                "Small left pleural effusion. No pneumothorax.",
                "No focal consolidation. Right lower lobe atelectasis.",
                "Stable 6 mm nodule in the left upper lobe. No effusion.",
            ]
        )
    ]
    groups = list(available_groups(build_groups(["findings", "lexical"]))[0])
    result = run_injection(contexts(items), groups, InjectionConfig())
    negation = result.cells["negation_flip"]
    assert negation["finding_f1"].detected == 1.0
    assert negation["finding_f1"].delta is not None
    assert negation["finding_f1"].delta < -0.3
    assert negation["rouge_l"].delta is not None
    assert negation["rouge_l"].delta > -25
    assert result.applied["laterality_swap"]["reference"] == 3
    assert result.applied["negation_flip"]["draft"] == 0  # no drafts given
