"""Laterality of a statement: the side of each finding, anatomy and measurement against its
sources, side comparisons ("right greater than left"), and an asserted finding on the side
opposite to the ordered side of a lateralised exam. Part of
:func:`reportdraft.verification.statements.check_statement`.
"""

from __future__ import annotations

from reportdraft.models import FlagKind, Laterality, SectionKind, Severity, Statement
from reportdraft.verification.facts import Facts, FindingFact, is_generic
from reportdraft.verification.run_context import Context, Union, quote, side_supported

HIGH = Severity.HIGH
_ORDERED_SIDE_SECTIONS = frozenset(
    {SectionKind.TECHNIQUE, SectionKind.FINDINGS, SectionKind.IMPRESSION}
)
_OPPOSITE = {Laterality.LEFT: Laterality.RIGHT, Laterality.RIGHT: Laterality.LEFT}


def finding_side(
    ctx: Context,
    statement: Statement,
    mention: FindingFact,
    union: Union,
    support: list[str],
    evidence: list[str],
    said: set[Laterality | None],
) -> None:
    """The side of one finding, and which finding is on which side ("moderate left and
    small right effusions" swapped to "moderate right and small left"). ``said``: the sides
    the statement gives the same finding; naming it on both sides restates "bilateral"."""
    side = mention.laterality
    if side is None:
        return
    sources = union.mentions(mention.term)
    sided = {s.laterality for s in sources if s.laterality is not None}
    if sided and not _split_supported(side, sided, said):
        message = (
            f"'{mention.text}' is {side.value} in the statement, "
            f"{'/'.join(sorted(s.value for s in sided))} in its sources"
        )
    else:
        wanted = set(mention.qualifiers)
        here = [s for s in sources if s.laterality in (side, Laterality.BILATERAL)]
        there = [s for s in sources if s.laterality not in (side, None, Laterality.BILATERAL)]
        if not wanted or any(wanted <= set(s.qualifiers) for s in here):
            return
        other = next((s for s in there if wanted <= set(s.qualifiers)), None)
        if other is None or other.laterality is None:
            return
        shown = ", ".join(sorted(wanted))
        message = (
            f"'{mention.text}' ({shown}) is {side.value} in the statement, "
            f"{other.laterality.value} in its sources"
        )
    ctx.raise_flag(
        FlagKind.LATERALITY,
        HIGH,
        message,
        statement=statement,
        sources=support,
        evidence=evidence,
    )


def _split_supported(
    side: Laterality, available: set[Laterality], said: set[Laterality | None]
) -> bool:
    """A side is supported by the same side (or "bilateral" by both), and one side of a
    statement that names both sides by a bilateral source: "Small right pleural effusion.
    Small left pleural effusion." for "Small bilateral pleural effusions"."""
    if side_supported(side, available):
        return True
    pair = {Laterality.LEFT, Laterality.RIGHT}
    return side in pair and Laterality.BILATERAL in available and pair <= said


def sides(
    ctx: Context,
    statement: Statement,
    facts: Facts,
    union: Union,
    support: list[str],
    evidence: list[str],
) -> None:
    """Sides named anywhere in the statement, sides of its anatomy, side comparisons."""
    if ctx.flagged(statement.id, FlagKind.LATERALITY):
        return
    problem = None
    for side in sorted(facts.lateralities):
        if not _split_supported(side, union.lateralities, set(facts.lateralities)):
            named = "/".join(sorted(s.value for s in union.lateralities)) or "no side"
            problem = f"statement says {side.value}; its sources name {named}"
            break
    for anatomy, side in sorted(facts.sited_anatomy):
        if problem is not None:
            break
        known = {s for a, s in union.sited_anatomy if a == anatomy}
        if known and not side_supported(side, known) and Laterality.BILATERAL not in known:
            problem = (
                f"the {anatomy.replace('_', ' ')} is {side.value} in the statement, "
                f"{'/'.join(sorted(s.value for s in known))} in its sources"
            )
    for dimension, value, side in sorted(facts.sited_measurements):
        if problem is not None:
            break
        known = {s for d, v, s in union.sited_measurements if (d, v) == (dimension, value)}
        if known and not side_supported(side, known) and Laterality.BILATERAL not in known:
            problem = (
                f"a measurement of {value:g} ({dimension}) is {side.value} in the statement, "
                f"{'/'.join(sorted(s.value for s in known))} in its sources"
            )
    order = sorted(facts.side_order - union.side_order)
    if problem is None and order:
        problem = f"side comparison '{order[0]}' is not in its sources"
    if problem is not None:
        ctx.raise_flag(
            FlagKind.LATERALITY,
            HIGH,
            problem,
            statement=statement,
            sources=support,
            evidence=evidence,
        )


def ordered_side(ctx: Context, statement: Statement, facts: Facts) -> None:
    """A finding on the side opposite to the ordered one (wrong-side dictation or drafting).

    Only asserted findings count: a normal contralateral structure ("the right testis is
    normal" in a left scrotal ultrasound, the contralateral femoral vein of a DVT study) is
    routine, a meniscal tear on the wrong knee is not.
    """
    ordered = ctx.case.study.laterality
    if ordered not in _OPPOSITE or ctx.section_of.get(statement.id) not in _ORDERED_SIDE_SECTIONS:
        return
    opposite = _OPPOSITE[ordered]
    sides = facts.lateralities
    wrong = [
        f
        for f in facts.findings
        if f.asserted and f.laterality is opposite and not is_generic(f.term)
    ]
    if wrong and ordered not in sides and Laterality.BILATERAL not in sides:
        ctx.raise_flag(
            FlagKind.LATERALITY,
            HIGH,
            f"'{wrong[0].text}' is {opposite.value}; the exam was ordered for the "
            f"{ordered.value} side",
            statement=statement,
            sources=["C:laterality"] if "C:laterality" in ctx.texts else [],
            evidence=[
                quote(statement.id, statement.text),
                quote("C:procedure", ctx.texts.get("C:procedure", "")),
            ],
        )
