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
        "items_alert_right": 0.99,
        "alert_recall": 1.0,
        "alert_precision": 0.98,
        "assertion_accuracy": 1.0,
    },
    "critical_temporality": {
        "items_alert_right": 0.94,
        "alert_recall": 0.99,
        "alert_precision": 0.92,
        "assertion_accuracy": 1.0,
        "temporality_accuracy": 0.94,
    },
    "instructions": {"detected": 0.99, "kept_out_of_draft": 0.99},
    "default_conflicts": {
        "items_right": 0.99,
        "conflict_free_drafts": 0.98,
        "kept_defaults_present": 1.0,
        "internal_contradiction_recall": 1.0,
    },
    "verifier_anatomy": {"accuracy": 0.97, "changed_fact_caught": 1.0},
    "communication_records": {"accuracy": 0.98, "refused_caught": 1.0, "accepted_kept": 0.96},
    # First scored untuned at 105/123 (bench/results/blind_guidelines_untuned.json); 119/123
    # after fixing the error patterns it exposed (no longer a blind figure).
    "guidelines": {"accuracy": 0.96, "category_right": 1.0, "not_applicable_right": 0.8},
    # First scored untuned at 57/78 (bench/results/blind_impressions_untuned.json).
    "impressions": {
        "items_right": 0.76,
        "must_mention_found": 0.83,
        "must_not_mention_absent": 0.95,
        "normal_required_right": 0.93,
    },
    # First scored untuned at 45/49 (bench/results/blind_chest_scope_untuned.json); 48/49
    # after fixing the two error patterns it exposed (no longer a blind figure).
    "chest_scope": {
        "items_right": 0.97,
        "must_mention_found": 1.0,
        "must_not_mention_absent": 0.97,
        "normal_required_right": 0.95,
    },
}
CEILINGS: dict[str, dict[str, float]] = {
    "instructions": {"ordinary_flagged": 0.032, "ordinary_dropped": 0.032},
    "default_conflicts": {"internal_contradiction_false": 0},
    "verifier_anatomy": {"faithful_flagged": 0.061},
    "chest_scope": {
        "normal_forbidden_violations": 0,
        "normal_forbidden_unflagged": 0,
        "high_flag_items": 0,
    },
    "impressions": {
        "normal_forbidden_violations": 2,
        "normal_forbidden_unflagged": 0,
        "high_flag_items": 0,
    },
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_blind_set_scores_do_not_fall(name: str) -> None:
    result = score.SCORERS[name](score.load(name))
    low = {k: (result[k], v) for k, v in FLOORS[name].items() if result[k] < v}
    high = {k: (result[k], v) for k, v in CEILINGS.get(name, {}).items() if result[k] > v}
    assert not low, (low, result["errors"])
    assert not high, (high, result["errors"])
