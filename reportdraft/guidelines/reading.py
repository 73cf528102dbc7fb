"""Reading guideline facts out of report text: sizes, negation, intervals, modalities.

Small, deterministic regex readers shared by the per-guideline modules. They read one
dictated sentence (or one case field) at a time, so every fact keeps the id of the text it
came from. The guidelines layer sits below the verifier (which imports it), so it reads
text itself rather than through :mod:`reportdraft.verification.facts`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NUMBER_WORDS = {
    "one": 1,
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
    "eighteen": 18,
    "twenty-four": 24,
    "twenty four": 24,
}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_UNIT = r"(mm|cm|millimeters?|millimetres?|centimeters?|centimetres?)\b"
_DIMS = re.compile(
    rf"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:{_UNIT})?\s*(?:x|×|by)\s*(\d+(?:\.\d+)?)"
    rf"(?:\s*(?:{_UNIT})?\s*(?:x|×|by)\s*(\d+(?:\.\d+)?))?\s*{_UNIT}",
    re.IGNORECASE,
)
_SINGLE = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*-?\s*{_UNIT}", re.IGNORECASE)
_NEGATION = re.compile(
    r"\b(no|not|without|negative for|free of|resolved|absent|denies|denied|never)\b", re.I
)
_CLAUSE_BREAK = re.compile(r"[;:]|,\s*(?:but|however|although)\b|\bbut\b", re.I)


def number(text: str) -> float:
    """A number written as digits or as an English word."""
    lowered = text.lower()
    return float(_NUMBER_WORDS[lowered]) if lowered in _NUMBER_WORDS else float(text)


def to_mm(value: float, unit: str) -> float:
    """``value`` in millimetres."""
    return value * 10 if unit.lower().startswith("c") else value


@dataclass(frozen=True)
class Size:
    """A measured size in a sentence: its dimensions (mm) and where it was written."""

    dims: tuple[float, ...]
    start: int
    end: int

    @property
    def long_mm(self) -> float:
        """The longest dimension."""
        return max(self.dims)

    @property
    def mean_mm(self) -> float:
        """Mean of the long and short axis (the first two dimensions, the axial plane)."""
        axial = self.dims[:2]
        return sum(axial) / len(axial)


def sizes(text: str) -> list[Size]:
    """Every size written in ``text`` (``8 x 6 mm``, ``1.2 cm``, ``5 x 4 x 3 mm``), in order."""
    found: list[Size] = []
    taken: list[tuple[int, int]] = []
    for m in _DIMS.finditer(text):
        unit = m.group(6)
        dims = tuple(to_mm(float(g), unit) for g in (m.group(1), m.group(3), m.group(5)) if g)
        found.append(Size(dims=dims, start=m.start(), end=m.end()))
        taken.append((m.start(), m.end()))
    for m in _SINGLE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        found.append(
            Size(dims=(to_mm(float(m.group(1)), m.group(2)),), start=m.start(), end=m.end())
        )
    return sorted(found, key=lambda s: s.start)


def round_mm(value: float) -> int:
    """Round to the nearest whole millimetre, halves up (5.5 -> 6; Python rounds to even)."""
    return math.floor(value + 0.5)


def round_tenth(value: float) -> float:
    """Round to one decimal place, halves up (Lung-RADS measures to a tenth of a mm)."""
    return math.floor(value * 10 + 0.5) / 10


def clause_around(text: str, position: int) -> str:
    """The clause of ``text`` holding ``position`` (split at ``;``, ``:`` and "but")."""
    start = 0
    end = len(text)
    for m in _CLAUSE_BREAK.finditer(text):
        if m.end() <= position:
            start = m.end()
        elif m.start() >= position:
            end = m.start()
            break
    return text[start:end]


def negated_at(text: str, position: int) -> bool:
    """True when a negation cue precedes ``position`` in its clause ("no suspicious nodules").

    A cue separated from the position by a size ("no change in the 6 mm nodule") does not
    negate it: what is denied there is the change, not the nodule.
    """
    clause_start = 0
    for m in _CLAUSE_BREAK.finditer(text):
        if m.end() <= position:
            clause_start = m.end()
    before = text[clause_start:position]
    cues = list(_NEGATION.finditer(before))
    if not cues:
        return False
    last = cues[-1]
    between = before[last.end() :]
    if sizes(between):
        return False
    return not re.search(r"\b(change|interval|growth|enlargement)\b", between, re.I)


def has(pattern: str, text: str) -> re.Match[str] | None:
    """Case-insensitive search."""
    return re.search(pattern, text, re.IGNORECASE)


def affirmed(pattern: str, text: str) -> bool:
    """True when ``pattern`` occurs in ``text`` at least once without a negation before it."""
    return any(not negated_at(text, m.start()) for m in re.finditer(pattern, text, re.I))


# --- intervals and actions of a written recommendation ---------------------------------------

_INTERVAL = re.compile(
    rf"\b{_NUM}\s*(?:(?:to|-|–|—|or)\s*{_NUM}\s*)?-?\s*(months?|mos?|years?|yrs?|weeks?|wks?)\b",
    re.IGNORECASE,
)
_ANNUAL = re.compile(r"\b(annual(?:ly)?|yearly|a year|one year)\b", re.IGNORECASE)


def _months(value: float, unit: str) -> int:
    unit = unit.lower()
    if unit.startswith("y"):
        return round(value * 12)
    if unit.startswith("w"):
        return max(0, round(value / 4.345))
    return round(value)


def interval_spans(text: str) -> list[tuple[int, int, int]]:
    """Every follow-up interval written in ``text`` as (min months, max months, offset),
    in order of writing: "6 to 12 months" -> (6, 12); "1 year", "annual" -> (12, 12)."""
    found: list[tuple[int, int, int]] = []
    for m in _INTERVAL.finditer(text):
        low = _months(number(m.group(1)), m.group(3))
        high = _months(number(m.group(2)), m.group(3)) if m.group(2) else low
        found.append((min(low, high), max(low, high), m.start()))
    for m in _ANNUAL.finditer(text):
        if not any(start <= m.start() < start + 30 for _, _, start in found):
            found.append((12, 12, m.start()))
    return sorted(found, key=lambda f: f[2])


def intervals(text: str) -> list[tuple[int, int]]:
    """Every follow-up interval written in ``text``, in months, in order of writing."""
    return [(low, high) for low, high, _ in interval_spans(text)]


_ACTIONS: tuple[tuple[str, str], ...] = (
    (
        "adrenal_protocol_imaging",
        r"adrenal[- ]protocol|washout|chemical[- ]shift|dedicated adrenal|adrenal (?:ct|mri?)\b",
    ),
    (
        "screening_mammography",
        r"screening mammogra\w*|routine (?:annual )?(?:screening|mammogra\w*)"
        r"|annual (?:screening )?mammogra\w*|return to (?:routine|annual) screening",
    ),
    (
        "diagnostic_imaging",
        r"diagnostic mammogra\w*|(?:follow[- ]?up|short[- ]interval) mammogra\w*"
        r"|additional (?:imaging|views|evaluation)|spot compression|recall|call[- ]?back"
        r"|diagnostic (?:imaging|workup|evaluation)",
    ),
    ("fna", r"\bfna\b|fine[- ]needle|needle aspiration"),
    ("tissue_sampling", r"biops\w+|tissue (?:sampling|diagnosis)|sampling"),
    ("pet_ct", r"\bpet(?:/ct|-ct| ct)?\b"),
    ("surgical_consult", r"surg\w+|resection|excision|urolog\w+"),
    ("ct_or_mri", r"\bct or mri?\b|\bct/mri?\b|\bmri? or ct\b|\bct or mr imaging\b"),
    ("ldct", r"\bldct\b|low[- ]dose (?:chest )?ct|screening (?:chest )?ct|lung cancer screening"),
    ("mri", r"\bmri?\b|magnetic resonance"),
    ("ct", r"\bct\b|computed tomography|\bcat scan"),
    ("us", r"ultrasound|\bus\b|sonogra\w+"),
)
_NO_FOLLOW_UP = re.compile(
    r"\bno (?:further|additional|routine|dedicated)?\s*(?:imaging\s*)?(?:follow[- ]?up|imaging"
    r"|work[- ]?up|evaluation|fna|biopsy)\b"
    r"|\bfollow[- ]?up (?:is )?not (?:needed|required|recommended|necessary|indicated)"
    r"|\bdoes not (?:need|require|warrant)",
    re.IGNORECASE,
)
_RECOMMENDATION = re.compile(
    r"\b(recommend\w*|advis\w*|suggest\w*|follow[- ]?up|should (?:be|undergo|have)|consider\w*"
    r"|(?:is|are) (?:indicated|warranted|appropriate)|return to|recall|no (?:further|additional"
    r"|routine)"
    r"|repeat (?:ct|imaging|ultrasound|mri?)|biopsy|fna|fine[- ]needle|resection"
    r"|routine screening|annual screening|continue (?:annual )?screening"
    r"|per (?:the )?(?:acr|fleischner|bosniak|bi-?rads|lung-?rads|ti-?rads)\w*)\b",
    re.IGNORECASE,
)


def is_recommendation(text: str) -> bool:
    """True when a dictated sentence recommends (or declines) a next step with a time,
    a modality or an explicit "no follow-up"."""
    if _NO_FOLLOW_UP.search(text):
        return True
    if not _RECOMMENDATION.search(text):
        return False
    return bool(intervals(text) or actions(text))


def actions(text: str) -> list[str]:
    """The actions a recommendation names, most specific first ("CT or MRI" -> ct_or_mri)."""
    lowered = text.lower()
    if _NO_FOLLOW_UP.search(lowered) and not intervals(lowered):
        return ["none"]
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    for action, pattern in _ACTIONS:
        for m in re.finditer(pattern, lowered):
            if any(a <= m.start() < b for a, b in spans):
                continue
            spans.append((m.start(), m.end()))
            if action not in found:
                found.append(action)
    return found
