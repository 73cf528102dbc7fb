"""Scoring candidates: per-case values of every metric group, aggregated with CIs.

This is the part shared by the systems, the constant baseline and the error-injection
suite: give it the case contexts and one candidate per case, get back per-case values,
means with bootstrap intervals and the corpus-level values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reportdraft.evaluation.metrics import MetricGroup, MetricInfo, Values
from reportdraft.evaluation.scope import Candidate, CaseContext
from reportdraft.evaluation.stats import Interval, bootstrap_mean
from reportdraft.evaluation.suite import StatsConfig


@dataclass(frozen=True, kw_only=True)
class Scores:
    """Per-case values (aligned with the cases), their means with CIs, corpus values."""

    per_case: list[Values]
    summary: dict[str, Interval | None] = field(default_factory=dict)
    corpus: Values = field(default_factory=dict)

    def column(self, name: str) -> list[float | None]:
        """The per-case values of metric ``name`` (None where undefined)."""
        return [row.get(name) for row in self.per_case]

    def mean(self, name: str) -> float | None:
        """The headline value of ``name``: the per-case mean, else the corpus value."""
        interval = self.summary.get(name)
        if interval is not None:
            return interval.mean
        return self.corpus.get(name)


def available_groups(groups: Sequence[MetricGroup]) -> tuple[list[MetricGroup], dict[str, str]]:
    """Split groups into those that can run and ``{name: reason}`` for those that cannot."""
    ready: list[MetricGroup] = []
    missing: dict[str, str] = {}
    for group in groups:
        reason = group.available()
        if reason is None:
            ready.append(group)
        else:
            missing[group.name] = reason
    return ready, missing


def metric_infos(groups: Sequence[MetricGroup]) -> list[MetricInfo]:
    """Every per-case and corpus value the groups produce, in report order."""
    infos: list[MetricInfo] = []
    for group in groups:
        infos.extend(group.infos)
        infos.extend(group.corpus_infos())
    return infos


def score_values(groups: Sequence[MetricGroup], ctx: CaseContext, candidate: Candidate) -> Values:
    """Every group's per-case values for one case."""
    values: Values = {}
    for group in groups:
        values.update(group.score(ctx, candidate))
    return values


def score(
    groups: Sequence[MetricGroup],
    contexts: Sequence[CaseContext],
    candidates: Sequence[Candidate | None],
    stats: StatsConfig,
    *,
    with_intervals: bool = True,
) -> Scores:
    """Score one candidate per case and aggregate (bootstrap intervals when asked).

    A None candidate is a case the system did not run (``max_cases``): every value is None
    there, so it counts in no mean and pairs with nothing.
    """
    names = [info.name for group in groups for info in group.infos]
    per_case = [
        score_values(groups, ctx, cand) if cand is not None else dict.fromkeys(names)
        for ctx, cand in zip(contexts, candidates, strict=True)
    ]
    ran = [(ctx, cand) for ctx, cand in zip(contexts, candidates, strict=True) if cand is not None]
    summary: dict[str, Interval | None] = {}
    for group in groups:
        for info in group.infos:
            column = [row.get(info.name) for row in per_case]
            if with_intervals:
                summary[info.name] = bootstrap_mean(
                    column, resamples=stats.resamples, seed=stats.seed, confidence=stats.confidence
                )
            else:
                clean = [v for v in column if v is not None]
                summary[info.name] = (
                    Interval(mean=sum(clean) / len(clean), low=0.0, high=0.0, n=len(clean))
                    if clean
                    else None
                )
    corpus: Values = {}
    for group in groups:
        corpus.update(group.corpus([c for c, _ in ran], [c for _, c in ran]))
    return Scores(per_case=per_case, summary=summary, corpus=corpus)
