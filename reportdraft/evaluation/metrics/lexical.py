"""ROUGE-L and BLEU, from the maintained packages (``rouge-score``, ``sacrebleu``).

Both are word-overlap scores on a 0-100 scale: they are cheap and familiar, and blind to
most clinically important errors (a flipped negation changes one word). The report always
shows them beside the constant-impression baseline scored on the same cases, which is
the floor a lexical score must clear to mean anything (about 45 ROUGE-L on Open-i).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import sacrebleu
from rouge_score import rouge_scorer

from reportdraft.evaluation.metrics.metric_group import (
    MetricGroup,
    MetricInfo,
    Values,
    register_group,
)
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope


@cache
def _scorer() -> Any:
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F-measure ×100 (Porter stemming, rouge-score's tokenizer)."""
    if not candidate.strip() or not reference.strip():
        return 0.0
    return float(_scorer().score(reference, candidate)["rougeL"].fmeasure) * 100


def sentence_bleu(candidate: str, reference: str) -> float:
    """Sentence BLEU (sacrebleu, exponential smoothing) on 0-100."""
    if not candidate.strip() or not reference.strip():
        return 0.0
    return float(sacrebleu.sentence_bleu(candidate, [reference]).score)


def corpus_bleu(candidates: Sequence[str], references: Sequence[str]) -> float | None:
    """Corpus BLEU (sacrebleu defaults) on 0-100; None with no pairs."""
    if not candidates:
        return None
    return float(sacrebleu.corpus_bleu(list(candidates), [list(references)]).score)


@register_group
class LexicalGroup(MetricGroup):
    """ROUGE-L and sentence BLEU per case; corpus BLEU for the whole suite."""

    name = "lexical"
    infos = (
        MetricInfo(
            name="rouge_l",
            label="ROUGE-L",
            higher_is_better=True,
            basis="reference",
            scale=100.0,
            description="Longest-common-subsequence F-measure ×100 against the reference.",
        ),
        MetricInfo(
            name="bleu",
            label="BLEU (sentence)",
            higher_is_better=True,
            basis="reference",
            scale=100.0,
            description="Sentence BLEU ×100 against the reference (sacrebleu, smoothed).",
        ),
    )

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """ROUGE-L and BLEU of the candidate over the reference scope."""
        scope = reference_scope(ctx.item.reference)
        if scope is None:
            return {"rouge_l": None, "bleu": None}
        text = scope.candidate_text(candidate)
        return {
            "rouge_l": rouge_l(text, scope.reference_text),
            "bleu": sentence_bleu(text, scope.reference_text),
        }

    def corpus(self, ctxs: Sequence[CaseContext], candidates: Sequence[Candidate]) -> Values:
        """Corpus BLEU over the cases with a reference."""
        hyps: list[str] = []
        refs: list[str] = []
        for ctx, cand in zip(ctxs, candidates, strict=True):
            scope = reference_scope(ctx.item.reference)
            if scope is not None:
                hyps.append(scope.candidate_text(cand))
                refs.append(scope.reference_text)
        return {"bleu_corpus": corpus_bleu(hyps, refs)}

    def corpus_infos(self) -> tuple[MetricInfo, ...]:
        """Corpus BLEU's description."""
        return (
            MetricInfo(
                name="bleu_corpus",
                label="BLEU (corpus)",
                higher_is_better=True,
                basis="reference",
                scale=100.0,
                description="Corpus BLEU ×100 (sacrebleu defaults) over all cases.",
            ),
        )
