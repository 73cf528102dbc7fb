"""Section completeness and template conformance: is the draft shaped like the template?

A draft that says the right things in the wrong place (a finding under Technique, a
subsection the template does not have, no Impression) costs the radiologist time even
when every sentence is true, and some RIS integrations map sections by name.
"""

from __future__ import annotations

from reportdraft.evaluation.metrics.metric_group import (
    MetricGroup,
    MetricInfo,
    Values,
    register_group,
)
from reportdraft.evaluation.scope import SECTION_ORDER, Candidate, CaseContext
from reportdraft.models import SectionKind

REQUIRED_SECTIONS: tuple[SectionKind, ...] = (
    SectionKind.TECHNIQUE,
    SectionKind.FINDINGS,
    SectionKind.IMPRESSION,
)
"""Sections every draft must fill (the structured template's Technique/Findings/Impression)."""


@register_group
class StructureGroup(MetricGroup):
    """Required sections present and non-empty; statements placed on the template's layout."""

    name = "structure"
    infos = (
        MetricInfo(
            name="section_completeness",
            label="Section completeness",
            higher_is_better=True,
            basis="inputs",
            needs_draft=True,
            percent=True,
            description="Share of Technique/Findings/Impression present with at least one "
            "statement.",
        ),
        MetricInfo(
            name="template_conformance",
            label="Template conformance",
            higher_is_better=True,
            basis="inputs",
            needs_draft=True,
            percent=True,
            description="Mean of: drafted on the selected template, sections in template "
            "order, findings statements in the template's subsections.",
        ),
    )

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """Completeness and conformance of the draft; None for text-only candidates."""
        draft = candidate.draft
        if draft is None:
            return {info.name: None for info in self.infos}
        filled = {sec.kind for sec in draft.sections if sec.statements}
        completeness = sum(k in filled for k in REQUIRED_SECTIONS) / len(REQUIRED_SECTIONS)
        checks: list[float] = []
        order = [SECTION_ORDER.index(sec.kind) for sec in draft.sections]
        checks.append(1.0 if order == sorted(order) else 0.0)
        template = ctx.template
        if template is not None:
            checks.append(
                1.0
                if (draft.template_id, draft.template_version) == (template.id, template.version)
                else 0.0
            )
            keys = {sub.key for sub in template.findings}
            findings = draft.section(SectionKind.FINDINGS)
            if findings:
                placed = sum(st.subsection in keys for st in findings)
                checks.append(placed / len(findings))
        return {
            "section_completeness": completeness,
            "template_conformance": sum(checks) / len(checks),
        }
