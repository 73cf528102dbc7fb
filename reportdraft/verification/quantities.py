"""Numbers in report text: measurements with units, bare numbers, codes and dates.

Measurements are normalised to one base unit per dimension (length in mm, area in mm², volume
in mL, ...), so that "2.3 cm" and "23 mm" compare equal while "2.3 mm" for "2.3 cm" (the
classic dictation slip) and "3.2 cm" for "2.3 cm" do not. Dimension lists ("2.3 x 1.5 cm")
and ranges ("4-5 mm") give every number the shared unit.

Codes (vertebral levels "L4-L5", "C5-6"; classification categories "BI-RADS 4A") and dates
are kept apart from numbers: "L4-L5" is not the number 4, and a date is not a measurement,
but a wrong level or date is still an unsupported detail.

Times of day ("3:15 PM", "15:15", "1515 hours"), clock-face positions ("2 o'clock", "the
2:00 position") and intervals ("in 6 months", "4-6 weeks", "annual") are facts of their own
too (issue 12, point 7): "3:15 AM" for "3:15 PM", "10 o'clock" for "2 o'clock" and "3
months" for "6 months" change what the report says while every bare number still matches.
They are kept out of the bare numbers and compared in their own normal form.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from reportdraft import vocab

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"

# Units and number words are data (``reportdraft/data/vocab/numbers.yaml``, shared with the
# dictation normaliser and the redline). Each unit: its written spellings (longer first:
# "cm/s" before "cm", "mGy-cm" before "mGy", "mm2" before "mm"), canonical unit, dimension and
# factor to the dimension's base unit.
_NUMBERS = vocab.numbers()
_UNITS: list[tuple[str, str, str, float]] = [
    (u.pattern, u.unit, u.dimension, u.factor) for u in _NUMBERS.measurement_units
]
_UNIT_RE = re.compile(
    "|".join(f"(?P<u{i}>{pattern})" for i, (pattern, *_rest) in enumerate(_UNITS)), re.IGNORECASE
)
_NUMBER_RE = re.compile(
    rf"(?<![A-WYZa-wyz0-9.,/:])(?P<num>{_NUM})"
    rf"(?:\s*-?\s*(?P<unit>{_UNIT_RE.pattern})(?![A-Za-z0-9]))?",
    re.IGNORECASE,
)
_CONNECTOR = re.compile(r"^\s*(?:x|×|\*|by|-|–|to)\s*$", re.IGNORECASE)
_ORDINAL = re.compile(r"(?<![\w.])(\d{1,3})(?:st|nd|rd|th)\b", re.IGNORECASE)
_LEVEL = re.compile(r"(?<![\w-])([CTLS])(\d{1,2})(?:\s*[-–/]\s*([CTLS])?(\d{1,2}))?(?![\w])")
_CATEGORY = re.compile(
    r"\b(BI-?RADS|Bosniak|LI-?RADS|TI-?RADS|Lung-?RADS|PI-?RADS|O-?RADS)"
    r"(?:\s+category)?\s*:?\s*(\d[A-Ca-c]?|[0-9]F)\b",
    re.IGNORECASE,
)
_DATE = re.compile(r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})\b")
_CLOCK = re.compile(
    r"\b(1[0-2]|[1-9])(?::(00|30))?\s*o['’]?\s*clock\b"
    r"|\b(1[0-2]|[1-9]):(00|30)\s+(?=(?:position|axis|location)\b)",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?P<h>1[0-2]|0?[1-9])(?::(?P<m>[0-5]\d))?\s*(?P<mer>[ap])\.?\s?m\b\.?"
    r"|\b(?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)(?::[0-5]\d)?\b"
    r"|\b(?P<hh>[01]\d|2[0-3])(?P<mm>[0-5]\d)\s*(?:hours|hrs)\b",
    re.IGNORECASE,
)
# Spelled-out counts ("two nodules"). "one" is left out of the bare numbers (it is a pronoun
# as often as a count: "one of the nodules") but read in intervals ("in one year").
_WORDS = {word: value for word, value in _NUMBERS.count_words().items() if value >= 2}
_WORD_RE = re.compile(rf"\b({'|'.join(_WORDS)})\b", re.IGNORECASE)
_COUNT = rf"\d+(?:\.\d+)?|one|{'|'.join(_WORDS)}"
_INTERVAL = re.compile(
    rf"\b(?P<a>{_COUNT})(?:\s*(?:-|–|to)\s*(?P<b>{_COUNT}))?\s*-?\s*"
    r"(?P<unit>days?|weeks?|wks?|months?|mos?|years?|yrs?)\b",
    re.IGNORECASE,
)
_PERIODIC = {"semiannual": "6 mo", "annual": "12 mo", "yearly": "12 mo"}
_PERIODIC_RE = re.compile(r"\b(semi-?annual|annual|yearly)(?:ly)?\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A measured value as written, and the same value in its dimension's base unit."""

    value: float
    unit: str
    dimension: str
    base_value: float
    text: str
    start: int = field(compare=False)
    end: int = field(compare=False)

    def same_as(self, other: Quantity) -> bool:
        """True when both name the same amount (``2.3 cm`` is ``23 mm``)."""
        return self.dimension == other.dimension and math.isclose(
            self.base_value, other.base_value, rel_tol=1e-6, abs_tol=1e-9
        )

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


