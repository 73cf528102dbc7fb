"""Edit metrics: how much of the draft would the radiologist have to change?

When a case carries the signed reference, the redline between the draft and the signed
text gives the figure a department cares about: the share of the draft's words the
radiologist kept, and the share of its statements accepted unchanged. Computed by the
project's redline stage over the same scope as the other reference metrics.
"""

from __future__ import annotations

from reportdraft.evaluation import nlp_access
from reportdraft.evaluation.metrics.metric_group import (
    MetricGroup,
    MetricInfo,
    Values,
    register_group,
)
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope


@register_group
class EditsGroup(MetricGroup):
    """Share of words kept and of statements accepted unchanged, draft → signed reference."""

    name = "edits"
    infos = (
        MetricInfo(
            name="words_kept",
            label="Words kept",
            higher_is_better=True,
            basis="reference",
            percent=True,
            description="Share of the draft's words the signed report keeps (redline).",
        ),
        MetricInfo(
            name="statements_unchanged",
            label="Statements unchanged",
            higher_is_better=True,
            basis="reference",
            percent=True,
            description="Share of the draft's statements the signed report has verbatim.",
        ),
    )

    def available(self) -> str | None:
        """Why the redline stage cannot run here, if it cannot."""
        return nlp_access.redline_unavailable()

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """Redline shares over the reference scope."""
        scope = reference_scope(ctx.item.reference)
        if scope is None:
            return {"words_kept": None, "statements_unchanged": None}
        sentences = scope.candidate_sentences(candidate)
        if not sentences:
            return {"words_kept": None, "statements_unchanged": None}
        shares = nlp_access.edit_shares(sentences, scope.reference_sentences())
        return {
            "words_kept": shares.words_kept,
            "statements_unchanged": shares.statements_unchanged,
        }
