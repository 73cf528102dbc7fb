"""Numbers in report text: measurements with units, bare numbers, codes and dates.

Measurements are normalised to one base unit per dimension (length in mm, area in mm², volume
in mL, ...), so that "2.3 cm" and "23 mm" compare equal while "2.3 mm" for "2.3 cm" (the
classic dictation slip) and "3.2 cm" for "2.3 cm" do not. Dimension lists ("2.3 x 1.5 cm")
and ranges ("4-5 mm") give every number the shared unit.

Codes (vertebral levels "L4-L5", "C5-6"; classification categories "BI-RADS 4A") and dates
are kept apart from numbers: "L4-L5" is not the number 4, and a date is not a measurement,
but a wrong level or date is still an unsupported detail.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"

# surface pattern -> (canonical unit, dimension, factor to the dimension's base unit).
# Longer spellings first: "cm/s" before "cm", "mGy-cm" before "mGy", "mm2" before "mm".
_UNITS: list[tuple[str, str, str, float]] = [
    (r"cm\s*/\s*s(?:ec)?|cm\s+per\s+second", "cm/s", "velocity", 1.0),
    (r"m\s*/\s*s(?:ec)?", "m/s", "velocity", 100.0),
    (r"mm2|mm²|sq\.?\s*mm|square\s+millimet(?:er|re)s?", "mm2", "area", 1.0),
    (r"cm2|cm²|sq\.?\s*cm|square\s+centimet(?:er|re)s?", "cm2", "area", 100.0),
    (r"cm3|cm³|cc|ml|milliliters?|millilitres?|cubic\s+centimet(?:er|re)s?", "mL", "volume", 1.0),
    (r"mgy\s*[-*·.]?\s*cm", "mGy·cm", "dlp", 1.0),
    (r"mgy", "mGy", "dose", 1.0),
    (r"msv", "mSv", "effective_dose", 1.0),
    (r"mci|millicuries?", "mCi", "activity", 37.0),
    (r"mbq", "MBq", "activity", 1.0),
    (r"mm|millimet(?:er|re)s?", "mm", "length", 1.0),
    (r"cm|centimet(?:er|re)s?", "cm", "length", 10.0),
    (r"hu|hounsfield\s+units?", "HU", "density", 1.0),
    (r"%|percent", "%", "percent", 1.0),
    (r"kg|kilograms?", "kg", "mass", 1000.0),
    (r"g|grams?", "g", "mass", 1.0),
    (r"bpm|beats\s+per\s+minute", "bpm", "rate", 1.0),
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
_DATE = re.compile(r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?)\b")
_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_WORD_RE = re.compile(rf"\b({'|'.join(_WORDS)})\b", re.IGNORECASE)


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


@dataclass(frozen=True, slots=True)
class NumberScan:
    """Everything numeric found in one text."""

    quantities: tuple[Quantity, ...]
    numbers: tuple[float, ...]
    codes: frozenset[str]
    dates: frozenset[str]
    spans: tuple[tuple[int, int], ...]


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


def _codes(text: str) -> tuple[set[str], list[tuple[int, int]]]:
    codes: set[str] = set()
    spans: list[tuple[int, int]] = []
    for match in _LEVEL.finditer(text):
        first, n1, second, n2 = match.groups()
        codes.add(f"{first}{n1}")
        if n2 is not None:
            codes.add(f"{second or first}{n2}")
        spans.append(match.span())
    for match in _CATEGORY.finditer(text):
        scheme = match.group(1).upper().replace("-", "")
        codes.add(f"{scheme} {match.group(2).upper()}")
        spans.append(match.span())
    return codes, spans


def scan_numbers(text: str) -> NumberScan:
    """Find measurements, bare numbers, codes and dates in ``text``."""
    codes, spans = _codes(text)
    dates = {m.group(0) for m in _DATE.finditer(text)}
    spans += [m.span() for m in _DATE.finditer(text)]
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
    )