Marked = tuple[int, int, str]
"""``(start, end, normal form)`` of a fact in the text."""


@dataclass(frozen=True, slots=True)
class NumberScan:
    """Everything numeric found in one text."""

    quantities: tuple[Quantity, ...]
    numbers: tuple[float, ...]
    codes: frozenset[str]
    dates: frozenset[str]
    spans: tuple[tuple[int, int], ...]
    levels: tuple[Marked, ...] = ()
    """Spinal levels: a segment ``L4-L5`` ("L4-5", "L4/5") or a single level ``L4``."""
    times: tuple[Marked, ...] = ()
    """Times of day, ``HH:MM`` (24 h), or ``~HH:MM`` when AM/PM is not said ("at 3:15")."""
    clocks: tuple[Marked, ...] = ()
    """Clock-face positions, ``2:00`` for "2 o'clock"."""
    intervals: tuple[Marked, ...] = ()
    """Intervals in days, weeks or months (``6 mo``; years become months)."""


def _unit(surface: str) -> tuple[str, str, float]:
    match = _UNIT_RE.fullmatch(surface.strip())
    if match is None:  # pragma: no cover - the number regex only captures known units
        raise ValueError(f"unknown unit {surface!r}")
    index = int(next(name for name, value in match.groupdict().items() if value)[1:])
    _pattern, unit, dimension, factor = _UNITS[index]
    return unit, dimension, factor


def _to_float(text: str) -> float:
    return float(text.replace(",", ""))


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _codes(text: str) -> tuple[set[str], list[tuple[int, int]], list[Marked]]:
    codes: set[str] = set()
    spans: list[tuple[int, int]] = []
    levels: list[Marked] = []
    for match in _LEVEL.finditer(text):
        first, n1, second, n2 = match.groups()
        first = first.upper()
        codes.add(f"{first}{n1}")
        level = f"{first}{int(n1)}"
        if n2 is not None:
            codes.add(f"{(second or first).upper()}{n2}")
            level += f"-{(second or first).upper()}{int(n2)}"
        levels.append((match.start(), match.end(), level))
        spans.append(match.span())
    for match in _CATEGORY.finditer(text):
        scheme = match.group(1).upper().replace("-", "")
        codes.add(f"{scheme} {match.group(2).upper()}")
        spans.append(match.span())
    return codes, spans, levels


def _count(word: str) -> float:
    lowered = word.lower()
    if lowered == "one":
        return 1.0
    return float(_WORDS[lowered]) if lowered in _WORDS else float(lowered)


def _clocks(text: str) -> list[Marked]:
    found = []
    for match in _CLOCK.finditer(text):
        hour = match.group(1) or match.group(3)
        minute = match.group(2) or match.group(4) or "00"
        found.append((match.start(), match.end(), f"{int(hour)}:{minute}"))
    return found


