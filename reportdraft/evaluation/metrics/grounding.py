"""Metrics read off the verifier's flags: hallucination, omission and error counts by kind.

The pipeline attaches the verifier's flags to every draft, each naming the statement and
the sources it concerns. These metrics count them, so they measure the draft against the
*case inputs* (what was dictated and confirmed), not against a reference: they apply to
every case, reference or not, and they are exactly what the radiologist will be shown.
"""

from __future__ import annotations

from reportdraft.evaluation.metrics.metric_group import (
    MetricGroup,
    MetricInfo,
    Values,
    ratio,
    register_group,
)
from reportdraft.evaluation.scope import Candidate, CaseContext
from reportdraft.models import Decision, FlagKind

ERROR_KINDS: tuple[FlagKind, ...] = (
    FlagKind.LATERALITY,
    FlagKind.MEASUREMENT,
    FlagKind.NEGATION,
    FlagKind.REJECTED_AI_FINDING,
)
"""The error kinds the report counts separately (the verifier's content checks)."""


def input_source_count(ctx: CaseContext) -> int:
    """How many input findings a draft must carry: dictated sentences + confirmed AI findings."""
    sentences = len(ctx.dictation.sentences) if ctx.dictation is not None else 0
    confirmed = sum(f.decision is Decision.CONFIRMED for f in ctx.item.case.ai_findings)
    return sentences + confirmed


@register_group
class GroundingGroup(MetricGroup):
    """Hallucination, omission and fallback rates of a draft against its own inputs."""

    name = "grounding"
    infos = (
        MetricInfo(
            name="hallucination_rate",
            label="Hallucination rate",
            higher_is_better=False,
            basis="inputs",
            needs_draft=True,
            percent=True,
            description="Share of draft statements the verifier found unsupported by their "
            "sources.",
        ),
        MetricInfo(
            name="omission_rate",
            label="Omission rate",
            higher_is_better=False,
            basis="inputs",
            needs_draft=True,
            percent=True,
            description="Share of input findings (dictated sentences, confirmed AI findings) "
            "the verifier found missing from the draft.",
        ),
        MetricInfo(
            name="fallback_rate",
            label="Fallback rate",
            higher_is_better=False,
            basis="inputs",
            needs_draft=True,
            percent=True,
            description="Share of statements where model output was rejected and the "
            "deterministic drafter's text was used instead.",
        ),
    )

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """Rates from the draft's flags; None for text-only candidates."""
        draft = candidate.draft
        if draft is None:
            return {info.name: None for info in self.infos}
        statements = draft.statements()
        unsupported = {
            f.statement_id
            for f in draft.flags
            if f.kind is FlagKind.UNSUPPORTED and f.statement_id is not None
        }
        omitted: set[str] = set()
        anonymous = 0
        for flag in draft.flags:
            if flag.kind is FlagKind.OMISSION:
                if flag.sources:
                    omitted.update(flag.sources)
                else:
                    anonymous += 1
        inputs = input_source_count(ctx)
        omission = ratio(len(omitted) + anonymous, inputs)
        return {
            "hallucination_rate": ratio(len(unsupported), len(statements)),
            "omission_rate": None if omission is None else min(1.0, omission),
            "fallback_rate": ratio(sum(st.fallback for st in statements), len(statements)),
        }


@register_group
class ErrorsGroup(MetricGroup):
    """Verifier error counts per case by kind: laterality, measurement, negation, rejected AI."""

    name = "errors"
    infos = (
        *(
            MetricInfo(
                name=f"errors_{kind.value}",
                label=f"{kind.value.replace('_', ' ').capitalize().replace(' ai ', ' AI ')} errors",
                higher_is_better=False,
                basis="inputs",
                needs_draft=True,
                description=f"Verifier '{kind.value}' flags per case.",
            )
            for kind in ERROR_KINDS
        ),
        MetricInfo(
            name="errors_total",
            label="Content errors",
            higher_is_better=False,
            basis="inputs",
            needs_draft=True,
            description="Laterality + measurement + negation + rejected-AI flags per case.",
        ),
    )

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """Flag counts by kind; None for text-only candidates."""
        draft = candidate.draft
        if draft is None:
            return {info.name: None for info in self.infos}
        counts = {kind: sum(f.kind is kind for f in draft.flags) for kind in ERROR_KINDS}
        values: Values = {f"errors_{k.value}": float(n) for k, n in counts.items()}
        values["errors_total"] = float(sum(counts.values()))
        return values
