"""The trap set: radiology wording with expected assertions, and the issue's targets on it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from reportdraft.critical import Detector, active_detector
from reportdraft.critical.trapset import Predicted, TrapItem, TrapSet, load_trap_set, score

HERE = Path(__file__).parent
RULES = {
    "negation",
    "negation_backward",
    "negation_scope",
    "free_air_trap",
    "pseudo_negation",
    "uncertainty",
    "historical",
    "historical_scope",
    "hypothetical",
    "section",
    "section_aware",
    "terminate",
    "lexicon",
    "lexicon_exclusion",
}


@pytest.fixture(scope="module")
def trap_set() -> TrapSet:
    return load_trap_set(HERE / "trap_set.yaml")


@pytest.fixture(scope="module")
def detector() -> Detector:
    return active_detector()


def _predict(detector: Detector, item: TrapItem) -> list[Predicted]:
    mentions = detector.detect_text(
        item.text,
        section_aware=item.section_aware,
        default_section=item.section.value if item.section else None,
        study=item.study(),
    )
    return [
        Predicted(
            m.finding_code,
            m.assertion.value,
            m.alert,
            m.temporality.value if m.temporality else None,
        )
        for m in mentions
    ]


def test_trap_set_is_large_and_covers_every_rule_both_ways(trap_set: TrapSet) -> None:
    assert len(trap_set.items) >= 150
    assert len({i.id for i in trap_set.items}) == len(trap_set.items)
    assert {i.rule for i in trap_set.items} == RULES
    outcomes: dict[str, set[bool]] = defaultdict(set)
    for item in trap_set.items:
        for exp in item.expect:
            outcomes[item.rule].add(exp.alert)
    for rule in RULES - {"lexicon", "lexicon_exclusion"}:
        assert outcomes[rule] == {True, False}, f"{rule} needs alerting and silent items"
    exclusions = [i for i in trap_set.items if i.rule == "lexicon_exclusion"]
    assert exclusions
    assert not any(e.alert for i in exclusions for e in i.expect)


def test_expectations_agree_with_the_lexicon(trap_set: TrapSet, detector: Detector) -> None:
    for item in trap_set.items:
        for exp in item.expect:
            entry = detector.lexicon.entry(exp.code)
            assert entry is not None, f"{item.id}: unknown code {exp.code}"
            assert entry.category == exp.category, item.id


def test_alert_precision_and_recall_meet_the_issue_targets(
    trap_set: TrapSet, detector: Detector
) -> None:
    result = score(trap_set.items, lambda item: _predict(detector, item))
    assert result.recall >= 0.98, result.errors
    assert result.precision >= 0.95, result.errors
    assert result.assertion_accuracy >= 0.97, result.errors
    assert result.missed_mentions == 0, result.errors
    assert result.spurious_mentions == 0, result.errors


def test_held_out_items_meet_the_targets(detector: Detector) -> None:
    holdout = load_trap_set(HERE / "trap_holdout.yaml")
    result = score(holdout.items, lambda item: _predict(detector, item))
    assert result.recall >= 0.98, result.errors
    assert result.precision >= 0.95, result.errors


def test_scorer_counts_misses_and_false_alarms(trap_set: TrapSet) -> None:
    """The scorer itself: a detector that always alerts, and one that finds nothing."""
    items = trap_set.items[:40]
    always = score(items, lambda i: [Predicted(e.code, "present", True) for e in i.expect])
    expected_silent = sum(not e.alert for i in items for e in i.expect)
    assert always.fp == expected_silent
    assert always.fn == 0
    nothing = score(items, lambda i: [])
    assert nothing.tp == 0
    assert nothing.fn == sum(e.alert for i in items for e in i.expect)
    assert nothing.missed_mentions == sum(len(i.expect) for i in items)