def _times(text: str) -> list[Marked]:
    found = []
    for match in _TIME.finditer(text):
        if match.group("mer"):
            hour = int(match.group("h")) % 12 + (12 if match.group("mer").lower() == "p" else 0)
            value = f"{hour:02d}:{match.group('m') or '00'}"
        elif match.group("h24"):
            hour = int(match.group("h24"))
            value = f"{'~' if 1 <= hour <= 12 else ''}{hour:02d}:{match.group('m24')}"
        else:
            value = f"{match.group('hh')}:{match.group('mm')}"
        found.append((match.start(), match.end(), value))
    return found


def time_readings(value: str) -> set[str]:
    """The times of day a normal form can mean: ``~03:15`` is 03:15 or 15:15."""
    if not value.startswith("~"):
        return {value}
    hour, minute = value[1:].split(":")
    return {f"{int(hour) % 12:02d}:{minute}", f"{int(hour) % 12 + 12:02d}:{minute}"}


def _intervals(text: str) -> list[Marked]:
    found = []
    for match in _INTERVAL.finditer(text):
        unit = match.group("unit").lower()[0]
        scale, shown = (
            (12.0, "mo") if unit == "y" else (1.0, {"d": "d", "w": "wk", "m": "mo"}[unit])
        )
        for group in ("a", "b"):
            if match.group(group):
                found.append(
                    (match.start(), match.end(), f"{_count(match.group(group)) * scale:g} {shown}")
                )
    for match in _PERIODIC_RE.finditer(text):
        key = match.group(1).lower().replace("-", "")
        found.append((match.start(), match.end(), _PERIODIC[key]))
    return found


def scan_numbers(text: str) -> NumberScan:
    """Find measurements, bare numbers, codes, dates, times, clock positions and intervals."""
    codes, spans, levels = _codes(text)
    clocks = _clocks(text)
    spans += [(s, e) for s, e, _v in clocks]
    times = _times(_masked(text, spans))
    spans += [(s, e) for s, e, _v in times]
    dates = {m.group(0) for m in _DATE.finditer(text)}
    spans += [m.span() for m in _DATE.finditer(text)]
    intervals = _intervals(_masked(text, spans))
    spans += [(s, e) for s, e, _v in intervals]
    work = _masked(text, spans)

    raw = [
        (m.start(), m.end(), _to_float(m.group("num")), m.group("unit"))
        for m in _NUMBER_RE.finditer(work)
        if not re.match(r"[A-Za-z]", work[m.end() : m.end() + 1])
    ]
    groups: list[list[tuple[int, int, float, str | None]]] = []
    for item in raw:
        if groups and _CONNECTOR.match(work[groups[-1][-1][1] : item[0]]):
            groups[-1].append(item)
        else:
            groups.append([item])

    quantities: list[Quantity] = []
    numbers: list[float] = []
    for group in groups:
        shared = next((unit for *_rest, unit in reversed(group) if unit), None)
        for start, end, value, unit in group:
            surface = unit or shared
            if surface is None:
                numbers.append(value)
                continue
            canonical, dimension, factor = _unit(surface)
            quantities.append(
                Quantity(
                    value=value,
                    unit=canonical,
                    dimension=dimension,
                    base_value=round(value * factor, 9),
                    text=text[start:end].strip(),
                    start=start,
                    end=end,
                )
            )
        spans.append((group[0][0], group[-1][1]))
    numbers += [float(m.group(1)) for m in _ORDINAL.finditer(work)]
    numbers += [float(_WORDS[m.group(1).lower()]) for m in _WORD_RE.finditer(work)]
    return NumberScan(
        quantities=tuple(quantities),
        numbers=tuple(numbers),
        codes=frozenset(codes),
        dates=frozenset(dates),
        spans=tuple(spans),
        levels=tuple(levels),
        times=tuple(times),
        clocks=tuple(clocks),
        intervals=tuple(intervals),
    )
