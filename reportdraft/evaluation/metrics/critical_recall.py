"""Critical-finding recall and precision, against the reference and against the inputs.

A missed critical finding is the error with the worst consequence (no call to the
ordering physician), and an invented one causes an unnecessary call. Mentions come from
the project's critical-finding detector, which resolves negation, uncertainty and
history: only *alerting* mentions (present or uncertain) count. Against the reference the
question is "would the signed report have alerted on the same findings?"; against the
inputs it is "did the draft keep every critical finding the radiologist dictated or
confirmed, and add none?".
"""

from __future__ import annotations

from reportdraft.evaluation import nlp_access
from reportdraft.evaluation.metrics.metric_group import (
    MetricGroup,
    MetricInfo,
    Values,
    ratio,
    register_group,
)
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope
from reportdraft.models import Decision


def recall_precision(
    candidate: frozenset[str], reference: frozenset[str]
) -> tuple[float | None, float | None]:
    """(recall, precision) of finding codes; recall None without reference codes,
    precision None without candidate codes."""
    hits = len(candidate & reference)
    return ratio(hits, len(reference)), ratio(hits, len(candidate))


def input_codes(ctx: CaseContext) -> frozenset[str]:
    """Alerting critical findings of the case inputs: the dictation and confirmed AI findings."""
    codes = set(nlp_access.critical_codes(ctx.item.case.dictation))
    for finding in ctx.item.case.ai_findings:
        if finding.decision is Decision.CONFIRMED:
            codes |= nlp_access.critical_codes(f"{finding.description} in the {finding.location}.")
    return frozenset(codes)


@register_group
class CriticalGroup(MetricGroup):
    """Critical-finding recall/precision against the reference and against the inputs."""

    name = "critical"
    infos = (
        MetricInfo(
            name="critical_recall_ref",
            label="Critical recall (vs reference)",
            higher_is_better=True,
            basis="reference",
            description="Share of the reference's alerting critical findings the draft alerts on.",
        ),
        MetricInfo(
            name="critical_precision_ref",
            label="Critical precision (vs reference)",
            higher_is_better=True,
            basis="reference",
            description="Share of the draft's alerting critical findings the reference has.",
        ),
        MetricInfo(
            name="critical_recall_inputs",
            label="Critical recall (vs inputs)",
            higher_is_better=True,
            basis="inputs",
            description="Share of the dictated/confirmed critical findings the draft alerts on.",
        ),
        MetricInfo(
            name="critical_precision_inputs",
            label="Critical precision (vs inputs)",
            higher_is_better=True,
            basis="inputs",
            description="Share of the draft's alerting critical findings found in the inputs.",
        ),
    )

    def available(self) -> str | None:
        """Why the critical-finding detector cannot run here, if it cannot."""
        return nlp_access.critical_unavailable()

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """Recall/precision of alerting finding codes on the reference scope and full text."""
        values: Values = {}
        scope = reference_scope(ctx.item.reference)
        if scope is None:
            values["critical_recall_ref"] = values["critical_precision_ref"] = None
        else:
            rec, prec = recall_precision(
                nlp_access.critical_codes(scope.candidate_text(candidate)),
                nlp_access.critical_codes(scope.reference_text),
            )
            values["critical_recall_ref"], values["critical_precision_ref"] = rec, prec
        drafted = nlp_access.critical_codes(candidate.full_text())
        rec, prec = recall_precision(drafted, input_codes(ctx))
        values["critical_recall_inputs"], values["critical_precision_inputs"] = rec, prec
        return values
