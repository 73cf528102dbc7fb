"""The blind sets stay at least as good as when they were last scored (a ratchet, not a goal).

Each floor is the score the code reached in the session that committed it, rounded down;
the sets themselves are never edited, so a floor can only rise. The items still wrong are
listed by ``python -m tests.blind.score --out FILE``.
"""

from __future__ import annotations

import pytest

from tests.blind import score

FLOORS: dict[str, dict[str, float]] = {
    "critical_assertion": {
        "items_alert_right": 0.93,
        "alert_recall": 0.92,
        "alert_precision": 0.96,
        "assertion_accuracy": 0.98,
    },
    "critical_temporality": {
        "items_alert_right": 0.88,
        "alert_recall": 0.96,
        "alert_precision": 0.88,
        "assertion_accuracy": 0.96,
        "temporality_accuracy": 0.92,
    },
    "instructions": {"detected": 0.77, "kept_out_of_draft": 0.77},
    "default_conflicts": {
        "items_right": 0.82,
        "conflict_free_drafts": 0.82,
        "kept_defaults_present": 0.99,
        "internal_contradiction_recall": 0.6,
    },
    "verifier_anatomy": {"accuracy": 0.86, "changed_fact_caught": 0.97},
}
CEILINGS: dict[str, dict[str, float]] = {
    "instructions": {"ordinary_flagged": 0.05, "ordinary_dropped": 0.05},
    "default_conflicts": {"internal_contradiction_false": 0},
    "verifier_anatomy": {"faithful_flagged": 0.26},
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_blind_set_scores_do_not_fall(name: str) -> None:
    result = score.SCORERS[name](score.load(name))
    low = {k: (result[k], v) for k, v in FLOORS[name].items() if result[k] < v}
    high = {k: (result[k], v) for k, v in CEILINGS.get(name, {}).items() if result[k] > v}
    assert not low, (low, result["errors"])
    assert not high, (high, result["errors"])
