"""Comparisons between systems, breakdowns by modality and template, and the worst cases.

"Did the new model make things better?" is answered per metric as the paired difference
``candidate - reference system`` on the same cases, with a bootstrap CI and an
approximate-randomisation p-value; "where does it fail?" by breakdowns per modality and
per template and by listing the worst cases with the flags the verifier raised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from reportdraft.evaluation.metrics import MetricInfo
from reportdraft.evaluation.metrics.grounding import ERROR_KINDS
from reportdraft.evaluation.metrics.guideline_concordance import recommendation_miss
from reportdraft.evaluation.runner import CaseOutput
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope
from reportdraft.evaluation.scoring import Scores
from reportdraft.evaluation.stats import Comparison, paired_bootstrap
from reportdraft.evaluation.suite import StatsConfig
from reportdraft.models import Draft, SectionKind


@dataclass(frozen=True, kw_only=True)
class ComparisonRow:
    """One metric's paired difference ``system - against`` with its CI and p-value."""

    metric: str
    system: str
    against: str
    result: Comparison
    higher_is_better: bool

    @property
    def verdict(self) -> str:
        """``better``, ``worse`` or ``no significant difference`` for ``system``."""
        if not self.result.significant:
            return "no significant difference"
        improved = (self.result.delta > 0) == self.higher_is_better
        return "better" if improved else "worse"


def compare(
    a_name: str,
    a: Scores,
    b_name: str,
    b: Scores,
    infos: Sequence[MetricInfo],
    stats: StatsConfig,
) -> list[ComparisonRow]:
    """Paired comparisons of every per-case metric both systems have values for."""
    rows: list[ComparisonRow] = []
    for info in infos:
        if info.name not in a.summary or info.name not in b.summary:
            continue
        result = paired_bootstrap(
            a.column(info.name),
            b.column(info.name),
            resamples=stats.resamples,
            seed=stats.seed,
            confidence=stats.confidence,
        )
        if result is not None:
            rows.append(
                ComparisonRow(
                    metric=info.name,
                    system=b_name,
                    against=a_name,
                    result=result,
                    higher_is_better=info.higher_is_better,
                )
            )
    return rows


@dataclass(frozen=True, kw_only=True)
class BreakdownCell:
    """Mean of one metric over the cases of one group (modality or template)."""

    mean: float | None
    n: int


def group_key(ctx: CaseContext, output: CaseOutput | None, by: str) -> str:
    """The modality, or the template the case was drafted on (``-`` when unknown)."""
    if by == "modality":
        return ctx.item.case.study.modality.value
    if output is not None and output.draft is not None:
        return output.draft.template_id
    return ctx.template.id if ctx.template is not None else "-"


def breakdown(
    contexts: Sequence[CaseContext],
    outputs: Sequence[CaseOutput] | None,
    scores: Scores,
    metrics: Sequence[str],
    by: str,
) -> dict[str, dict[str, BreakdownCell]]:
    """``{group: {metric: cell}}`` of per-case means for one system."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for i, ctx in enumerate(contexts):
        buckets[group_key(ctx, outputs[i] if outputs else None, by)].append(i)
    table: dict[str, dict[str, BreakdownCell]] = {}
    for key in sorted(buckets):
        row: dict[str, BreakdownCell] = {}
        for metric in metrics:
            values = [v for i in buckets[key] if (v := scores.per_case[i].get(metric)) is not None]
            row[metric] = BreakdownCell(
                mean=sum(values) / len(values) if values else None, n=len(values)
            )
        table[key] = row
    return table


def error_kinds_by_modality(
    contexts: Sequence[CaseContext], outputs: Sequence[CaseOutput]
) -> dict[str, dict[str, int]]:
    """``{modality: {flag kind: count}}`` over one system's drafts (content errors + others)."""
    kinds = [k.value for k in ERROR_KINDS] + ["unsupported", "omission"]
    table: dict[str, dict[str, int]] = {}
    for ctx, out in zip(contexts, outputs, strict=True):
        row = table.setdefault(ctx.item.case.study.modality.value, dict.fromkeys(kinds, 0))
        if out.draft is None:
            continue
        for flag in out.draft.flags:
            if flag.kind.value in row:
                row[flag.kind.value] += 1
    return dict(sorted(table.items()))


@dataclass(frozen=True, kw_only=True)
class WorstCase:
    """A case a system did badly on, with what the verifier said about it."""

    case_id: str
    modality: str
    template: str
    key_metric: str
    value: float | None
    values: dict[str, float | None]
    flags: list[str]
    error: str | None
    draft_text: str
    reference: str
    recommendation_miss: str = ""
    """What the reference recommends that the draft does not (empty: nothing missed)."""


RANKING = ("finding_f1", "rouge_l", "critical_recall_inputs")
"""Metrics the worst cases are ranked by, first available wins (lower = worse)."""


def worst_cases(
    contexts: Sequence[CaseContext],
    outputs: Sequence[CaseOutput],
    scores: Scores,
    *,
    limit: int,
) -> list[WorstCase]:
    """The ``limit`` worst cases of one system: failures first, then by the ranking metric,
    ties broken by the number of content errors."""
    key_metric = next((m for m in RANKING if m in scores.summary), "errors_total")
    order: list[tuple[tuple[float, float, str], int]] = []
    for i, (ctx, out) in enumerate(zip(contexts, outputs, strict=True)):
        if out.skipped:
            continue
        value = scores.per_case[i].get(key_metric)
        errors = scores.per_case[i].get("errors_total") or 0.0
        primary = -1.0 if out.draft is None else (value if value is not None else 2.0)
        if key_metric == "errors_total":
            primary = -errors
        order.append(((primary, -errors, ctx.item.case_id), i))
    order.sort()
    chosen = [i for _, i in order[:limit]]
    # Recommendation misses are listed whatever their rank (issue 16): a follow-up the
    # signed report asked for and the draft left out is worth a look on its own.
    chosen += [
        i for _, i in order[limit:] if scores.per_case[i].get("recommendation_concordance") == 0.0
    ]
    result: list[WorstCase] = []
    for i in chosen:
        ctx, out = contexts[i], outputs[i]
        draft = out.draft
        result.append(
            WorstCase(
                case_id=ctx.item.case_id,
                modality=ctx.item.case.study.modality.value,
                template=group_key(ctx, out, "template"),
                key_metric=key_metric,
                value=scores.per_case[i].get(key_metric),
                values=dict(scores.per_case[i]),
                flags=[f"{f.kind.value}: {f.message}" for f in draft.flags] if draft else [],
                error=out.error,
                draft_text=_clip(_draft_text(ctx, draft)),
                reference=_clip(_reference_text(ctx)),
                recommendation_miss=_clip(_recommendation_miss(ctx, draft))
                if scores.per_case[i].get("recommendation_concordance") == 0.0
                else "",
            )
        )
    return result


def _clip(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _recommendation_miss(ctx: CaseContext, draft: Draft | None) -> str:
    if draft is None:
        return ""
    return recommendation_miss(ctx, Candidate.from_draft(draft))


def _reference_text(ctx: CaseContext) -> str:
    scope = reference_scope(ctx.item.reference)
    return "" if scope is None else scope.reference_text


def _draft_text(ctx: CaseContext, draft: Draft | None) -> str:
    """The draft over the reference's span (its impression when there is no reference)."""
    if draft is None:
        return ""
    scope = reference_scope(ctx.item.reference)
    if scope is None:
        return " ".join(st.text for st in draft.section(SectionKind.IMPRESSION))
    return scope.candidate_text(Candidate.from_draft(draft))
