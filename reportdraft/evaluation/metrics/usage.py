"""Latency and token usage per case: what a system costs to run."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reportdraft.evaluation.metrics.metric_group import (
    MetricGroup,
    MetricInfo,
    Values,
    register_group,
)
from reportdraft.evaluation.scope import Candidate, CaseContext


@register_group
class UsageGroup(MetricGroup):
    """Drafting wall time and the model's token counts from the draft's provenance."""

    name = "usage"
    infos = (
        MetricInfo(
            name="latency_s",
            label="Latency (s)",
            higher_is_better=False,
            basis="usage",
            needs_draft=True,
            description="Wall time of drafting one case (normalise, draft, verify, critical).",
        ),
        MetricInfo(
            name="prompt_tokens",
            label="Prompt tokens",
            higher_is_better=False,
            basis="usage",
            needs_draft=True,
            description="Prompt tokens over all model calls of the draft.",
        ),
        MetricInfo(
            name="completion_tokens",
            label="Completion tokens",
            higher_is_better=False,
            basis="usage",
            needs_draft=True,
            description="Generated tokens over all model calls of the draft.",
        ),
        MetricInfo(
            name="model_calls",
            label="Model calls",
            higher_is_better=False,
            basis="usage",
            needs_draft=True,
            description="Model calls (including re-asks) behind the draft.",
        ),
    )

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """Usage numbers of the draft; None for text-only candidates."""
        draft = candidate.draft
        if draft is None:
            return {info.name: None for info in self.infos}
        usage = draft.provenance.usage
        return {
            "latency_s": candidate.seconds,
            "prompt_tokens": float(usage.prompt_tokens),
            "completion_tokens": float(usage.completion_tokens),
            "model_calls": float(usage.calls),
        }

    def corpus(self, ctxs: Sequence[CaseContext], candidates: Sequence[Candidate]) -> Values:
        """Median and 95th percentile of latency (the mean hides a slow tail and warm-up)."""
        times = [c.seconds for c in candidates if c.draft is not None and c.seconds is not None]
        if not times:
            return {"latency_p50_s": None, "latency_p95_s": None}
        p50, p95 = np.percentile(np.array(times, dtype=float), [50, 95])
        return {"latency_p50_s": float(p50), "latency_p95_s": float(p95)}

    def corpus_infos(self) -> tuple[MetricInfo, ...]:
        """Latency percentiles' descriptions."""
        return tuple(
            MetricInfo(
                name=f"latency_{q}_s",
                label=f"Latency {q} (s)",
                higher_is_better=False,
                basis="usage",
                description=f"{q} of drafting wall time per case.",
            )
            for q in ("p50", "p95")
        )
