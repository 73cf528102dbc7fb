"""Characters a reader cannot see, taken out of a transcript before anything reads it.

A transcript can carry characters that change what a reviewer *sees* without changing what
a program *reads*, or the other way round:

- bidirectional controls (the embeddings and overrides U+202A-U+202E, the isolates
  U+2066-U+2069, and the marks U+200E, U+200F, U+061C) reorder how the text is displayed, so
  a sentence can show "left" while holding "tfel", or show a word that a check never sees;
- zero-width characters (U+200B, U+200C, U+200D, U+2060, U+FEFF) split a word without a
  visible gap, so "ri\u200bght" looks like "right" but no laterality check would read it;
- C0 control characters (U+0000-U+001F except tab and line feed) and DEL are not text at
  all. A carriage return is a line break (CR LF counts once); the vertical controls that
  Python treats as whitespace (VT, FF, U+001C-U+001F) become a space, so the words they
  separated stay apart; the rest are dropped.

:func:`clean` removes them all, so every consumer of the normalised dictation (critical
finding detection, the verifier, the drafting prompt) sees the same plain text, and keeps a
map back to the raw offsets. Removing bidi or zero-width characters is worth telling the
radiologist (something tried to hide text, or a dictation tool inserted them), so
:func:`hidden_characters_flag` reports them as ONE low-severity ``hidden_characters`` flag
naming each character and the sentence it was in; control characters are dropped silently
(they carry no visible meaning to disguise). A byte-order mark at the very start of the
transcript is an encoding artefact, not a hidden character: dropped without a flag.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

from reportdraft.models import Flag, FlagKind, NormalizedDictation, Severity

BIDI_CONTROLS: Final = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
"""Bidirectional embeddings, overrides, isolates and marks."""

ZERO_WIDTH: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff")
"""Zero-width space, non-joiner, joiner, word joiner and (inside text) the BOM."""

_SPACE_CONTROLS: Final = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f")
"""Controls that separate words (Python's whitespace): replaced by a space, not dropped."""

_REMOVED: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f" + "".join(sorted(BIDI_CONTROLS | ZERO_WIDTH)) + "]"
)

_MAX_LISTED: Final = 8
"""Characters named one by one in the flag; the rest are counted."""

Kind = Literal["bidi", "zero_width"]


@dataclass(frozen=True, slots=True)
class HiddenCharacter:
    """A bidi or zero-width character found at ``offset`` of the raw transcript."""

    offset: int
    char: str
    kind: Kind

    @property
    def label(self) -> str:
        """``U+200B ZERO WIDTH SPACE``."""
        return f"U+{ord(self.char):04X} {unicodedata.name(self.char, 'UNNAMED')}"


@dataclass(frozen=True, slots=True)
class CleanText:
    """A transcript with its hidden characters removed.

    ``origin[i]`` is the raw offset of ``text[i]``; ``origin[len(text)]`` is ``len(raw)``,
    so a span ``[start, end)`` of ``text`` is ``[origin[start], origin[end - 1] + 1)`` in raw.
    """

    text: str
    origin: tuple[int, ...]
    hidden: tuple[HiddenCharacter, ...]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw span that the non-empty span ``[start, end)`` of :attr:`text` came from."""
        if end <= start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1


def hidden_characters(raw: str) -> list[HiddenCharacter]:
    """Every bidi control and zero-width character of ``raw`` (not a leading BOM), in order."""
    found: list[HiddenCharacter] = []
    for match in _REMOVED.finditer(raw):
        char, offset = match.group(), match.start()
        if char in BIDI_CONTROLS:
            found.append(HiddenCharacter(offset, char, "bidi"))
        elif char in ZERO_WIDTH and not (char == "\ufeff" and offset == 0):
            found.append(HiddenCharacter(offset, char, "zero_width"))
    return found


def clean(raw: str) -> CleanText:
    """``raw`` without control, bidi and zero-width characters, with the map back to raw."""
    if _REMOVED.search(raw) is None:
        return CleanText(raw, tuple(range(len(raw) + 1)), ())
    chars: list[str] = []
    origin: list[int] = []
    for offset, char in enumerate(raw):
        if char == "\r":
            if raw.startswith("\n", offset + 1):
                continue  # CR LF: the LF is the line break
            chars.append("\n")
        elif char in _SPACE_CONTROLS:
            chars.append(" ")
        elif _REMOVED.fullmatch(char):
            continue
        else:
            chars.append(char)
        origin.append(offset)
    origin.append(len(raw))
    return CleanText("".join(chars), tuple(origin), tuple(hidden_characters(raw)))


def hidden_characters_flag(dictation: NormalizedDictation) -> Flag | None:
    """One low ``hidden_characters`` flag listing what :func:`clean` took out, or None.

    Each character is named with its code point, the sentence it was in and its raw offset;
    ``evidence`` shows it in place (``ri⟦U+200B⟧ght``), so the radiologist can see what a
    display would have hidden. The id is a placeholder the pipeline renumbers.
    """
    found = hidden_characters(dictation.raw)
    if not found:
        return None
    sentences = [(s.id, s.start, s.end) for s in dictation.sentences]

    def where(offset: int) -> str | None:
        return next((sid for sid, start, end in sentences if start <= offset < end), None)

    places = [(h, where(h.offset)) for h in found]
    listed = [
        f"{h.label} at offset {h.offset}" + (f" in {sid}" if sid else "")
        for h, sid in places[:_MAX_LISTED]
    ]
    more = len(found) - len(listed)
    kinds = sorted({"bidirectional control" if h.kind == "bidi" else "zero-width" for h in found})
    message = (
        f"{len(found)} invisible {' and '.join(kinds)} character(s) removed from the dictation "
        "before it was read (they can hide or reorder text on screen, or split a word): "
        + "; ".join(listed)
        + (f"; and {more} more" if more > 0 else "")
    )
    if len(message) > 500:
        message = message[:499] + "…"
    return Flag(
        id="F0",
        kind=FlagKind.HIDDEN_CHARACTERS,
        severity=Severity.LOW,
        message=message,
        sources=sorted({sid for _, sid in places if sid}, key=lambda s: int(s[1:])),
        evidence=[_show(dictation.raw, h) for h in found[:_MAX_LISTED]],
    )


def _show(raw: str, hidden: HiddenCharacter, context: int = 30) -> str:
    """The raw text around ``hidden`` with every removed character spelled out visibly."""
    start, end = max(0, hidden.offset - context), hidden.offset + context + 1
    window = _REMOVED.sub(lambda m: f"⟦U+{ord(m.group()):04X}⟧", raw[start:end])
    return (f"…{window}…" if start or end < len(raw) else window)[:500]
