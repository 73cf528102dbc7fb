"""Statement-level checks: each statement against exactly the sources it cites.

Severities (all ``high`` unless noted; high blocks sign-off until acknowledged):

- citation: an id that is not a source of this case -> unsupported; a rejected AI finding ->
  rejected_ai_finding; a pending (undecided) AI finding -> unsupported, *medium*.
- unsupported: a finding concept, organ, qualifier, bare number, level/category code or date
  in the statement that no supporting source has; a finding stated as certain that every
  source hedges -> *medium*.
- negation: the statement negates what every source mentioning it asserts, or the reverse
  (finding concepts, qualifiers, and any content word, so that findings no vocabulary lists
  are covered too); a statement with a negation cue whose sources have none.
- laterality: a finding's side (or any side named) that its sources do not name; a finding,
  organ or measurement moved to the other side; a swapped comparison ("right greater than
  left"); an asserted finding on the side opposite to the ordered side of a lateralised exam
  (normal contralateral structures are routine and not flagged).
- anatomy: a changed anatomical qualifier (medial/lateral, level, nerve root, direction,
  breast density, category, time, interval); see :mod:`reportdraft.verification.anatomy`.
- malformed_text: model text with markup, JSON fragments or a repeated sentence.
- measurement: a measurement no source has after unit normalisation (value change, unit slip).
- rejected_ai_finding: a finding of a rejected AI result, at its location, that no other
  cited source supports.

Statements written by the radiologist (``generator == "radiologist"``) get unsupported flags
at *low* severity: they are the author, not a claim to check against the sources.

:func:`check_statement` runs them all. Citations and rejected AI content are checked here;
findings and negation in :mod:`reportdraft.verification.polarity`, laterality and the
ordered side in :mod:`reportdraft.verification.sides`, numbers, codes, dates, organs and
qualifiers in :mod:`reportdraft.verification.particulars`.
"""

from __future__ import annotations

from reportdraft.models import Decision, FlagKind, Laterality, Severity, Statement
from reportdraft.verification.anatomy import check_anatomy, check_malformed
from reportdraft.verification.facts import Facts, FindingFact, extract_facts, is_generic
from reportdraft.verification.particulars import numbers, words
from reportdraft.verification.polarity import findings, negation_cues
from reportdraft.verification.run_context import Context, quote
from reportdraft.verification.sides import ordered_side, sides

HIGH, MEDIUM = Severity.HIGH, Severity.MEDIUM


def check_statement(ctx: Context, statement: Statement) -> None:
    """Run every statement-level check on ``statement``."""
    _citations(ctx, statement)
    check_malformed(ctx, statement)
    facts = extract_facts(statement.text)
    support = ctx.supporting(statement)
    ordered_side(ctx, statement, facts)
    _rejected_content(ctx, statement, facts, support)
    if not support:
        return  # nothing to check content against; the citation flags say why
    union = ctx.union(support)
    evidence = [quote(statement.id, statement.text), *(quote(s, ctx.texts[s]) for s in support[:3])]
    findings(ctx, statement, facts, union, support, evidence)
    negation_cues(ctx, statement, facts, union, support, evidence)
    sides(ctx, statement, facts, union, support, evidence)
    check_anatomy(ctx, statement, facts, union, support, evidence)
    numbers(ctx, statement, facts, union, support, evidence)
    words(ctx, statement, facts, union, support, evidence)


def _citations(ctx: Context, statement: Statement) -> None:
    for source in statement.sources:
        if source not in ctx.texts:
            ctx.raise_flag(
                FlagKind.UNSUPPORTED,
                HIGH,
                f"cites {source}, which is not a source of this case",
                statement=statement,
                sources=[source],
                evidence=[quote(statement.id, statement.text)],
            )
            continue
        finding = ctx.ai.get(source)
        if finding is None or finding.decision is Decision.CONFIRMED:
            continue
        if finding.decision is Decision.REJECTED:
            ctx.raise_flag(
                FlagKind.REJECTED_AI_FINDING,
                HIGH,
                f"cites {source} ({finding.description}, {finding.location}), which the "
                "radiologist rejected",
                statement=statement,
                sources=[source],
                evidence=[quote(statement.id, statement.text), quote(source, ctx.texts[source])],
            )
        else:
            ctx.raise_flag(
                FlagKind.UNSUPPORTED,
                MEDIUM,
                f"cites {source} ({finding.description}), which the radiologist has not "
                "confirmed yet",
                statement=statement,
                sources=[source],
                evidence=[quote(statement.id, statement.text), quote(source, ctx.texts[source])],
            )


def _rejected_content(ctx: Context, statement: Statement, facts: Facts, support: list[str]) -> None:
    """Content traceable to a rejected AI finding: its finding at its location."""
    rejected = [f for f in ctx.case.ai_findings if f.decision is Decision.REJECTED]
    if not rejected or not facts.findings:
        return
    union = ctx.union(support)
    for finding in rejected:
        found = ctx.facts(finding.id)
        terms = {f.term for f in found.findings if f.asserted and not is_generic(f.term)}
        side = finding.laterality or next(iter(found.lateralities), None)
        for mention in facts.findings:
            if not mention.asserted or mention.term not in terms:
                continue
            if not _at_location(mention, side, found.anatomy):
                continue
            backed = [
                s
                for s in union.mentions(mention.term)
                if s.asserted
                and (side is None or s.laterality in (None, side, Laterality.BILATERAL))
            ]
            if backed:
                continue
            ctx.raise_flag(
                FlagKind.REJECTED_AI_FINDING,
                HIGH,
                f"'{mention.text}' matches AI finding {finding.id} ({finding.description}, "
                f"{finding.location}), which the radiologist rejected",
                statement=statement,
                sources=[finding.id, *statement.sources],
                evidence=[
                    quote(statement.id, statement.text),
                    quote(finding.id, ctx.texts[finding.id]),
                ],
            )
            break


def _at_location(mention: FindingFact, side: Laterality | None, anatomy: frozenset[str]) -> bool:
    """Same finding "at its location": a matching side or anatomy, and no conflicting one."""
    if (
        side is not None
        and mention.laterality is not None
        and mention.laterality not in (side, Laterality.BILATERAL)
    ):
        return False
    if anatomy and mention.anatomy and not (anatomy & set(mention.anatomy)):
        return False
    if side is None and not anatomy:
        return True
    side_match = side is not None and mention.laterality is not None
    anatomy_match = bool(anatomy and set(mention.anatomy) & anatomy)
    return side_match or anatomy_match
