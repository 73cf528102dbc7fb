"""Findings of a statement against its sources: each finding concept supported, stated with
the polarity its sources give it (asserted, negated, raised as a question) and no more
certainty than they have; umbrella words ("no acute abnormality", "a lesion"); and negation
beyond the vocabularies. Part of :func:`reportdraft.verification.statements.check_statement`.
"""

from __future__ import annotations

import re

from reportdraft.models import FlagKind, Severity, Statement
from reportdraft.verification.facts import Facts, FindingFact, is_generic, is_significant
from reportdraft.verification.run_context import Context, Union, matching
from reportdraft.verification.sides import finding_side

HIGH, MEDIUM = Severity.HIGH, Severity.MEDIUM


def _polarity(fact: FindingFact) -> str:
    if fact.negated:
        return "negated"
    if fact.other:
        return "other"
    return "hypothetical" if fact.hypothetical else "asserted"


def findings(
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
        finding_side(ctx, statement, mention, union, support, evidence, both)


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


def negation_cues(
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
