"""Issue-12 mechanisms on data-driven cases (tests/critical/language_cases.yaml), through
the real spaCy/medspaCy pipeline: every case must come out exactly as written."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from reportdraft.critical import Detector, active_detector
from reportdraft.critical.trapset import Predicted, TrapItem, TrapSet, load_trap_set, score

HERE = Path(__file__).parent
CASES = load_trap_set(HERE / "language_cases.yaml")


def _predict(detector: Detector, item: TrapItem) -> list[Predicted]:
    mentions = detector.detect_text(
        item.text,
        section_aware=item.section_aware,
        default_section=item.section.value if item.section else None,
        study=item.study(),
    )
    for mention, expected in zip(mentions, item.expect, strict=False):
        if expected.section is not None:
            assert mention.section == expected.section.value, item.id
    return [
        Predicted(
            m.finding_code,
            m.assertion.value,
            m.alert,
            m.temporality.value if m.temporality else None,
        )
        for m in mentions
    ]


@pytest.fixture(scope="module")
def cases() -> TrapSet:
    return CASES


def test_every_mechanism_has_cases_that_alert_and_cases_that_do_not(cases: TrapSet) -> None:
    outcomes: dict[str, set[bool]] = defaultdict(set)
    for item in cases.items:
        for exp in item.expect:
            outcomes[item.rule].add(exp.alert)
    assert set(outcomes) == {
        "clause_boundary",
        "negated_sign",
        "question_answer",
        "set_aside",
        "temporality",
        "expected_postoperative",
        "organ",
        "lexicon_acr",
        "section_bounded",
    }
    for rule, seen in outcomes.items():
        assert seen == {True, False}, rule


@pytest.mark.parametrize("item", CASES.items, ids=[i.id for i in CASES.items])
def test_case(item: TrapItem) -> None:
    detector = active_detector()
    result = score([item], lambda i: _predict(detector, i))
    assert result.errors == [], result.errors
    assert result.missed_mentions == result.spurious_mentions == 0, (
        item.text,
        [(m.finding_code, m.text) for m in detector.detect_text(item.text)],
    )
