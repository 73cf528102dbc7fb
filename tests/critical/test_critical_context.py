"""ConText rule files and the choice among cues (no spaCy needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reportdraft.critical.context import Cue, CueCategory, decide, default_rules, load_rules
from reportdraft.errors import ConfigurationError
from reportdraft.models import Assertion


def cue(category: str, distance: int, *, resolves: bool = False, rule: str = "r") -> Cue:
    return Cue(rule, CueCategory(category), "cue", distance, resolves)


def test_no_cue_is_present() -> None:
    assert decide([]) == (Assertion.PRESENT, [])
    assert decide([cue("current", 0)])[0] is Assertion.PRESENT


def test_nearest_cue_wins() -> None:
    # "Possible cholecystitis, no appendicitis": for appendicitis "no" is nearer
    verdict, why = decide([cue("uncertain", 3, rule="far"), cue("negated", 0, rule="near")])
    assert verdict is Assertion.NEGATED
    assert [c.rule_id for c in why] == ["near"]


def test_tie_prefers_uncertain_over_negated() -> None:
    assert decide([cue("negated", 1), cue("uncertain", 1)])[0] is Assertion.UNCERTAIN
    assert decide([cue("uncertain", 1), cue("hypothetical", 1)])[0] is Assertion.HYPOTHETICAL


def test_current_turns_historical_into_present_but_not_negated() -> None:
    verdict, why = decide([cue("historical", 0, rule="known"), cue("current", 2, rule="new")])
    assert verdict is Assertion.PRESENT
    assert [c.rule_id for c in why] == ["new", "known"]
    assert decide([cue("negated", 0), cue("current", 1)])[0] is Assertion.NEGATED


def test_resolution_with_a_historical_cue_is_historical() -> None:
    both = [cue("negated", 0, resolves=True), cue("historical", 1)]
    assert decide(both)[0] is Assertion.HISTORICAL
    plain_negation = [cue("negated", 0), cue("historical", 1)]
    assert decide(plain_negation)[0] is Assertion.NEGATED


def test_bundled_rules_cover_each_category() -> None:
    counts = default_rules().counts()
    for category in ("negated", "uncertain", "historical", "hypothetical", "pseudo", "terminate"):
        assert counts[category] > 0, category
    # medspaCy's trap: "free" must never be a negation cue
    negations = {p for r in default_rules().rules if r.category == "negated" for p in r.phrases}
    assert "free" not in negations
    assert "free of" in negations
    hypothetical = {
        p for r in default_rules().rules if r.category == "hypothetical" for p in r.phrases
    }
    assert {"rule out", "evaluate for", "r/o"} <= hypothetical


def _write(tmp_path: Path, rules: list[Any]) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"schema": "reportdraft.critical.context/1", "rules": rules}))
    return path


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"id": "x1", "category": "negated", "phrases": ["no"], "scope": 3}, "scope"),
        ({"id": "x1", "category": "negated", "phrases": ["no"]}, "needs a direction"),
        (
            {"id": "x1", "category": "terminate", "direction": "forward", "phrases": ["but"]},
            "no direction",
        ),
        (
            {
                "id": "x1",
                "category": "negated",
                "direction": "forward",
                "asserts": "historical",
                "phrases": ["no"],
            },
            "only pseudo",
        ),
        ({"id": "x1", "category": "negated", "direction": "forward"}, "needs phrases"),
        (
            {"id": "x1", "category": "sometimes", "direction": "forward", "phrases": ["x"]},
            "category",
        ),
    ],
)
def test_invalid_rule_files_are_rejected(
    tmp_path: Path, rule: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_rules(_write(tmp_path, [rule]))


def test_duplicate_rule_ids_are_rejected(tmp_path: Path) -> None:
    rule = {"id": "neg_no", "category": "negated", "direction": "forward", "phrases": ["no"]}
    with pytest.raises(ConfigurationError, match="duplicate"):
        load_rules(_write(tmp_path, [rule, rule]))


def test_pseudo_rule_with_asserts_acts_as_that_category(tmp_path: Path) -> None:
    rule = {
        "id": "pseudo_x",
        "category": "pseudo",
        "asserts": "historical",
        "direction": "bidirectional",
        "phrases": ["no interval change"],
    }
    loaded = load_rules(_write(tmp_path, [rule]))
    assert loaded.rules[0].effective_category is CueCategory.HISTORICAL
    assert loaded.counts() == {"pseudo": 1}
