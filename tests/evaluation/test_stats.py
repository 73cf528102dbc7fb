"""Bootstrap intervals and paired significance tests."""

from __future__ import annotations

import numpy as np

from reportdraft.evaluation.stats import (
    approximate_randomization,
    bootstrap_mean,
    paired_bootstrap,
)


def test_bootstrap_mean_brackets_the_mean_and_is_seeded() -> None:
    values = list(np.random.default_rng(1).normal(0.6, 0.1, size=200))
    first = bootstrap_mean(values, seed=3)
    again = bootstrap_mean(values, seed=3)
    assert first is not None
    assert first == again
    assert first.low < first.mean < first.high
    assert first.high - first.low < 0.05  # 200 cases of sd 0.1: CI half-width ~0.014
    assert first.n == 200


def test_bootstrap_ignores_none_and_handles_tiny_inputs() -> None:
    assert bootstrap_mean([None, None]) is None
    single = bootstrap_mean([None, 0.5])
    assert single is not None
    assert (single.low, single.mean, single.high, single.n) == (
        0.5,
        0.5,
        0.5,
        1,
    )


def test_paired_bootstrap_detects_a_consistent_improvement() -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(0.3, 0.9, size=100)
    b = a + 0.05 + rng.normal(0, 0.01, size=100)
    result = paired_bootstrap(list(a), list(b), resamples=1000)
    assert result is not None
    assert result.significant
    assert 0.04 < result.delta < 0.06
    assert result.low > 0
    assert result.p_value < 0.01


def test_paired_bootstrap_finds_no_difference_in_noise() -> None:
    a = np.random.default_rng(0).uniform(0, 1, size=60)
    b = a[::-1].copy()  # same values, other pairing: the mean difference is exactly 0
    result = paired_bootstrap(list(a), list(b), resamples=1000)
    assert result is not None
    assert not result.significant
    assert result.p_value == 1.0


def test_pairs_with_a_missing_side_are_dropped() -> None:
    result = paired_bootstrap([1.0, None, 0.0], [1.0, 0.0, None])
    assert result is not None
    assert result.n == 1
    assert result.delta == 0.0
    assert paired_bootstrap([None], [1.0]) is None


def test_approximate_randomization_is_never_zero() -> None:
    p = approximate_randomization([0.0] * 30, [1.0] * 30, resamples=500)
    assert 0 < p <= 1 / 250


def test_few_cases_need_both_the_interval_and_the_test() -> None:
    # Three of six cases improve by 1: the percentile CI excludes 0, the AR test does not reject.
    result = paired_bootstrap([0.0] * 6, [1.0, 1.0, 1.0, 0.0, 0.0, 0.0], resamples=2000)
    assert result is not None
    assert result.low > 0
    assert result.p_value > 0.05
    assert not result.significant
