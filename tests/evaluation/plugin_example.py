"""A weight-loading metric plugin used by the plugin tests.

Its "weights" are a local JSON file of term weights; the point is the contract: the harness
hands the plugin an existing local path and the plugin loads from it, never from a hub.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from reportdraft.evaluation.metrics import MetricInfo, Values
from reportdraft.evaluation.plugins import MetricPlugin
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope


class WeightedOverlap(MetricPlugin):
    """Share of the reference's weighted terms that the candidate mentions."""

    name: ClassVar[str] = "weighted_overlap"
    infos: ClassVar[tuple[MetricInfo, ...]] = (
        MetricInfo(
            name="weighted_overlap",
            label="Weighted term overlap",
            higher_is_better=True,
            basis="reference",
            description="Test plugin: weighted share of reference terms found in the draft.",
        ),
    )

    def __init__(self, *, weights: Path, options: dict[str, Any]) -> None:
        super().__init__(weights=weights, options=options)
        self.table: dict[str, float] = json.loads(weights.read_text(encoding="utf-8"))

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        scope = reference_scope(ctx.item.reference)
        if scope is None:
            return {"weighted_overlap": None}
        ref = scope.reference_text.lower()
        hyp = scope.candidate_text(candidate).lower()
        total = sum(w for t, w in self.table.items() if t in ref)
        if not total:
            return {"weighted_overlap": None}
        return {
            "weighted_overlap": sum(w for t, w in self.table.items() if t in ref and t in hyp)
            / total
        }
