"""Sentence, clause and assertion context: is a mention negated, uncertain or hypothetical?

A small NegEx-style algorithm over the cues in ``negation.yaml``. Cues are claimed in order
of priority so that longer, more specific phrases win: pseudo-negations ("no change"),
uncertainty ("cannot be excluded", "versus") and hypotheticals ("rule out") first, then
post-negations ("is not seen"), then pre-negations ("no", "without"). A pre cue's scope runs
forward to the end of its clause, a post cue's scope backward to the clause start. Clauses
end at sentence punctuation, semicolons and colons, and at terminators ("but", "however",
"there is").

Radiology language needs two more stops for a forward scope (issue 12, point 3):

- a comma splice: "No effusion, large right pneumothorax" is two statements, while
  "No pneumothorax, effusion or consolidation" is one list. A comma or "and" followed by a
  word that opens a new statement (an article, a size, severity or change word, a number)
  ends the scope, unless an "or"/"nor" later in the scope shows the words are a list;
- a negated *sign* and its diagnosis: "no flow in the left testis, consistent with torsion"
  denies the flow and asserts the torsion. When the negated words before a link ("consistent
  with", "diagnostic of"; a hedging link such as "concerning for" only after a comma) name a
  sign (flow, lung sliding, enhancement, compressibility ...), the negation ends at the link.
  Other denials run on through it: "no opacity consistent with pneumonia" denies pneumonia.

Why not medspaCy: the verifier must be fast and deterministic on every draft of every
backend, and must treat statement and source with exactly the same rules; the known traps of
the off-the-shelf rules (docs/ARCHITECTURE.md#domain-traps) are avoided in the cue list itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from reportdraft.verification.vocabularies import Cues, Vocabulary

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|\n+|(?<=[.!?])$")
_HARD_BREAK = re.compile(r"[;:]")
_CLAUSE_BREAK = re.compile(
    r"[;:,]|\b(?:and|with|without|but|while|whereas|however|or)\b", re.IGNORECASE
)


class Scope(StrEnum):
    """What a cue does to the mentions in its scope."""

    NEGATED = "negated"
    OTHER = "other"
    UNCERTAIN = "uncertain"
    HYPOTHETICAL = "hypothetical"


@dataclass(frozen=True, slots=True)
class Span:
    """A character range of the analysed text with what it means."""

    start: int
    end: int
    scope: Scope
    cue: str = ""


def sentences(text: str) -> list[tuple[int, int]]:
    """Character ranges of the sentences of ``text`` (a decimal point never ends one)."""
    ranges: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            ranges.append((start, match.start()))
        start = match.end()
    if start < len(text):
        ranges.append((start, len(text)))
    return [(s, e) for s, e in ranges if text[s:e].strip()]


def clause_bounds(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split sentence ``text[start:end]`` into clauses (commas, "and", "with", ...)."""
    bounds: list[tuple[int, int]] = []
    position = start
    for match in _CLAUSE_BREAK.finditer(text, start, end):
        bounds.append((position, match.start()))
        position = match.end()
    bounds.append((position, end))
    return bounds


def _claimed(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < e and s < end for s, e in taken)


