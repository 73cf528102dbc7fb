"""The particulars of a statement against its sources: measurements (after unit
normalisation), bare numbers, level/category codes and dates; organs and qualifiers, with
the places and qualifiers the sources' facts imply. Part of
:func:`reportdraft.verification.statements.check_statement`.
"""

from __future__ import annotations

from reportdraft.models import FlagKind, Severity, Statement
from reportdraft.verification.facts import Facts
from reportdraft.verification.hierarchy import hierarchy
from reportdraft.verification.run_context import Context, Union
from reportdraft.verification.vocabularies import lexicon

HIGH = Severity.HIGH


def numbers(
    ctx: Context,
    statement: Statement,
    facts: Facts,
    union: Union,
    support: list[str],
    evidence: list[str],
) -> None:
    for quantity in facts.measurements:
        if any(quantity.same_as(q) for q in union.measurements):
            continue
        same_number = [
            q
            for q in union.measurements
            if q.dimension == quantity.dimension and q.value == quantity.value
        ]
        same_kind = [q for q in union.measurements if q.dimension == quantity.dimension]
        if same_number:
            detail = f"unit differs: '{quantity.text}' vs '{same_number[0].text}' in its sources"
        elif same_kind:
            shown = ", ".join(sorted({str(q) for q in same_kind}))
            detail = f"'{quantity.text}' differs from its sources ({shown})"
        else:
            detail = f"'{quantity.text}' is not in its sources"
        ctx.raise_flag(
            FlagKind.MEASUREMENT,
            HIGH,
            f"measurement {detail}",
            statement=statement,
            sources=support,
            evidence=evidence,
        )
    for number in facts.numbers:
        if number not in union.numbers:
            ctx.raise_flag(
                FlagKind.UNSUPPORTED,
                HIGH,
                f"the number {number:g} is not in its sources",
                statement=statement,
                sources=support,
                evidence=evidence,
            )
    codes = set() if ctx.flagged(statement.id, FlagKind.ANATOMY) else facts.codes
    for label, found, available in (
        ("level/category", codes, union.codes),
        ("date", facts.dates, union.dates),
    ):
        for item in sorted(found - available):
            ctx.raise_flag(
                FlagKind.UNSUPPORTED,
                HIGH,
                f"{label} '{item}' is not in its sources",
                statement=statement,
                sources=support,
                evidence=evidence,
            )


def words(
    ctx: Context,
    statement: Statement,
    facts: Facts,
    union: Union,
    support: list[str],
    evidence: list[str],
) -> None:
    implied = _implied_places(union)
    organs = sorted(
        o for o in facts.anatomy - union.anatomy if not any(_within(p, o) for p in implied)
    )
    if organs:
        ctx.raise_flag(
            FlagKind.UNSUPPORTED,
            HIGH,
            f"anatomy not in its sources: {', '.join(o.replace('_', ' ') for o in organs)}",
            statement=statement,
            sources=support,
            evidence=evidence,
        )
    axes = lexicon().axis_of  # positions are checked as anatomy (verification.anatomy)
    qualifiers = sorted(
        q
        for q in facts.qualifiers - union.qualifiers
        if q.removeprefix("no_") not in axes and not _implied_qualifier(q, union)
    )
    flipped = [q for q in qualifiers if _flip(q) in union.qualifiers]
    if flipped:
        ctx.raise_flag(
            FlagKind.NEGATION,
            HIGH,
            f"statement {'negates' if flipped[0].startswith('no_') else 'asserts'} "
            f"'{_flip(flipped[0]).removeprefix('no_').replace('_', ' ')}'; its sources say "
            "the opposite",
            statement=statement,
            sources=support,
            evidence=evidence,
        )
    rest = [q for q in qualifiers if q not in flipped]
    if rest:
        shown = ", ".join(q.replace("no_", "not ").replace("_", " ") for q in rest)
        ctx.raise_flag(
            FlagKind.UNSUPPORTED,
            HIGH,
            f"qualifier(s) not in its sources: {shown}",
            statement=statement,
            sources=support,
            evidence=evidence,
        )


def _implied_places(union: Union) -> set[str]:
    """The places the sources name, and those their facts imply: a vertebral level implies
    its spine segment ("L1" -> lumbar spine), a finding kind its organ (cardiomegaly -> heart).
    A statement may name any place that contains one of them ("L1 vertebral body" for "L1";
    "left upper lobe pulmonary nodule" for "nodule in the left upper lobe")."""
    tree = hierarchy()
    places = set(union.anatomy) | set(tree.level_places(c for p in union.parts for c in p.codes))
    for finding in union.findings:
        kind = tree.kinds.get(finding.term)
        if kind is not None:
            places |= kind.located
    return places


def _within(place: str, organ: str) -> bool:
    return hierarchy().within(place, organ)


def _implied_qualifier(qualifier: str, union: Union) -> bool:
    """A qualifier that a source finding is by definition: "the heart is enlarged" for
    "cardiomegaly" (``qualifier_kinds`` of ``hierarchy.yaml``)."""
    tree = hierarchy()
    kinds = tree.closure(union.terms)
    return any(rule.qualifier == qualifier and rule.kind in kinds for rule in tree.qualifier_kinds)


def _flip(qualifier: str) -> str:
    """``acute`` <-> ``no_acute``."""
    return qualifier.removeprefix("no_") if qualifier.startswith("no_") else f"no_{qualifier}"
