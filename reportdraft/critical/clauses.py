"""Clause boundaries inside a sentence: where a comma splice (or "and a ...") starts a new
statement.

ConText scopes run to the end of the sentence unless a terminating cue stops them, and
radiologists join statements with commas: in "No effusion, large right pneumothorax" the
negation must stop at the comma, while in "No pneumothorax, effusion or consolidation" it
must not. What follows the comma tells them apart (see :class:`context.ClauseBreaks`,
whose word lists are data). Every cue's scope ends at a boundary found here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from reportdraft.critical.context_rules import ClauseBreaks

_SEGMENT_END = frozenset({",", ";", ":"})


@dataclass(frozen=True, slots=True)
class Token:
    """What the rule needs of a token: its lower-case text, whether it is a number, and
    whether it is part of a finding the lexicon matched."""

    lower: str
    like_num: bool
    finding: bool = False


class ClauseSplitter:
    """Finds clause-starting commas in a sentence's tokens (word lists from the rules)."""

    def __init__(self, config: ClauseBreaks) -> None:
        self.openers = frozenset(w.lower() for w in config.openers)
        self.modifiers = frozenset(w.lower() for w in config.modifiers)
        self.verbs = frozenset(w.lower() for w in config.verbs)
        self.list_words = frozenset(w.lower() for w in config.list_words)
        self.conjunctions = frozenset(w.lower() for w in config.conjunctions)
        self.joined_openers = frozenset(w.lower() for w in config.joined_openers)
        self.connectors = frozenset(w.lower() for w in config.connectors)

    def breaks(self, tokens: Sequence[Token]) -> list[int]:
        """Indices (into ``tokens``, one sentence) of the commas or conjunctions that start
        a new clause."""
        found: list[int] = []
        for i, token in enumerate(tokens):
            if i == 0 or i + 1 >= len(tokens):
                continue
            if token.lower == ",":
                if self._starts_clause(tokens, i):
                    found.append(i)
            elif token.lower in self.conjunctions and tokens[i + 1].lower in self.joined_openers:
                found.append(i)
        return found

    def _starts_clause(self, tokens: Sequence[Token], comma: int) -> bool:
        first = tokens[comma + 1]
        listing = any(t.lower in self.list_words for t in tokens[comma + 1 :])
        if first.lower in self.openers or first.like_num:
            return True
        segment: list[Token] = []
        for token in tokens[comma + 1 :]:
            if token.lower in _SEGMENT_END:
                break
            segment.append(token)
        if first.lower in self.modifiers:
            # "..., large right pneumothorax" opens a clause; "..., unchanged" describes
            # what came before it
            return not listing and any(t.finding for t in segment)
        if any(t.lower in self.verbs for t in segment):
            return not (listing or any(t.lower == "and" for t in segment))
        # "No hydronephrosis, perforated appendicitis": a finding after the only comma of
        # the sentence, with no list word after it, is a statement of its own; "No
        # pneumothorax, pneumomediastinum, pneumoperitoneum" (more commas) is a list
        only_comma = sum(t.lower == "," for t in tokens) == 1
        joined = listing or any(t.lower == "and" for t in tokens[comma + 1 :])
        return only_comma and not joined and self._heads(segment)

    def _heads(self, segment: list[Token]) -> bool:
        """True when a finding heads ``segment``: no connector ("of") comes before it, so it
        is not the complement of another noun ("pleural effusion of pneumothorax")."""
        for token in segment:
            if token.finding:
                return True
            if token.lower in self.connectors:
                return False
        return False


def crosses(breaks: Sequence[int], left: int, right: int) -> bool:
    """True when a boundary token lies in ``[left, right)`` (between a cue and a mention)."""
    i = bisect_left(breaks, left)
    return i < len(breaks) and breaks[i] < right
