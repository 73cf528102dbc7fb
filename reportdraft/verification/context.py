"""Sentence, clause and assertion context: is a mention negated, uncertain or hypothetical?

A small NegEx-style algorithm over the cues in ``negation.yaml``. Cues are claimed in order
of priority so that longer, more specific phrases win: pseudo-negations ("no change"),
uncertainty ("cannot be excluded") and hypotheticals ("rule out") first, then post-negations
("is not seen"), then pre-negations ("no", "without"). A pre cue's scope runs forward to the
end of its clause, a post cue's scope backward to the clause start. Clauses end at sentence
punctuation, semicolons and colons, and at terminators ("but", "however", "there is").

Why not medspaCy: the verifier must be fast and deterministic on every draft of every
backend, and must treat statement and source with exactly the same rules; the known traps of
the off-the-shelf rules (DESIGN.md section 6) are avoided in the cue list itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from reportdraft.verification.lexicon import Cues, Vocabulary

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


def _forward_end(text: str, position: int, end: int, stops: list[int]) -> int:
    """Where a pre cue's scope ends: the next terminator or hard break in the sentence."""
    hard = _HARD_BREAK.search(text, position, end)
    limit = hard.start() if hard else end
    return min([limit, *[s for s in stops if s >= position]])


def _backward_start(text: str, position: int, start: int, stops: list[int]) -> int:
    """Where a post cue's scope starts: the previous clause break in the sentence."""
    begin = start
    for match in _CLAUSE_BREAK.finditer(text, start, position):
        if match.group(0) in {",", ";", ":"} or match.group(0).lower() in {"but", "however"}:
            begin = match.end()
    return max([begin, *[s for s in stops if s <= position]])


@dataclass(frozen=True, slots=True)
class Assertions:
    """The scoped ranges of one sentence and the character ranges of the cues themselves."""

    spans: list[Span]
    cues: list[tuple[int, int]]


def assertion_spans(text: str, start: int, end: int, cues: Cues) -> Assertions:
    """The negated / uncertain / hypothetical ranges of sentence ``text[start:end]``.

    ``OTHER`` ranges follow "no other", "no additional": they negate further instances of
    a finding, not the finding itself ("No other renal masses" after a described mass).
    """
    taken: list[tuple[int, int]] = []
    _find(cues.pseudo, text, start, end, taken)
    uncertain_post = _find(cues.uncertain_post, text, start, end, taken)
    uncertain_pre = _find(cues.uncertain_pre, text, start, end, taken)
    hypothetical = _find(cues.hypothetical_pre, text, start, end, taken)
    negated_post = _find(cues.post_negation, text, start, end, taken)
    negated_other = _find(cues.pre_negation_other, text, start, end, taken)
    negated_pre = _find(cues.pre_negation, text, start, end, taken)
    terminators = _find(cues.terminators, text, start, end, taken)
    forward = [s for s, _e in terminators]
    backward = [e for _s, e in terminators]

    spans: list[Span] = []
    for scope, found in (
        (Scope.NEGATED, negated_pre),
        (Scope.OTHER, negated_other),
        (Scope.UNCERTAIN, uncertain_pre),
        (Scope.HYPOTHETICAL, hypothetical),
    ):
        spans += [Span(e, _forward_end(text, e, end, forward), scope) for _s, e in found]
    for scope, found in ((Scope.NEGATED, negated_post), (Scope.UNCERTAIN, uncertain_post)):
        spans += [Span(_backward_start(text, s, start, backward), s, scope) for s, _e in found]
    return Assertions(spans=spans, cues=taken)


def in_scope(spans: list[Span], start: int, scope: Scope) -> bool:
    """True when a mention starting at ``start`` lies in a span of kind ``scope``."""
    return any(s.scope is scope and s.start <= start < s.end for s in spans)
