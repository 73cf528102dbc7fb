"""ConText rule files and the choice among cues (no spaCy needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reportdraft.critical.context_rules import (
    Cue,
    CueCategory,
    decide,
    default_rules,
    load_rules,
    time_course,
)
from reportdraft.errors import ConfigurationError
from reportdraft.models import Assertion
from reportdraft.models.critical import Temporality


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


def test_resolution_with_a_historical_cue_is_negated() -> None:
    # issue 12 point 4: a finding that has resolved is not there now (temporality: resolved)
    both = [cue("negated", 0, resolves=True), cue("historical", 1)]
    assert decide(both)[0] is Assertion.NEGATED
    resolution_further = [cue("historical", 0), cue("negated", 3, resolves=True)]
    assert decide(resolution_further)[0] is Assertion.NEGATED
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


def sign(distance: int, *, before: bool = True) -> Cue:
    return Cue("neg_sign", CueCategory.NEGATED, "absent lung sliding", distance, before=before,
               sign=True)  # fmt: skip


def support(distance: int, *, before: bool = True) -> Cue:
    return Cue("support", CueCategory.SUPPORT, "consistent with", distance, before=before)


def test_a_negated_sign_linked_by_support_does_not_negate() -> None:
    # "Absent lung sliding, consistent with pneumothorax"
    verdict, why = decide([sign(4), support(0)])
    assert verdict is Assertion.PRESENT
    assert [c.rule_id for c in why] == ["support", "neg_sign"]
    # no link: "no flow abnormality to suggest torsion" negates as usual
    assert decide([sign(4)])[0] is Assertion.NEGATED
    # the support must lie between the sign and the mention, on the same side
    assert decide([sign(1), support(4)])[0] is Assertion.NEGATED
    assert decide([sign(4), support(0, before=False)])[0] is Assertion.NEGATED
    # a plain negation is never dropped
    assert decide([cue("negated", 4), support(0)])[0] is Assertion.NEGATED


def test_ongoing_time_courses_make_a_previously_seen_finding_present() -> None:
    unchanged = Cue("t", CueCategory.TEMPORAL, "unchanged", 3, temporality=Temporality.UNCHANGED)
    chronic = Cue("c", CueCategory.TEMPORAL, "chronic", 0, temporality=Temporality.CHRONIC)
    assert decide([cue("historical", 0), unchanged])[0] is Assertion.PRESENT
    assert decide([cue("historical", 0), chronic])[0] is Assertion.HISTORICAL
    assert decide([unchanged])[0] is Assertion.PRESENT


def test_time_course_follows_the_precedence() -> None:
    precedence = list(Temporality)
    new = Cue("n", CueCategory.CURRENT, "new", 5, temporality=Temporality.NEW)
    known = Cue("k", CueCategory.TEMPORAL, "known", 0, temporality=Temporality.KNOWN)
    assert time_course([], precedence) == (None, [])
    assert time_course([known, new], precedence) == (Temporality.NEW, [new])
    reverse = list(reversed(precedence))
    assert time_course([known, new], reverse) == (Temporality.KNOWN, [known])
    assert time_course([cue("negated", 0)], precedence) == (None, [])


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"id": "x1", "category": "uncertain", "direction": "forward", "phrases": ["x"],
          "sign": True}, "only negated rules may carry `sign`"),
        ({"id": "x1", "category": "temporal", "direction": "forward", "phrases": ["x"]},
         "needs a temporality"),
        ({"id": "x1", "category": "negated", "direction": "forward", "phrases": ["x"],
          "temporality": "new"}, "carry one"),
        ({"id": "x1", "category": "terminate", "phrases": ["x"], "applies_to": ["pe"]},
         "applies_to"),
    ],
)  # fmt: skip
def test_invalid_issue12_rule_fields(tmp_path: Path, rule: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_rules(_write(tmp_path, [rule]))


def test_bundled_rules_state_time_courses_and_clause_words() -> None:
    rules = {r.id: r for r in default_rules().rules}
    assert rules["cur_new"].time_course is Temporality.NEW
    assert rules["neg_has_resolved"].time_course is Temporality.RESOLVED
    assert rules["temp_unchanged"].time_course is Temporality.UNCHANGED
    assert "stable" in rules["temp_unchanged"].phrases
    historical = {p for r in rules.values() if r.category == "historical" for p in r.phrases}
    assert not {"stable", "unchanged", "persistent", "known"} & historical
    breaks = default_rules().clause_breaks
    assert "or" in breaks.list_words
    assert "large" in breaks.modifiers
    assert "no" in default_rules().question_answers


def test_first_token_sets_are_expanded_for_the_matcher() -> None:
    from reportdraft.critical.spacy_pipeline import expand_first

    pattern: list[dict[str, Any]] = [{"LOWER": {"IN": ["No", "absent"]}}, {"LOWER": "flow"}]
    assert expand_first(pattern) == [
        [{"LOWER": "no"}, {"LOWER": "flow"}],
        [{"LOWER": "absent"}, {"LOWER": "flow"}],
    ]
    optional: list[dict[str, Any]] = [{"LOWER": {"IN": ["a"]}, "OP": "?"}, {"LOWER": "b"}]
    assert expand_first(optional) == [optional]
    regex: list[dict[str, Any]] = [{"LOWER": {"REGEX": "^a"}}]
    assert expand_first(regex) == [regex]
