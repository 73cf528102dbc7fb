"""The editing pass: spoken commands, headers, list numbers and numbers, in one sweep.

Tokens go in; *items* come out: the words, numbers and punctuation of the final text,
plus markers for breaks, section headers and list numbers. Each item keeps the raw span
it came from. Editing commands ("scratch that", "correction") act on the items already
produced, the way a voice engine acts on what is already on screen.

Rules, in the order they are tried at each token:

- A **section header** ("findings", "impression", "history", ...) counts only at the
  start of an utterance (start of text, after ".", "?", "!", a line or paragraph break,
  or another header) and only when a written ":" or the spoken word "colon" follows. An
  all-capitals header with a written colon also counts after a comma, which is how
  MTSamples-style text joins sections ("... normal.,IMPRESSION:,1. ...").
- A **list number** ("1." / "1)" / spoken "one period") at the start of an utterance, or
  the next number of a running list before a capitalised word ("... process 2. Stable"),
  starts a new sentence; the number itself is layout and is not part of the text.
- A **spoken command** is matched as whole words (so "periodic" and "periosteal" are
  never commands). It is read as the ordinary word when the word before it (as already
  edited) is in its ``word_if_previous`` list or the word after it is in its
  ``word_if_next`` list (``commands.yaml``): "postpartum period", "the period of",
  "sigmoid colon", "a new line in the SVC" stay words; a ``command_if_next`` phrase
  overrides both ("no effusion period of note ..." is a full stop).
- "correction" is a command only when a pause (a written or spoken comma) is next to it
  or the word after it is a number or a side, and something follows it to correct with.
  The replacement's first word picks what it replaces in the current sentence: a number
  replaces from the last number ("5 mm, correction, 6 mm" -> "6 mm"), a side from the
  last side word ("right, correction, left"), another word from its last occurrence;
  failing those, the last word.
- "scratch that" removes the words back to the previous punctuation mark or break; said
  right after punctuation it removes that mark and the utterance before it. It never
  removes a section header.
- **Numbers** follow the rule in :mod:`reportdraft.dictation.numbers`.

Written punctuation is kept, except a comma, colon, semicolon or period that directly
follows the start of an utterance or another mark (MTSamples' ``"FINDINGS: , The"``):
that is a stray joiner, and keeping it would only produce ", ," in the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, cast

from reportdraft.dictation.numbers import parse_measurement, parse_spine
from reportdraft.dictation.spoken_lexicon import CommandSpec, DictationLexicon
from reportdraft.dictation.tokens import NUM, PARA, PUNCT, WORD, Token
from reportdraft.models.draft import SectionKind

# Item kinds
ITEM_WORD: Final = "word"
ITEM_NUM: Final = "num"
ITEM_PUNCT: Final = "punct"
ITEM_LINE: Final = "line"
ITEM_PARA: Final = "para"
ITEM_HEADER: Final = "header"
ITEM_LIST: Final = "list"

MARKERS: Final = frozenset({ITEM_LINE, ITEM_PARA, ITEM_HEADER, ITEM_LIST})
SENTENCE_END: Final = frozenset({".", "?", "!"})
_PAUSES: Final = frozenset({".", "?", "!", ",", ";", ":"})
_JOINERS: Final = frozenset({",", ";", ":", "."})
_GLUE_LEFT: Final = frozenset({",", ".", ";", ":", "?", "!", ")", "]", "%"})
_GLUE_RIGHT: Final = frozenset({"(", "["})
_LIST_CLOSERS: Final = frozenset({".", ")"})
_CORRECTION_WINDOW: Final = 40
"""How far back (in items) a correction looks for what it replaces; keeps the pass linear."""

_ACTION_PUNCT: Final[dict[str, str]] = {
    "period": ".",
    "comma": ",",
    "colon": ":",
    "semicolon": ";",
    "question": "?",
    "open_paren": "(",
    "close_paren": ")",
    "hyphen": "-",
}


@dataclass(slots=True)
class Item:
    """A piece of the normalised text (or a marker) and the raw span it came from.

    ``gap``: a space goes before it unless a glue rule says otherwise. ``glue_left`` /
    ``glue_right``: no space before / after it (closing and opening punctuation, and a
    spoken hyphen, which joins "L4" "-" "5").
    """

    kind: str
    text: str
    start: int
    end: int
    gap: bool = True
    glue_left: bool = False
    glue_right: bool = False
    section: SectionKind | None = None


def _is_pause(item: Item) -> bool:
    return item.kind in MARKERS or (item.kind == ITEM_PUNCT and item.text in _PAUSES)


def _is_sentence_start(item: Item | None) -> bool:
    return (
        item is None
        or item.kind in (ITEM_LINE, ITEM_PARA, ITEM_HEADER)
        or (item.kind == ITEM_PUNCT and item.text in SENTENCE_END)
    )


class Editor:
    """One pass over the tokens of one transcript; call :meth:`run` once."""

    def __init__(self, tokens: list[Token], lexicon: DictationLexicon) -> None:
        self.tokens = tokens
        self.lex = lexicon
        self.out: list[Item] = []
        self.list_number = 0

    # -- helpers -------------------------------------------------------------------------

    def _last(self) -> Item | None:
        return self.out[-1] if self.out else None

    def _previous_word(self) -> str | None:
        last = self._last()
        if last is not None and last.kind in (ITEM_WORD, ITEM_NUM):
            return last.text.lower()
        return None

    def _low(self, i: int) -> str | None:
        if i < len(self.tokens) and self.tokens[i].kind == WORD:
            return self.tokens[i].low
        return None

    def _match(
        self,
        i: int,
        table: dict[tuple[str, ...], SectionKind] | dict[tuple[str, ...], CommandSpec],
        longest: int,
    ) -> int:
        """Number of words of the longest phrase of ``table`` starting at ``i`` (0: none)."""
        found, key = 0, cast(tuple[str, ...], ())
        for j in range(i, min(i + longest, len(self.tokens))):
            word = self._low(j)
            if word is None:
                break
            key = (*key, word)
            if key in table:
                found = j - i + 1
        return found

    def _plain_number(self, i: int) -> bool:
        """True for written digits that no rule touches (no unit, "point", "by", list)."""
        j = i + 1
        if j >= len(self.tokens):
            return True
        nxt = self.tokens[j]
        if nxt.kind == PUNCT:
            return nxt.text not in _LIST_CLOSERS
        return nxt.kind != WORD or (
            nxt.low not in self.lex.triggers
            and nxt.low not in self.lex.unit_starts
            and nxt.low not in self.lex.dimension
            and nxt.low not in self.lex.count_nouns
        )

    def _followed_by(self, i: int, phrases: frozenset[str]) -> bool:
        """True when the words from token ``i`` start with one of ``phrases``."""
        if not phrases:
            return False
        words: list[str] = []
        for j in range(i, min(i + 4, len(self.tokens))):
            word = self._low(j)
            if word is None:
                break
            words.append(word)
            if " ".join(words) in phrases:
                return True
        return False

    def _is_spoken_period(self, i: int) -> int:
        """Words of a spoken period phrase ("period", "full stop") at ``i``, or 0."""
        length = self._match(i, self.lex.commands, self.lex.max_command_words)
        words = tuple(t.low for t in self.tokens[i : i + length])
        return length if words in self.lex.period_phrases else 0

    def push_punct(self, text: str, start: int, end: int, gap: bool, *, spoken: bool) -> None:
        """Append punctuation, dropping stray joiners (see module docstring)."""
        last = self._last()
        if text in _JOINERS:
            if last is None or _is_sentence_start(last) or last.kind == ITEM_LIST:
                return
            if last.kind == ITEM_PUNCT and last.text in _JOINERS:
                if text != "," and last.text == ",":
                    self.out.pop()
                else:
                    return
        hyphen = spoken and text == "-"
        self.out.append(
            Item(
                ITEM_PUNCT,
                text,
                start,
                end,
                gap=gap,
                glue_left=text in _GLUE_LEFT or hyphen,
                glue_right=text in _GLUE_RIGHT or hyphen,
            )
        )

    # -- the pass ------------------------------------------------------------------------

    def run(self) -> list[Item]:
        """Edit the whole transcript and return the items in raw order."""
        i, n = 0, len(self.tokens)
        while i < n:
            i = self._step(i)
        return self.out

    def _step(self, i: int) -> int:
        tok = self.tokens[i]
        kind = tok.kind
        # fast paths: most tokens are ordinary words, punctuation or numbers on their own
        if kind == WORD and tok.low not in self.lex.triggers and not self._spine_like(tok):
            self.out.append(Item(ITEM_WORD, tok.text, tok.start, tok.end, gap=tok.gap))
            return i + 1
        if kind == PUNCT:  # punctuation never starts a header, list number or command
            self.push_punct(tok.text, tok.start, tok.end, tok.gap, spoken=False)
            return i + 1
        if kind == NUM and self._plain_number(i):
            self.out.append(Item(ITEM_NUM, tok.text, tok.start, tok.end, gap=tok.gap))
            return i + 1
        if tok.kind == PARA:
            self.out.append(Item(ITEM_PARA, "", tok.start, tok.end))
            return i + 1
        last = self._last()
        at_start = _is_sentence_start(last)
        after_comma = last is not None and last.kind == ITEM_PUNCT and last.text in ",;"
        if at_start or after_comma:
            nxt = self._header(i, strict=not at_start)
            if nxt is not None:
                return nxt
        nxt = self._list_marker(i, at_start)
        if nxt is not None:
            return nxt
        if tok.kind == WORD:
            nxt = self._command(i)
            if nxt is None:
                nxt = self._spine(i)
            if nxt is not None:
                return nxt
        if tok.kind in (WORD, NUM):
            nxt = self._number(i)
            if nxt is not None:
                return nxt
            kind = ITEM_NUM if tok.kind == NUM else ITEM_WORD
            self.out.append(Item(kind, tok.text, tok.start, tok.end, gap=tok.gap))
            return i + 1
        self.push_punct(tok.text, tok.start, tok.end, tok.gap, spoken=False)
        return i + 1

    def _header(self, i: int, *, strict: bool) -> int | None:
        length = self._match(i, self.lex.headers, self.lex.max_header_words)
        if not length:
            return None
        words = self.tokens[i : i + length]
        j = i + length
        if j >= len(self.tokens):
            return None
        colon = self.tokens[j]
        written = colon.kind == PUNCT and colon.text == ":"
        spoken = colon.kind == WORD and colon.low == "colon"
        if strict and not (written and all(t.text.isupper() for t in words)):
            return None
        if not (written or spoken):
            return None
        section = self.lex.headers[tuple(t.low for t in words)]
        self.out.append(Item(ITEM_HEADER, "", words[0].start, colon.end, section=section))
        self.list_number = 0
        return j + 1

    def _list_marker(self, i: int, at_start: bool) -> int | None:
        tok = self.tokens[i]
        if tok.kind == NUM and tok.text.isdigit() and len(tok.text) <= 2:
            value = int(tok.text)
        elif at_start and tok.kind == WORD and tok.low in self.lex.ones:
            value = self.lex.ones[tok.low]
        else:
            return None
        j = i + 1
        if value == 0 or j >= len(self.tokens):
            return None
        closer = self.tokens[j]
        if tok.kind == NUM and closer.kind == PUNCT and closer.text in _LIST_CLOSERS:
            end, nxt = closer.end, j + 1
            if not at_start:
                # a running list: "1. No acute process 2. Stable nodule."
                following = self.tokens[nxt] if nxt < len(self.tokens) else None
                if not (
                    self.list_number
                    and value == self.list_number + 1
                    and following is not None
                    and following.kind == WORD
                    and following.text[:1].isupper()
                ):
                    return None
        elif at_start and (length := self._is_spoken_period(j)):
            end, nxt = self.tokens[j + length - 1].end, j + length
        else:
            return None
        self.out.append(Item(ITEM_LIST, "", tok.start, end))
        self.list_number = value
        return nxt

    def _command(self, i: int) -> int | None:
        length = self._match(i, self.lex.commands, self.lex.max_command_words)
        if not length:
            return None
        j = i + length
        spec = self.lex.commands[tuple(t.low for t in self.tokens[i:j])]
        if not self._followed_by(j, spec.command_if_next) and (
            self._previous_word() in spec.word_if_previous or self._low(j) in spec.word_if_next
        ):
            return None
        first, last = self.tokens[i], self.tokens[j - 1]
        action = spec.action
        if action in _ACTION_PUNCT:
            self.push_punct(_ACTION_PUNCT[action], first.start, last.end, first.gap, spoken=True)
        elif action == "new_line":
            self.out.append(Item(ITEM_LINE, "", first.start, last.end))
        elif action == "new_paragraph":
            self.out.append(Item(ITEM_PARA, "", first.start, last.end))
        elif action == "scratch":
            self._scratch()
        else:
            return self._correction(i, j)
        return j

    def _scratch(self) -> None:
        out = self.out
        k = len(out)
        while k and not _is_pause(out[k - 1]):
            k -= 1
        if k < len(out):
            del out[k:]
            return
        if not k or out[k - 1].kind == ITEM_HEADER:
            return
        del out[k - 1]
        k = len(out)
        while k and not _is_pause(out[k - 1]):
            k -= 1
        del out[k:]

    def _correction(self, i: int, j: int) -> int | None:
        """Apply "correction" at tokens ``i``..``j``; None when it is the ordinary word."""
        tokens, lex = self.tokens, self.lex
        last = self._last()
        paused = last is not None and last.kind == ITEM_PUNCT and last.text == ","
        while j < len(tokens) and (tokens[j].text == "," or tokens[j].low == "comma"):
            paused, j = True, j + 1
        if j >= len(tokens) or tokens[j].kind not in (WORD, NUM):
            return None
        first = tokens[j]
        numeric = first.kind == NUM or lex.is_number_word(first.low)
        side = first.low in lex.laterality
        if not (paused or numeric or side):
            return None
        out = self.out
        body = len(out)
        while body and not _is_sentence_start(out[body - 1]) and out[body - 1].kind != ITEM_LIST:
            body -= 1
        words = [
            k
            for k in range(max(body, len(out) - _CORRECTION_WINDOW), len(out))
            if out[k].kind in (ITEM_WORD, ITEM_NUM)
        ]
        if not words:
            return None
        while out[-1].kind == ITEM_PUNCT and out[-1].text == ",":
            out.pop()

        def same_kind(item: Item) -> bool:
            low = item.text.lower()
            if numeric:
                return item.kind == ITEM_NUM or lex.is_number_word(low)
            if side:
                return low in lex.laterality
            return low == first.low

        anchor = next((k for k in reversed(words) if same_kind(out[k])), words[-1])
        del out[anchor:]
        return j

    def _spine_like(self, tok: Token) -> bool:
        """Cheap pre-check for a written level such as "L4" (letter then digits)."""
        low = tok.low
        return len(low) <= 3 and low[0] in self.lex.spine_letters and low[1:].isdigit()

    def _spine(self, i: int) -> int | None:
        found = parse_spine(self.tokens, i, self.lex)
        if found is None:
            return None
        text, nxt = found
        tok = self.tokens[i]
        self.out.append(Item(ITEM_WORD, text, tok.start, self.tokens[nxt - 1].end, gap=tok.gap))
        return nxt

    def _number(self, i: int) -> int | None:
        found = parse_measurement(self.tokens, i, self.lex, self._previous_word())
        if found is None:
            return None
        gap = self.tokens[i].gap
        for index, value in enumerate(found.values):
            if index:
                sep = found.separators[index - 1]
                self.out.append(Item(ITEM_WORD, "x", sep.start, sep.end))
            self.out.append(Item(ITEM_NUM, value.text, value.start, value.end, gap=gap))
            gap = True
        unit = found.unit
        if unit is not None:
            percent = unit.text == "%"
            self.out.append(
                Item(
                    ITEM_PUNCT if percent else ITEM_WORD,
                    unit.text,
                    unit.start,
                    unit.end,
                    gap=unit.gap,
                    glue_left=percent,
                )
            )
        return found.next
