"""The error-injection set (issue 3, "Done means"): take correct drafts, inject each error
kind, and require the verifier to catch >= 95 % of each kind with <= 5 % of the clean drafts
carrying any high/medium flag.

Drafts: the hand-written clean bundles of ``tests/verify/cases`` (always), the rules
drafter's drafts of the bundled examples (when the dictation/template/drafter stages are
installed), and real signed reports drafted verbatim (when the public data folder is there).
``bench/verify_injection.py`` writes the same numbers to ``bench/results/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reportdraft.evaluation.injection import InjectionKind, Report, evaluate, inject
from reportdraft.models import Modality
from tests.verify import corpora
from tests.verify.bundles import Sample
from tests.verify.conftest import run_verifier

DETECTION = 0.95
FALSE_FLAGS = 0.05
ERRORS = tuple(k for k in InjectionKind if k is not InjectionKind.EQUIVALENT_UNIT)


def check(report: Report, *, min_injected: int) -> None:
    """Assert the thresholds; the messages list what was missed or falsely flagged."""
    assert report.clean_false_flag_rate <= FALSE_FLAGS, report.clean_flags
    for kind in ERRORS:
        result = report.kinds[kind.value]
        if result.injected < min_injected:
            continue
        assert result.rate >= DETECTION, (kind.value, result.rate, result.misses[:10])
    control = report.kinds[InjectionKind.EQUIVALENT_UNIT.value]
    assert control.detected == 0, control.misses  # 2.3 cm -> 23 mm is not an error


@pytest.fixture(scope="module")
def hand_report(samples: list[Sample]) -> Report:
    return evaluate(samples, run_verifier)


def test_the_clean_set_is_large_and_varied(samples: list[Sample]) -> None:
    assert len(samples) >= 20
    modalities = {s.case.study.modality for s in samples}
    assert {Modality.XR, Modality.CT, Modality.MR, Modality.US, Modality.MG} <= modalities
    assert sum(1 for s in samples if s.case.study.laterality is not None) >= 4
    rejected = [f for s in samples for f in s.case.ai_findings if f.decision.value == "rejected"]
    assert len(rejected) >= 8


def test_every_error_kind_is_injected(hand_report: Report) -> None:
    for kind in InjectionKind:
        assert hand_report.kinds[kind.value].injected >= 20, kind.value


def test_hand_written_drafts_meet_the_thresholds(hand_report: Report) -> None:
    check(hand_report, min_injected=1)
    assert hand_report.clean_drafts >= 20


def test_injections_really_change_the_draft(samples: list[Sample]) -> None:
    s = next(x for x in samples if x.name == "ct_chest_nodule")
    (value,) = inject(s, InjectionKind.MEASUREMENT_VALUE, limit=1)
    (unit,) = inject(s, InjectionKind.MEASUREMENT_UNIT, limit=1)
    assert "9 mm solid nodule" in value.description
    assert "6 cm solid nodule" in unit.description
    swapped = inject(s, InjectionKind.LATERALITY_SWAP, limit=1)[0]
    assert "left upper lobe" in swapped.description
    dropped = inject(s, InjectionKind.DROPPED_FINDING, limit=1)[0]
    assert len(dropped.draft.statements()) == len(s.draft.statements()) - 1


def test_a_blind_verifier_detects_nothing(samples: list[Sample]) -> None:
    """The harness measures the verifier, not itself: no flags, no detections."""
    report = evaluate(samples[:5], lambda _sample, _draft: [])
    assert all(r.detected == 0 for r in report.kinds.values())
    assert report.clean_flagged == 0


def test_rules_drafts_of_the_examples(samples: list[Sample]) -> None:
    examples = corpora.example_samples()
    assert examples, "no example cases"
    report = evaluate(examples, run_verifier)
    combined = evaluate([*samples, *examples], run_verifier)
    assert report.kinds[InjectionKind.LATERALITY_SWAP.value].injected > 0
    check(combined, min_injected=1)
    for kind in ERRORS:
        result = report.kinds[kind.value]
        if result.injected >= 10:
            assert result.rate >= DETECTION, (kind.value, result.misses[:10])


def test_real_reports_drafted_verbatim(public_data: Path, templates: dict) -> None:  # type: ignore[type-arg]
    openi = corpora.openi_samples(public_data, templates["xr_chest"], limit=300)
    mts = corpora.mtsamples_samples(public_data, templates["generic"])
    assert len(openi) == 300
    assert len(mts) >= 40
    check(evaluate([*openi, *mts], run_verifier), min_injected=20)
