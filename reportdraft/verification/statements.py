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
"""

from __future__ import annotations

import re

from reportdraft.models import (
    Decision,
    FlagKind,
    Laterality,
    SectionKind,
    Severity,
    Statement,
)
from reportdraft.verification.anatomy import check_anatomy, check_malformed
from reportdraft.verification.base import Context, Union, matching, quote, side_supported
from reportdraft.verification.facts import (
    Facts,
    FindingFact,
    extract_facts,
    is_generic,
    is_significant,
)
from reportdraft.verification.hierarchy import hierarchy
from reportdraft.verification.lexicon import lexicon

HIGH, MEDIUM = Severity.HIGH, Severity.MEDIUM
_ORDERED_SIDE_SECTIONS = frozenset(
    {SectionKind.TECHNIQUE, SectionKind.FINDINGS, SectionKind.IMPRESSION}
)
_OPPOSITE = {Laterality.LEFT: Laterality.RIGHT, Laterality.RIGHT: Laterality.LEFT}


def check_statement(ctx: Context, statement: Statement) -> None:
    """Run every statement-level check on ``statement``."""
    _citations(ctx, statement)
    check_malformed(ctx, statement)
    facts = extract_facts(statement.text)
    support = ctx.supporting(statement)
    _ordered_side(ctx, statement, facts)
    _rejected_content(ctx, statement, facts, support)
    if not support:
        return  # nothing to check content against; the citation flags say why
    union = ctx.union(support)
    evidence = [quote(statement.id, statement.text), *(quote(s, ctx.texts[s]) for s in support[:3])]
    _findings(ctx, statement, facts, union, support, evidence)
    _negation_cues(ctx, statement, facts, union, support, evidence)
    _sides(ctx, statement, facts, union, support, evidence)
    check_anatomy(ctx, statement, facts, union, support, evidence)
    _numbers(ctx, statement, facts, union, support, evidence)
    _words(ctx, statement, facts, union, support, evidence)


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


def _polarity(fact: FindingFact) -> str:
    if fact.negated:
        return "negated"
    if fact.other:
        return "other"
    return "hypothetical" if fact.hypothetical else "asserted"


def _findings(
    ctx: Context,
    statement: Statement,
    facts: Facts,
    union: Union,
    support: list[str],
    evidence: list[str],
) -> None:
    seen: set[tuple[str, str]] = set()
    for mention in facts.findings:
        polarity = _polarity(mention)
        if (mention.term, polarity) in seen:
            continue
        seen.add((mention.term, polarity))
        if is_generic(mention.term):
            own = {f.term for f in facts.findings if f.asserted and not is_generic(f.term)}
            _generic(ctx, statement, mention, union, support, evidence, own)
            continue
        sources = matching(mention, union.findings)
        if not sources:
            ctx.raise_flag(
                FlagKind.UNSUPPORTED,
                HIGH,
                f"'{mention.text}' is not in its sources ({', '.join(support)})",
                statement=statement,
                sources=support,
                evidence=evidence,
            )
            continue
        polarities = {_polarity(s) for s in sources} - {"other"}
        if polarities and polarity not in polarities and polarity in ("asserted", "negated"):
            said = "negates" if polarity == "negated" else "asserts"
            opposite = "asserted" if polarity == "negated" else "negated"
            if opposite in polarities:
                kind, why = FlagKind.NEGATION, "its sources say the opposite"
            else:
                kind, why = FlagKind.UNSUPPORTED, "its sources only raise it as a question"
            ctx.raise_flag(
                kind,
                HIGH,
                f"statement {said} '{mention.text}'; {why}",
                statement=statement,
                sources=support,
                evidence=evidence,
            )
            continue
        asserted = [s for s in sources if s.asserted]
        if (
            polarity == "asserted"
            and not mention.uncertain
            and asserted
            and all(s.uncertain for s in asserted)
        ):
            ctx.raise_flag(
                FlagKind.UNSUPPORTED,
                MEDIUM,
                f"states '{mention.text}' as certain; its sources hedge it",
                statement=statement,
                sources=support,
                evidence=evidence,
            )
        both = {m.laterality for m in facts.findings if m.term == mention.term}
        if len([m for m in facts.findings if m.term == mention.term]) == 1:
            both |= set(facts.lateralities)  # "atelectasis in the right and left lower lobes"
        _finding_side(ctx, statement, mention, union, support, evidence, both)


_NEGATIVE_PREFIX = re.compile(r"^(?:non-?|un|in|a)(?=[a-z]{5})")


def _said_negatively(word: str, words: set[str]) -> bool:
    """True when ``words`` hold a negative-prefix form of ``word``: "without complication"
    says what "uncomplicated" says, "no obstruction" what "nonobstructing" says."""
    for other in words:
        stem = _NEGATIVE_PREFIX.sub("", other)
        if stem == other:
            continue
        shared = next(
            (i for i, (a, b) in enumerate(zip(word, stem, strict=False)) if a != b),
            min(len(word), len(stem)),
        )
        if shared >= 5 and shared >= min(len(word), len(stem)) - 3:
            return True
    return False


def _negation_cues(
    ctx: Context,
    statement: Statement,
    facts: Facts,
    union: Union,
    support: list[str],
    evidence: list[str],
) -> None:
    """Negation beyond the vocabularies: content words the statement asserts that its
    sources only negate ("fetal heart motion" for "no fetal heart motion"), or the reverse;
    and a negation where no source negates anything ("The RV/LV ratio is not 0.8"). The
    concept-level check above has already spoken when it could.
    """
    if ctx.flagged(statement.id, FlagKind.NEGATION):
        return
    negated = {w for p in union.parts for w in p.negated_words}
    asserted = {w for p in union.parts for w in p.asserted_words}
    flipped_on = sorted(facts.asserted_words & (negated - asserted))
    flipped_off = sorted(facts.negated_words & (asserted - negated))
    if flipped_on or flipped_off:
        said, words = ("asserts", flipped_on) if flipped_on else ("negates", flipped_off)
        message = f"statement {said} '{', '.join(words[:3])}'; its sources say the opposite"
    elif (
        facts.negations
        and not any(p.negations for p in union.parts)
        and not (
            facts.negated_words and all(_said_negatively(w, asserted) for w in facts.negated_words)
        )
    ):
        message = "statement negates something; none of its sources negates anything"
    else:
        return
    ctx.raise_flag(
        FlagKind.NEGATION,
        HIGH,
        message,
        statement=statement,
        sources=support,
        evidence=evidence,
    )


_REFERRING = re.compile(
    r"\b(?:these|those|this|such|above|above-mentioned|aforementioned|the\s+above)"
    r"\s+(?:\w+\s+)?(findings?)\b"
    r"|\b(?:the|all)\s+(findings?)\s+(?:\w+\s+){0,3}?"
    r"(?:discussed|communicated|relayed|conveyed|called|reported|reviewed|telephoned|paged)\b"
    r"|\b(findings?)\b(?=[^.;]*\b(?:BI|LI|PI|TI|O)-?RADS\b|[^.;]*\bLung-?RADS\b)",
    re.IGNORECASE,
)
"""The umbrella word "finding(s)" as a reference rather than a claim: "these findings were
discussed with ...", "the findings were communicated ...", "Suspicious finding, BI-RADS 4"
(the category, checked as a facet, is the claim)."""


def _refers_back(text: str, surface: str) -> bool:
    """True when ``surface`` (a generic mention of ``text``) refers to findings said
    elsewhere instead of asserting one."""
    return any(
        word.lower() == surface.lower()
        for match in _REFERRING.finditer(text)
        for word in match.groups()
        if word
    )


def _generic(
    ctx: Context,
    statement: Statement,
    mention: FindingFact,
    union: Union,
    support: list[str],
    evidence: list[str],
    own: set[str],
) -> None:
    """Umbrella words: "no acute abnormality" must not cover a significant asserted finding,
    and "a lesion" needs some asserted finding in its sources. A finding the statement
    itself asserts is not denied by its umbrella negation: "appendicitis without
    complication" denies only what comes on top of the appendicitis (``own``)."""
    asserted = [f for f in union.findings if f.asserted]
    if mention.negated:
        serious = [f for f in asserted if is_significant(f.term) and f.term not in own]
        if serious and not any(f.term == mention.term and f.negated for f in union.findings):
            ctx.raise_flag(
                FlagKind.NEGATION,
                HIGH,
                f"statement negates '{mention.text}' while its sources report '{serious[0].text}'",
                statement=statement,
                sources=support,
                evidence=evidence,
            )
    elif mention.asserted and not asserted and not _refers_back(statement.text, mention.text):
        ctx.raise_flag(
            FlagKind.UNSUPPORTED,
            HIGH,
            f"'{mention.text}' is asserted, its sources report no finding",
            statement=statement,
            sources=support,
            evidence=evidence,
        )


def _finding_side(
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


def _sides(
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


def _ordered_side(ctx: Context, statement: Statement, facts: Facts) -> None:
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


def _numbers(
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


def _words(
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
