"""Guideline recommendations in a draft: discordant dictation, and facts a rewrite must keep.

Two checks, both over what the guideline engine (:mod:`reportdraft.guidelines`) computes
for the case:

- a dictated recommendation that contradicts the guideline's (interval, modality or
  action) is a medium ``recommendation_discordant`` flag on the statement that carries the
  radiologist's words: the words are kept, never overwritten, and the radiologist decides;
- a statement citing ``G:<guideline-id>`` must keep the guideline's category, actions and
  intervals: a rewrite that turns "CT at 6-12 months" into "CT in 3 months", drops the
  category or names another modality is a high ``unsupported`` flag (and the model drafter
  falls back to the deterministic statement).
"""

from __future__ import annotations

import re

from reportdraft import guidelines
from reportdraft.models import FlagKind, Severity, Statement
from reportdraft.verification.run_context import Context, quote

_CATEGORY = re.compile(
    r"\b(?:lung[- ]?rads|bi[- ]?rads|bosniak|ti[- ]?rads)\s*(?:category\s*|class\s*)?:?\s*"
    r"(4[ABCX]|IIF|IV|III|II|I|[0-6])\b|\b(TR[1-5])\b",
    re.IGNORECASE,
)


def check_recommendations(ctx: Context, guidance: guidelines.Guidance) -> None:
    """Raise the discordance flags and check every ``G:`` statement of the draft."""
    for item in guidance.discordant:
        citing = ctx.citing(item.statement)
        statement = citing[0] if citing else None
        ctx.raise_flag(
            FlagKind.RECOMMENDATION_DISCORDANT,
            Severity.MEDIUM,
            f"the dictated recommendation ({item.statement}) differs from {item.guideline}: "
            f"{item.expected}",
            statement=statement,
            sources=[item.statement],
            evidence=[quote(item.statement, item.dictated), f"{item.guideline}: {item.expected}"],
        )
    for statement in ctx.draft.statements():
        for source in statement.sources:
            if source.startswith("G:"):
                _check_kept(ctx, statement, source, guidance)


def _categories(text: str) -> set[str]:
    return {(m.group(1) or m.group(2)).upper() for m in _CATEGORY.finditer(text)}


def _check_kept(
    ctx: Context, statement: Statement, source: str, guidance: guidelines.Guidance
) -> None:
    findings = guidance.for_guideline(source[2:])
    if not findings:
        return  # the citation check already says the id is not a source of this case
    expected = [r for f in findings for r in f.recommendations]
    problems: list[str] = []
    wanted = {tuple(r.interval_months) for r in expected if r.interval_months is not None}
    # the guideline's own words may time later steps too ("then annually for 5 years")
    wanted |= set(guidelines.intervals(ctx.texts.get(source, "")))
    written = set(guidelines.intervals(statement.text))
    if written - wanted:
        problems.append(
            "interval "
            + ", ".join(
                f"{a}-{b} months" if a != b else f"{a} months" for a, b in sorted(written - wanted)
            )
            + " is not the guideline's"
        )
    if wanted and not written & wanted:
        problems.append("the guideline's interval is missing")
    allowed: set[str] = {r.action for r in expected}
    allowed |= set(guidelines.actions(ctx.texts.get(source, "")))
    named = set(guidelines.actions(statement.text)) - {"none"}
    stray = {a for a in named if a not in allowed and not _covered(a, allowed)}
    if stray:
        problems.append(f"names {', '.join(sorted(stray))}, which the guideline does not recommend")
    categories = {r.category.upper() for r in expected if r.category}
    said = _categories(statement.text)
    if said - categories or (
        categories and not said & categories and _categories(ctx.texts.get(source, ""))
    ):
        problems.append(
            f"category {', '.join(sorted(said)) or 'missing'}, "
            f"the guideline's is {', '.join(sorted(categories))}"
        )
    if problems:
        ctx.raise_flag(
            FlagKind.UNSUPPORTED,
            Severity.HIGH,
            f"guideline recommendation changed ({source}): " + "; ".join(problems),
            statement=statement,
            sources=[source],
            evidence=[
                quote(statement.id, statement.text),
                quote(source, ctx.texts.get(source, "")),
            ],
        )


def _covered(action: str, allowed: set[str]) -> bool:
    """A more general modality word the guideline's action includes (CT in "CT or MRI")."""
    return (
        action in ("ct", "mri", "ct_or_mri")
        and bool(allowed & {"ct_or_mri", "adrenal_protocol_imaging"})
    ) or (action == "ct" and "ldct" in allowed)
