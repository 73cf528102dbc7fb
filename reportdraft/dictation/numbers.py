"""Spoken numbers, measurements and spinal levels, parsed from tokens.

The rule for when number words become digits (documented in ``numbers.yaml`` too): a run
of number words is converted only when it is followed by a unit ("two point three
centimeters" -> "2.3 cm"), by "percent", by a dimension word and another number
("one point five by two centimeters" -> "1.5 x 2 cm"), when it holds a decimal point
("point five" -> "0.5"), or when a counting noun listed in ``numbers.yaml`` follows
directly (none by default, so "two views" stays words). An integer said in two or more
number words ("twenty three", "three hundred") is unambiguous and always becomes
digits. Otherwise the words stay words: "one of the", "no one", "at one point".

Parsers only look a bounded number of tokens ahead, so a transcript is parsed in linear
time whatever it holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from reportdraft.dictation.spoken_lexicon import DictationLexicon
from reportdraft.dictation.tokens import NUM, WORD, Token

_SPINE_WORD = re.compile(r"^([ctls])(\d{1,2})$")
_MAX_LEVEL = 12
_MAX_DIMENSIONS = 4
"""Longest "a by b by c" chain read; bounds the look-ahead so parsing stays linear."""


@dataclass(frozen=True, slots=True)
class Value:
    """A number as digits with its raw span and the index of the token after it."""

    text: str
    start: int
    end: int
    next: int
    decimal: bool
    words: int


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit phrase right after a number: its canonical form and raw span."""

    text: str
    start: int
    end: int
    next: int
    gap: bool


@dataclass(frozen=True, slots=True)
class Measurement:
    """Numbers joined by dimension words ("by"/"x"), with an optional unit.

    ``separators`` are the dimension tokens between the values; ``next`` is the index of
    the first token after the whole measurement (unit included).
    """

    values: list[Value]
    separators: list[Token]
    unit: Unit | None
    next: int


def _word(tokens: list[Token], i: int) -> str | None:
    if i < len(tokens) and tokens[i].kind == WORD:
        return tokens[i].low
    return None


def _sub100(tokens: list[Token], i: int, lex: DictationLexicon) -> tuple[int, int] | None:
    word = _word(tokens, i)
    if word is None:
        return None
    if word in lex.ones:
        return lex.ones[word], i + 1
    if word not in lex.tens:
        return None
    value, j = lex.tens[word], i + 1
    # "twenty-three" written with a hyphen and no spaces
    if (
        j + 1 < len(tokens)
        and tokens[j].text == "-"
        and not tokens[j].gap
        and not tokens[j + 1].gap
    ):
        unit = lex.ones.get(_word(tokens, j + 1) or "", 0)
        if 1 <= unit <= 9:
            return value + unit, j + 2
    unit = lex.ones.get(_word(tokens, j) or "", 0)
    if 1 <= unit <= 9:
        return value + unit, j + 1
    return value, j


def _scaled(
    tokens: list[Token],
    i: int,
    lex: DictationLexicon,
    part: Callable[[list[Token], int, DictationLexicon], tuple[int, int] | None],
    scale: frozenset[str],
    factor: int,
    most: int,
) -> tuple[int, int] | None:
    """``part`` [scale word [part]]: "three hundred twelve", "two thousand five hundred".

    ``most`` is the largest multiplicand the scale word takes (9 hundred, 999 thousand).
    """
    found = part(tokens, i, lex)
    if found is None:
        return None
    value, j = found
    if 1 <= value <= most and _word(tokens, j) in scale:
        value, j = value * factor, j + 1
        rest = part(tokens, j, lex)
        if rest is not None and rest[0] > 0:
            value, j = value + rest[0], rest[1]
    return value, j


def _sub1000(tokens: list[Token], i: int, lex: DictationLexicon) -> tuple[int, int] | None:
    return _scaled(tokens, i, lex, _sub100, lex.hundred, 100, 9)


def parse_integer(tokens: list[Token], i: int, lex: DictationLexicon) -> tuple[int, int] | None:
    """A spoken integer below a million starting at token ``i``: (value, next index)."""
    return _scaled(tokens, i, lex, _sub1000, lex.thousand, 1000, 999)


def _fraction(tokens: list[Token], i: int, lex: DictationLexicon) -> tuple[str, int] | None:
    """Digits after "point": single digit words ("three five"), written digits, or 10-99."""
    if i < len(tokens) and tokens[i].kind == NUM and tokens[i].text.isdigit():
        return tokens[i].text, i + 1
    digits: list[str] = []
    j = i
    while (word := _word(tokens, j)) is not None and word in lex.decimal_digits:
        digits.append(str(lex.decimal_digits[word]))
        j += 1
    if digits:
        return "".join(digits), j
    found = _sub100(tokens, i, lex)
    if found is not None and found[0] >= 10:
        return str(found[0]), found[1]
    return None