def _find(
    vocabulary: Vocabulary, text: str, start: int, end: int, taken: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    found = []
    for match in vocabulary.pattern.finditer(text, start, end):
        if not _claimed(taken, match.start(), match.end()):
            found.append((match.start(), match.end()))
            taken.append((match.start(), match.end()))
    return found


_SPLICE = re.compile(r",|\band\b", re.IGNORECASE)
_FIRST_WORD = re.compile(r"\s*(\d|[A-Za-z]+)")
_LIST_CONJUNCTION = re.compile(r"\b(?:or|nor)\b", re.IGNORECASE)
_ARTICLES = frozenset({"a", "an", "the", "there", "this", "these", "it"})


def _forward_end(
    text: str,
    position: int,
    end: int,
    stops: list[int],
    breakers: frozenset[str] = frozenset(),
    links: list[tuple[int, int]] | None = None,
) -> int:
    """Where a pre cue's scope ends: the next terminator, hard break or comma splice.

    A comma splice is a comma before a word that opens a new statement (or "and" before an
    article or a number), or a comma before a clause with a link ("No acute abnormality,
    findings compatible with emphysema"), when no "or"/"nor" later in the scope shows the
    words are a list.
    """
    hard = _HARD_BREAK.search(text, position, end)
    limit = min([hard.start() if hard else end, *[s for s in stops if s >= position]])
    for match in _SPLICE.finditer(text, position, limit):
        if _LIST_CONJUNCTION.search(text, match.end(), limit):
            continue
        word = _FIRST_WORD.match(text, match.end(), limit)
        opener = word.group(1).lower() if word else ""
        comma = match.group(0) == ","
        if opener.isdigit() or (opener in breakers and (comma or opener in _ARTICLES)):
            return match.start()
        if comma and any(match.end() <= s < limit for s, _e in links or []):
            return match.start()
    return limit


def _sign_link(
    text: str, start: int, limit: int, links: list[tuple[int, int]], signs: list[tuple[int, int]]
) -> int:
    """End of a negation scope at a link when what it negates before the link is a sign."""
    for link_start, _link_end in sorted(links):
        if start <= link_start < limit:
            if any(start <= s and e <= link_start for s, e in signs):
                return link_start
            return limit
    return limit


_LIST_END = re.compile(r"\s*(?:and|or)\b", re.IGNORECASE)
_PLURAL_CUE = re.compile(r"(?:have|are|were)\b", re.IGNORECASE)


def _backward_start(
    text: str, position: int, start: int, stops: list[int], *, plural: bool = False
) -> int:
    """Where a post cue's scope starts: the previous clause break in the sentence.

    A plural cue after a list ("Consolidation, atelectasis, and blunting have cleared")
    reaches back over the list's commas: the last comma before "and"/"or" marks a list.
    """
    commas: list[int] = []
    begin = start
    for match in _CLAUSE_BREAK.finditer(text, start, position):
        if match.group(0) == ",":
            commas.append(match.end())
        elif match.group(0) in {";", ":"} or match.group(0).lower() in {"but", "however"}:
            begin = match.end()
            commas = []
    if commas and not (plural and _LIST_END.match(text, commas[-1], position)):
        begin = max(begin, commas[-1])
    return max([begin, *[s for s in stops if s <= position]])


@dataclass(frozen=True, slots=True)
class Assertions:
    """The scoped ranges of one sentence and the character ranges of the cues themselves."""

    spans: list[Span]
    cues: list[tuple[int, int]]


def _links(text: str, start: int, end: int, cues: Cues) -> list[tuple[int, int]]:
    """Links of the sentence: every plain one, and hedging ones that follow a comma."""
    found = [(m.start(), m.end()) for m in cues.links.pattern.finditer(text, start, end)]
    for match in cues.hedged_links.pattern.finditer(text, start, end):
        if text[start : match.start()].rstrip().endswith(","):
            found.append((match.start(), match.end()))
    return found


def assertion_spans(
    text: str,
    start: int,
    end: int,
    cues: Cues,
    occupied: list[tuple[int, int]] | None = None,
) -> Assertions:
    """The negated / uncertain / hypothetical ranges of sentence ``text[start:end]``.

    ``OTHER`` ranges follow "no other", "no additional": they negate further instances of
    a finding, not the finding itself ("No other renal masses" after a described mass).
    ``occupied``: character ranges of finding terms, so that a sign word inside one ("no
    filling defect") is not read as a negated sign.
    """
    taken: list[tuple[int, int]] = []
    _find(cues.pseudo, text, start, end, taken)
    uncertain_post = _find(cues.uncertain_post, text, start, end, taken)
    uncertain_both = _find(cues.uncertain_both, text, start, end, taken)
    uncertain_pre = _find(cues.uncertain_pre, text, start, end, taken)
    hypothetical = _find(cues.hypothetical_pre, text, start, end, taken)
    negated_post = _find(cues.post_negation, text, start, end, taken)
    negated_other = _find(cues.pre_negation_other, text, start, end, taken)
    negated_pre = _find(cues.pre_negation, text, start, end, taken)
    terminators = _find(cues.terminators, text, start, end, taken)
    forward = [s for s, _e in terminators]
    backward = [e for _s, e in terminators]
    links = _links(text, start, end, cues)
    busy = occupied or []
    signs = [
        (m.start(), m.end())
        for m in cues.signs.pattern.finditer(text, start, end)
        if not _claimed(busy, m.start(), m.end())
    ]

    def ahead(position: int) -> int:
        return _forward_end(text, position, end, forward, cues.breakers, links)

    spans = [
        Span(e, _sign_link(text, e, ahead(e), links, signs), Scope.NEGATED, text[s:e])
        for s, e in negated_pre
    ]
    for scope, found in (
        (Scope.OTHER, negated_other),
        (Scope.UNCERTAIN, uncertain_pre + uncertain_both),
        (Scope.HYPOTHETICAL, hypothetical),
    ):
        spans += [Span(e, ahead(e), scope, text[s:e]) for s, e in found]
    for scope, found in (
        (Scope.NEGATED, negated_post),
        (Scope.UNCERTAIN, uncertain_post + uncertain_both),
    ):
        spans += [
            Span(
                _backward_start(
                    text, s, start, backward, plural=bool(_PLURAL_CUE.match(text, s, e))
                ),
                s,
                scope,
                text[s:e],
            )
            for s, e in found
        ]
    return Assertions(spans=spans, cues=taken)


def covering(spans: list[Span], start: int, scope: Scope) -> list[Span]:
    """The spans of kind ``scope`` that contain position ``start``."""
    return [s for s in spans if s.scope is scope and s.start <= start < s.end]


def in_scope(spans: list[Span], start: int, scope: Scope) -> bool:
    """True when a mention starting at ``start`` lies in a span of kind ``scope``."""
    return any(s.scope is scope and s.start <= start < s.end for s in spans)
