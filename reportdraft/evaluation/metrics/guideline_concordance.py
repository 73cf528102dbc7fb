"""Follow-up recommendations: concordance with the reference, discordance flags, hallucinations.

A recommendation sentence is one that names a next step with a time, a modality or an
explicit "no follow-up" (:func:`reportdraft.guidelines.is_recommendation`, the reader the
guideline engine uses for dictated recommendations). Against the reference the question is
"does the draft recommend what the signed report recommended?" (same action where both
name one, same first interval); against the inputs, "how many discordance flags did the
verifier raise?" and "did the draft recommend follow-up for a finding the case does not
have?" (a ``G:`` statement whose guideline found no finding, or that cites no dictated
sentence or AI finding: a hallucination, which must be 0).
"""

from __future__ import annotations

from reportdraft import guidelines
from reportdraft.evaluation.metrics.metric_group import (
    MetricGroup,
    MetricInfo,
    Values,
    register_group,
)
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope, split_sentences
from reportdraft.models import Draft, FlagKind

_SAME = {frozenset({"ct", "ldct"}), frozenset({"ct", "ct_or_mri"}), frozenset({"mri", "ct_or_mri"})}


def recommendation_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that recommend (or decline) a next step."""
    return [s for s in split_sentences(text) if guidelines.is_recommendation(s)]


def same_recommendation(a: str, b: str) -> bool:
    """Two recommendation sentences agree: compatible actions (when both name one) and the
    same first interval (when both give one)."""
    acts_a, acts_b = set(guidelines.actions(a)), set(guidelines.actions(b))
    if ("none" in acts_a) != ("none" in acts_b):
        return False
    if (
        acts_a
        and acts_b
        and not (acts_a & acts_b or any(frozenset({x, y}) in _SAME for x in acts_a for y in acts_b))
    ):
        return False
    first_a, first_b = guidelines.primary_interval(a), guidelines.primary_interval(b)
    return first_a is None or first_b is None or first_a == first_b


def concordance(draft_text: str, reference_text: str) -> tuple[float | None, str]:
    """(1.0 / 0.0 / None when the reference recommends nothing, what was missed)."""
    wanted = recommendation_sentences(reference_text)
    if not wanted:
        return None, ""
    drafted = recommendation_sentences(draft_text)
    missed = [w for w in wanted if not any(same_recommendation(d, w) for d in drafted)]
    return (0.0 if missed else 1.0), " | ".join(missed)


def hallucinated(ctx: CaseContext, draft: Draft) -> int:
    """``G:`` statements with no finding behind them."""
    cited = [
        (st, src[2:]) for st in draft.statements() for src in st.sources if src.startswith("G:")
    ]
    if not cited:
        return 0
    found = {f.guideline for f in guidelines.evaluate(ctx.item.case, ctx.dictation).findings}
    return sum(
        1
        for st, guideline_id in cited
        if guideline_id not in found or not any(s[0] in "DA" for s in st.sources)
    )


def recommendation_miss(ctx: CaseContext, candidate: Candidate) -> str:
    """What the reference recommends that the draft does not (empty when nothing is missed)."""
    scope = reference_scope(ctx.item.reference)
    if scope is None:
        return ""
    return concordance(scope.candidate_text(candidate), scope.reference_text)[1]


@register_group
class RecommendationGroup(MetricGroup):
    """Guideline concordance against the reference; discordance flags and hallucinations."""

    name = "recommendations"
    infos = (
        MetricInfo(
            name="recommendation_concordance",
            label="Recommendation concordance",
            higher_is_better=True,
            basis="reference",
            percent=True,
            description="Share of cases whose reference recommends a next step where the draft "
            "recommends the same (action, first interval); cases without one are left out.",
        ),
        MetricInfo(
            name="recommendation_discordance_flags",
            label="Discordance flags",
            higher_is_better=False,
            basis="inputs",
            needs_draft=True,
            description="recommendation_discordant flags raised on the draft (a dictated "
            "recommendation that contradicts the guideline).",
        ),
        MetricInfo(
            name="recommendation_hallucinations",
            label="Recommendation hallucinations",
            higher_is_better=False,
            basis="inputs",
            needs_draft=True,
            description="Guideline recommendation statements with no finding behind them "
            "(must be 0).",
        ),
    )

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """Per-case concordance (None without a reference recommendation) and counts."""
        values: Values = {}
        scope = reference_scope(ctx.item.reference)
        values["recommendation_concordance"] = (
            None
            if scope is None
            else concordance(scope.candidate_text(candidate), scope.reference_text)[0]
        )
        draft = candidate.draft
        if draft is None:
            values["recommendation_discordance_flags"] = None
            values["recommendation_hallucinations"] = None
            return values
        values["recommendation_discordance_flags"] = float(
            sum(f.kind is FlagKind.RECOMMENDATION_DISCORDANT for f in draft.flags)
        )
        values["recommendation_hallucinations"] = float(hallucinated(ctx, draft))
        return values
