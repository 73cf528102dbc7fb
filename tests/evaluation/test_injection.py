"""Error injection: each rewrite does what it says, deterministically, and metrics react; the
one rules file drives both harnesses (the metric table and the verifier's detection set)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reportdraft.errors import ConfigurationError
from reportdraft.evaluation.injection import (
    ErrorKind,
    LengthEdit,
    add_negation,
    change_measurement,
    default_rules,
    edit_length,
    flip_negation,
    inject_draft,
    inject_sentences,
    load_rules,
    remove_negation,
    run_injection,
    swap_laterality,
)
from reportdraft.evaluation.injection.rewrites import Capitalise, Pick, Rule, RuleSet, apply_rules
from reportdraft.evaluation.metrics import build_groups
from reportdraft.evaluation.scoring import available_groups
from reportdraft.evaluation.suite import InjectionConfig
from reportdraft.models import SectionKind
from reportdraft.resources import package_data
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


# --------------------------------------------------------------------------- the shared rules


def test_the_verifier_rewrites_are_data_driven_and_keep_their_behaviour() -> None:
    assert remove_negation("No pneumothorax.", RULES) == "Pneumothorax."
    # the earliest negation goes, and a pseudo-negation is neither a cue nor a match
    assert remove_negation("Lungs clear; no effusion.", RULES) == "Lungs clear; Effusion."
    assert remove_negation("No significant interval change.", RULES) is None
    assert remove_negation("No significant change; no effusion.", RULES) == (
        "No significant change; Effusion."
    )
    assert add_negation("There is a small effusion.", RULES) == "There is no small effusion."
    assert add_negation("A 6 mm nodule.", RULES) == "No 6 mm nodule."
    assert add_negation("The heart is enlarged.", RULES) == "The heart is not enlarged."
    assert add_negation("CT shows free air.", RULES) == "No CT shows free air."
    assert add_negation("No effusion.", RULES) is None
    assert edit_length("A 6 mm nodule.", LengthEdit.VALUE, RULES) == "A 9 mm nodule."
    assert edit_length("Mass 2.3 x 1.1 cm.", LengthEdit.VALUE, RULES) == "Mass 3.2 x 1.1 cm."
    assert edit_length("Cyst 2.2 cm.", LengthEdit.VALUE, RULES) == "Cyst 3.2 cm."
    assert edit_length("A 2.3 cm mass.", LengthEdit.UNIT, RULES) == "A 2.3 mm mass."
    assert edit_length("A 2.3 cm mass.", LengthEdit.EQUIVALENT, RULES) == "A 23 mm mass."
    assert edit_length("Series 4, image 52.", LengthEdit.VALUE, RULES) is None


def test_the_table_and_the_verifier_swap_sides_with_one_rule() -> None:
    """Both harnesses plant a laterality error through the same rewrite, case kept."""
    assert swap_laterality("LEFT knee; right hip.", RULES) == "RIGHT knee; left hip."
    assert swap_laterality("Left effusion.", RULES) == "Right effusion."


def test_the_table_negation_prefix_lowers_the_first_letter() -> None:
    """The table's last-resort 'No ' prefix lowers the first letter even of an acronym (its
    recorded behaviour); the verifier's keeps an acronym's case (see above)."""
    assert flip_negation("BI-RADS 1: Negative.", RULES) == "No bI-RADS 1: Negative."


def test_rule_sets_pick_the_first_rule_or_the_earliest_match() -> None:
    rules = [Rule(pattern=r"\bb\b", replace="B"), Rule(pattern=r"\ba\b", replace="A")]
    first = RuleSet(pick=Pick.FIRST_RULE, capitalise=Capitalise.NONE, rules=rules)
    earliest = RuleSet(pick=Pick.EARLIEST_MATCH, capitalise=Capitalise.NONE, rules=rules)
    assert apply_rules("x a b", first, RULES) == "x a B"
    assert apply_rules("x a b", earliest, RULES) == "x A b"
    assert apply_rules("x y", first, RULES) is None
    assert apply_rules("x y", earliest, RULES) is None


def test_the_bundled_rules_file_is_the_one_both_harnesses_read() -> None:
    assert load_rules(package_data("evaluation", "injection.yaml")) == RULES
    assert RULES.unsupported_findings
    assert RULES.added_findings


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.update(color="blue"), "color"),
        (lambda d: d["negation"]["remove"]["rules"].append({"pattern": "(", "replace": ""}), "("),
        (lambda d: d["measurement"]["lengths"]["cm"].update(other="in"), "in"),
        (lambda d: d["negation"].update(cues=[]), "cues"),
    ],
)
def test_a_bad_rules_file_is_a_configuration_error(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], problem: str
) -> None:
    data = yaml.safe_load(package_data("evaluation", "injection.yaml").read_text("utf-8"))
    edit(data)
    path = tmp_path / "injection.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="invalid injection rules") as caught:
        load_rules(path)
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)
