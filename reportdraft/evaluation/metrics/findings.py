"""Finding-level precision, recall and F1 on extracted clinical facts.

Both texts go through the project's clinical fact extraction
(``reportdraft.verification.extract_facts``), which yields (finding, assertion, laterality,
size) tuples. A draft that says "no left pleural effusion" where the reference says "small
left pleural effusion" shares almost every word with it, and no tuple: this is the metric a
flipped negation, a swapped side or a changed measurement actually moves. Precision is
over the draft's tuples, recall over the reference's; both empty counts as full agreement
(the draft adds nothing to a reference that names nothing).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from reportdraft.evaluation import nlp_access
from reportdraft.evaluation.metrics.metric_group import (
    MetricGroup,
    MetricInfo,
    Values,
    ratio,
    register_group,
)
from reportdraft.evaluation.nlp_access import FindingTuple
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope

POSITIVE = frozenset({"present", "uncertain"})
"""Assertions that state a finding is (or may be) there."""


@dataclass(frozen=True, kw_only=True)
class PRF:
    """Counts and scores of one comparison of tuple sets."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        """tp / (tp + fp); None when the candidate has no tuple."""
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        """tp / (tp + fn); None when the reference has no tuple."""
        return ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        """Harmonic mean; 1.0 when both sides are empty, 0.0 when exactly one is."""
        if self.tp + self.fp + self.fn == 0:
            return 1.0
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn)


def compare_tuples(candidate: Collection[FindingTuple], reference: Collection[FindingTuple]) -> PRF:
    """Exact-match comparison of two tuple sets (duplicates collapse)."""
    cand, ref = set(candidate), set(reference)
    tp = len(cand & ref)
    return PRF(tp=tp, fp=len(cand) - tp, fn=len(ref) - tp)


@register_group
class FindingsGroup(MetricGroup):
    """Finding P/R/F1 against the reference scope; micro-averaged F1 for the corpus."""

    name = "findings"
    infos = (
        MetricInfo(
            name="finding_precision",
            label="Finding precision",
            higher_is_better=True,
            basis="reference",
            description="Share of the draft's (finding, assertion, laterality, size) tuples "
            "that the reference also states.",
        ),
        MetricInfo(
            name="finding_recall",
            label="Finding recall",
            higher_is_better=True,
            basis="reference",
            description="Share of the reference's finding tuples the draft states.",
        ),
        MetricInfo(
            name="finding_f1",
            label="Finding F1",
            higher_is_better=True,
            basis="reference",
            description="F1 of the two tuple sets (1.0 when both name no finding).",
        ),
        MetricInfo(
            name="positive_finding_recall",
            label="Positive finding recall",
            higher_is_better=True,
            basis="reference",
            description="Share of the reference's present/uncertain finding tuples the draft "
            "states; only cases whose reference asserts a finding. A normal-study template "
            "sentence scores 0 here, however often 'normal' is right.",
        ),
    )

    def available(self) -> str | None:
        """Why the clinical fact extraction cannot run here, if it cannot."""
        return nlp_access.extraction_unavailable()

    def _tuples(
        self, ctx: CaseContext, candidate: Candidate
    ) -> tuple[frozenset[FindingTuple], frozenset[FindingTuple]] | None:
        scope = reference_scope(ctx.item.reference)
        if scope is None:
            return None
        return (
            nlp_access.finding_tuples(scope.candidate_text(candidate)),
            nlp_access.finding_tuples(scope.reference_text),
        )

    def _prf(self, ctx: CaseContext, candidate: Candidate) -> PRF | None:
        pair = self._tuples(ctx, candidate)
        return None if pair is None else compare_tuples(*pair)

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """P/R/F1 of the candidate's tuples against the reference's over the same scope."""
        pair = self._tuples(ctx, candidate)
        if pair is None:
            return {info.name: None for info in self.infos}
        cand, ref = pair
        prf = compare_tuples(cand, ref)
        positive = {t for t in ref if t.assertion in POSITIVE}
        return {
            "finding_precision": prf.precision,
            "finding_recall": prf.recall,
            "finding_f1": prf.f1,
            "positive_finding_recall": ratio(len(positive & cand), len(positive)),
        }

    def corpus(self, ctxs: Sequence[CaseContext], candidates: Sequence[Candidate]) -> Values:
        """Micro-averaged F1 over every tuple of every case."""
        tp = fp = fn = 0
        for ctx, cand in zip(ctxs, candidates, strict=True):
            prf = self._prf(ctx, cand)
            if prf is not None:
                tp, fp, fn = tp + prf.tp, fp + prf.fp, fn + prf.fn
        if tp + fp + fn == 0:
            return {"finding_f1_micro": None}
        return {"finding_f1_micro": PRF(tp=tp, fp=fp, fn=fn).f1}

    def corpus_infos(self) -> tuple[MetricInfo, ...]:
        """Micro F1's description."""
        return (
            MetricInfo(
                name="finding_f1_micro",
                label="Finding F1 (micro)",
                higher_is_better=True,
                basis="reference",
                description="F1 over all tuples of all cases pooled.",
            ),
        )
