"""Confidence intervals and significance tests for per-case metric values (numpy, seeded).

QA teams must defend a claim such as "the new prompt raised finding F1 by 0.04". Two
tools, both over *paired* per-case values (the same cases scored for both systems), so
case difficulty cancels out:

* :func:`paired_bootstrap` resamples cases with replacement and reports the percentile
  interval of the mean difference;
* :func:`approximate_randomization` swaps each case's two values at random (the null
  hypothesis: the systems are exchangeable) and reports how often the shuffled absolute
  difference is at least the observed one.

Cases where either system has no value for a metric (e.g. recall with no reference
findings) are left out of that metric's pairing; ``n`` says how many remained.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class Interval:
    """A mean with its percentile-bootstrap interval over ``n`` cases."""

    mean: float
    low: float
    high: float
    n: int


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """``b - a`` on the cases both systems have a value for, with its CI and p-value."""

    delta: float
    low: float
    high: float
    p_value: float
    n: int
    alpha: float = 0.05

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero *and* the randomisation test rejects at
        ``alpha``: with few cases the percentile bootstrap is optimistic, so both must agree."""
        return (self.low > 0 or self.high < 0) and self.p_value < self.alpha


def _clean(values: Sequence[float | None]) -> Floats:
    return np.array([v for v in values if v is not None and not math.isnan(v)], dtype=float)


def bootstrap_mean(
    values: Sequence[float | None],
    *,
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Interval | None:
    """Mean of ``values`` (Nones dropped) with a percentile bootstrap interval; None if empty."""
    data = _clean(values)
    if data.size == 0:
        return None
    mean = float(data.mean())
    if data.size == 1:
        return Interval(mean=mean, low=mean, high=mean, n=1)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, data.size, size=(resamples, data.size))
    means = data[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(mean=mean, low=float(low), high=float(high), n=int(data.size))


def _pairs(a: Sequence[float | None], b: Sequence[float | None]) -> tuple[Floats, Floats]:
    if len(a) != len(b):
        raise ValueError("paired tests need the same cases for both systems")
    keep = [
        (x, y)
        for x, y in zip(a, b, strict=True)
        if x is not None and y is not None and not (math.isnan(x) or math.isnan(y))
    ]
    if not keep:
        return np.zeros(0), np.zeros(0)
    arr = np.array(keep, dtype=float)
    return arr[:, 0], arr[:, 1]


def paired_bootstrap(
    a: Sequence[float | None],
    b: Sequence[float | None],
    *,
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Comparison | None:
    """Mean of ``b - a`` over paired cases, its bootstrap CI and AR p-value; None if no pairs."""
    xa, xb = _pairs(a, b)
    if xa.size == 0:
        return None
    diff = xb - xa
    delta = float(diff.mean())
    if diff.size == 1:
        low = high = delta
    else:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, diff.size, size=(resamples, diff.size))
        means = diff[idx].mean(axis=1)
        alpha = (1 - confidence) / 2
        low, high = (float(q) for q in np.quantile(means, [alpha, 1 - alpha]))
    p_value = approximate_randomization(xa, xb, resamples=resamples, seed=seed)
    return Comparison(
        delta=delta,
        low=low,
        high=high,
        p_value=p_value,
        n=int(diff.size),
        alpha=round(1 - confidence, 10),
    )


def approximate_randomization(
    a: Sequence[float] | Floats,
    b: Sequence[float] | Floats,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> float:
    """Two-sided p-value of ``mean(b - a) != 0`` by random swaps within each pair.

    Uses the (count + 1) / (resamples + 1) estimate, so p is never exactly zero.
    """
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if diff.size == 0:
        return 1.0
    observed = abs(diff.mean())
    if observed == 0:
        return 1.0
    rng = np.random.default_rng(seed + 1)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(resamples, diff.size))
    shuffled = np.abs((signs * diff).mean(axis=1))
    count = int((shuffled >= observed - 1e-12).sum())
    return (count + 1) / (resamples + 1)
