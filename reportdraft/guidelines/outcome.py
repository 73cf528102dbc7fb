"""What one guideline concluded about one case, before the engine assembles the output."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportdraft.guidelines.rulebook import guideline
from reportdraft.models.guidelines import NotApplicable, Recommendation


@dataclass(frozen=True)
class FindingOutcome:
    """The recommendations of one guideline for one finding (or, for Lung-RADS and BI-RADS,
    for the whole examination), with the texts the facts were read from.

    ``sentences`` are the dictated sentences that describe the finding: a dictated
    recommendation in one of them, or one naming the finding, is the radiologist's
    recommendation for it. ``words`` are location words used for the same attribution.
    """

    guideline: str
    rule: str
    finding: str
    recommendations: tuple[Recommendation, ...]
    sources: tuple[str, ...]
    sentences: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()


@dataclass
class GuidelineOutcome:
    """Everything one guideline said about a case."""

    findings: list[FindingOutcome] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)

    def skip(self, guideline_id: str, reason: str) -> None:
        """Record that the guideline matched but does not apply, and why."""
        self.not_applicable.append(
            NotApplicable.model_validate({"guideline": guideline_id, "reason": reason})
        )


def outcome_for(
    guideline_id: str,
    rule_id: str,
    *,
    sources: tuple[str, ...],
    sentences: tuple[str, ...] = (),
    words: frozenset[str] = frozenset(),
    category: str | None = None,
    finding: str | None = None,
) -> FindingOutcome:
    """The recommendations of rule ``rule_id``: one per management step or option, each
    worded in the guideline's terms with its citation phrase."""
    book = guideline(guideline_id)
    rule = book.rule(rule_id)
    described = finding or rule.finding
    cat = category if category is not None else rule.category
    recs = []
    for step in rule.steps:
        shown = cat is not None and re.search(rf"\b{re.escape(cat)}\b", described)
        label = f" ({_category_label(guideline_id, cat)})" if cat and not shown else ""
        recs.append(
            Recommendation.model_validate(
                {
                    "guideline": guideline_id,
                    "rule": rule_id,
                    "category": cat,
                    "action": step.action,
                    "interval_months": list(step.interval) if step.interval else None,
                    "optional": step.optional,
                    "finding": described,
                    "text": f"{book.cite_as}{label}, {described}: {step.text}.",
                    "sources": list(dict.fromkeys(sources)),
                }
            )
        )
    return FindingOutcome(
        guideline=guideline_id,
        rule=rule_id,
        finding=described,
        recommendations=tuple(recs),
        sources=tuple(dict.fromkeys(sources)),
        sentences=sentences,
        words=words,
    )


def _category_label(guideline_id: str, category: str) -> str:
    prefix = {
        "lung-rads-2022": "Lung-RADS ",
        "bosniak-2019": "Bosniak ",
        "bi-rads-2013": "BI-RADS ",
        "acr-tirads-2017": "ACR TI-RADS ",
    }.get(guideline_id, "")
    return f"{prefix}{category}"