def parse_value(
    tokens: list[Token], i: int, lex: DictationLexicon, previous: str | None
) -> Value | None:
    """A number at token ``i``: written digits or number words, with a decimal part.

    ``previous`` is the word said just before; a leading "point" after a word listed in
    ``point_not_after`` ("at this point") is not a number.
    """
    if i >= len(tokens):
        return None
    tok = tokens[i]
    decimal = False
    if tok.kind == NUM:
        text, j, decimal = tok.text, i + 1, "." in tok.text
    elif (found := parse_integer(tokens, i, lex)) is not None:
        text, j = str(found[0]), found[1]
    elif tok.low in lex.decimal_point and previous not in lex.point_not_after:
        frac = _fraction(tokens, i + 1, lex)
        if frac is None:
            return None
        end = tokens[frac[1] - 1].end
        return Value(f"0.{frac[0]}", tok.start, end, frac[1], True, frac[1] - i)
    else:
        return None
    if not decimal and _word(tokens, j) in lex.decimal_point:
        frac = _fraction(tokens, j + 1, lex)
        if frac is not None:
            text, j, decimal = f"{text}.{frac[0]}", frac[1], True
    return Value(text, tok.start, tokens[j - 1].end, j, decimal, j - i)


def match_unit(tokens: list[Token], i: int, lex: DictationLexicon) -> Unit | None:
    """The longest unit phrase (or "percent") starting at token ``i``."""
    best: Unit | None = None
    key: tuple[str, ...] = ()
    for j in range(i, min(i + lex.max_unit_words, len(tokens))):
        word = _word(tokens, j)
        if word is None:
            break
        key = (*key, word)
        canonical = lex.units.get(key)
        if canonical is not None:
            best = Unit(canonical, tokens[i].start, tokens[j].end, j + 1, tokens[i].gap)
    return best


def parse_measurement(
    tokens: list[Token], i: int, lex: DictationLexicon, previous: str | None
) -> Measurement | None:
    """A number (or numbers joined by "by") at ``i`` that should be written as digits.

    Returns None when the rule in the module docstring says the words stay words, and
    for a lone written number, which needs no conversion.
    """
    first = parse_value(tokens, i, lex, previous)
    if first is None:
        return None
    values, separators, j = [first], [], first.next
    while (
        len(values) < _MAX_DIMENSIONS
        and (word := _word(tokens, j)) is not None
        and word in lex.dimension
    ):
        value = parse_value(tokens, j + 1, lex, word)
        if value is None:
            break
        separators.append(tokens[j])
        values.append(value)
        j = value.next
    unit = match_unit(tokens, j, lex)
    if unit is not None:
        return Measurement(values, separators, unit, unit.next)
    if len(values) > 1 and any(v.decimal for v in values):
        return Measurement(values, separators, None, j)
    spoken_compound = tokens[i].kind == WORD and first.words > 1
    if first.decimal or spoken_compound or _word(tokens, first.next) in lex.count_nouns:
        return Measurement([first], [], None, first.next)
    return None


def _level(tokens: list[Token], i: int, lex: DictationLexicon) -> int | None:
    if i >= len(tokens):
        return None
    tok = tokens[i]
    if tok.kind == NUM and tok.text.isdigit():
        value = int(tok.text)
    elif tok.kind == WORD and tok.low in lex.ones:
        value = lex.ones[tok.low]
    else:
        return None
    return value if 1 <= value <= _MAX_LEVEL else None


def _ends_number(tokens: list[Token], i: int, lex: DictationLexicon) -> bool:
    """True when token ``i`` cannot continue a number (no "point", unit, "by" next)."""
    word = _word(tokens, i)
    if word is None:
        return True
    return (
        word not in lex.decimal_point
        and word not in lex.dimension
        and match_unit(tokens, i, lex) is None
    )


def parse_spine(tokens: list[Token], i: int, lex: DictationLexicon) -> tuple[str, int] | None:
    """A spinal level: "C five six" -> "C5-6", "L4 five" -> "L4-5", "T two" -> "T2".

    The second number must be the next level (C5 then 6) so "T2 three" or "L4 two" stay
    as they were said. Returns (text, next index) or None.
    """
    tok = tokens[i]
    written = _SPINE_WORD.match(tok.low)
    if tok.low in lex.spine_letters:
        first = _level(tokens, i + 1, lex)
        if first is None or not _ends_number(tokens, i + 2, lex):
            return None
        base, j = f"{tok.text.upper()}{first}", i + 2
    elif written is not None and written.group(1) in lex.spine_letters:
        first, base, j = int(written.group(2)), tok.text.upper(), i + 1
    else:
        return None
    second = _level(tokens, j, lex)
    if second == first + 1 and tokens[j].kind == WORD and _ends_number(tokens, j + 1, lex):
        return f"{base}-{second}", j + 1
    if tok.low in lex.spine_letters:
        return base, j
    return None
