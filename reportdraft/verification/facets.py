"""Anatomical qualifiers as facts: axis, level, root, direction, density, category, time.

A finding is not only "a tear" but "a tear of the posterior horn of the medial meniscus";
not only "disc protrusion" but "at L5-S1, contacting the S1 nerve root". A draft that swaps
medial for lateral, L4-L5 for L5-S1, leftward for rightward, 3:15 PM for 3:15 AM or
density C for density B says something else while every finding word, side and bare number
still matches its sources (issue 12, point 7). This module finds those qualifiers as
*facets*: ``(axis, value)`` pairs such as ``("mediolateral", "medial")``,
``("level", "L5-S1")``, ``("time", "15:15")``.

Two scopes:

- *anchored* axes (position along an organ, direction, spinal level, nerve root, clock-face
  position) belong to a finding or a structure: the facets of its clause, and for an axis
  its clause does not name, of the clauses of its sentence that name no other finding
  ("Medial meniscus: tear of the posterior horn");
- every facet also counts for the whole text, which is how document-level facts (time of
  day, recommendation interval, breast density, BI-RADS-style category) are compared.

Vocabularies are data (``qualifiers.yaml``: ``axes``, ``compounds``, ``density``); numbers,
levels, times, clock positions and intervals come from
:mod:`reportdraft.verification.quantities`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from reportdraft.verification.quantities import NumberScan, time_readings
from reportdraft.verification.vocabularies import VerifierLexicon

Facet = tuple[str, str]
"""``(axis, value)``."""

ANCHORED = frozenset(
    {
        "mediolateral",
        "anteroposterior",
        "craniocaudal",
        "proximodistal",
        "direction",
        "level",
        "root",
        "clock",
    }
)
"""Axes that belong to a finding or a structure rather than to the whole report."""

_ROOT = re.compile(
    r"\b([CTLS])(\d{1,2})\s+(?:nerve\s+)?root(?:let)?s?\b"
    r"|\b(?:traversing|exiting|descending|existing)\s+(?:(?:right|left|bilateral)\s+)?"
    r"([CTLS])(\d{1,2})\b"
    r"|\b([CTLS])(\d{1,2})\s+(?:radiculopathy|radicular)",
    re.IGNORECASE,
)
_DENSITY_LETTER = re.compile(
    r"\b(?:density|composition)\s*(?:category|grade|type)?\s*:?\s*\(?([a-d])\)?(?![\w-])"
    r"|\bcategory\s+\(?([a-d])\)?(?![\w-])",
    re.IGNORECASE,
)
_CATEGORY_CODE = re.compile(r"^([A-Z-]+) (\w+)$")


@dataclass(frozen=True, slots=True)
class FacetHit:
    """One qualifier in the analysed text."""

    start: int
    end: int
    axis: str
    value: str


def facet_hits(work: str, numbers: NumberScan, lex: VerifierLexicon) -> list[FacetHit]:
    """Every anatomical / temporal qualifier of ``work``, left to right."""
    hits = [
        FacetHit(s, e, lex.axis_of[value], value)
        for s, e, _surface, ident in lex.positions.finditer(work)
        for value in ident.split("+")
    ]
    roots = []
    for match in _ROOT.finditer(work):
        letter, number = next(
            (match.group(i), match.group(i + 1)) for i in (1, 3, 5) if match.group(i)
        )
        roots.append(FacetHit(match.start(), match.end(), "root", f"{letter.upper()}{int(number)}"))
    hits += roots
    hits += [  # the "S1" of "S1 nerve root" is a root, not a level
        FacetHit(s, e, "level", v)
        for s, e, v in numbers.levels
        if not any(r.start <= s and e <= r.end for r in roots)
    ]
    hits += [FacetHit(s, e, "clock", v) for s, e, v in numbers.clocks]
    hits += [FacetHit(s, e, "time", v) for s, e, v in numbers.times]
    hits += [FacetHit(s, e, "interval", v) for s, e, v in numbers.intervals]
    hits += [FacetHit(s, e, "density", ident) for s, e, _x, ident in lex.density.finditer(work)]
    for match in _DENSITY_LETTER.finditer(work):
        letter = (match.group(1) or match.group(2)).lower()
        hits.append(FacetHit(match.start(), match.end(), "density", letter))
    for code in sorted(numbers.codes):
        if category := _CATEGORY_CODE.match(code):
            hits.append(FacetHit(-1, -1, f"category {category.group(1)}", category.group(2)))
    return sorted(hits, key=lambda h: (h.start, h.axis, h.value))


def direction_spans(hits: Iterable[FacetHit]) -> list[tuple[int, int]]:
    """Where a direction is said: its side words ("to the left") are not a finding's side."""
    return [(h.start, h.end) for h in hits if h.axis == "direction"]


def anchored(
    hits: list[FacetHit], clause: tuple[int, int], free: list[tuple[int, int]]
) -> frozenset[Facet]:
    """The anchored facets of a clause, with, for axes the clause lacks, those of the
    sentence's ``free`` clauses (clauses naming no finding: "Medial meniscus: tear of the
    posterior horn"; "At L5-S1, there is a disc protrusion"). A clause about another finding
    lends nothing ("Right upper lobe nodule; consolidation at the bases" is not upper)."""
    lo, hi = clause
    own = {(h.axis, h.value) for h in hits if h.axis in ANCHORED and lo <= h.start < hi}
    named = {axis for axis, _v in own}
    wider = {
        (h.axis, h.value)
        for h in hits
        if h.axis in ANCHORED and h.axis not in named and any(a <= h.start < b for a, b in free)
    }
    return frozenset(own | wider)


def values(facets: Iterable[Facet], axis: str) -> set[str]:
    """The values ``facets`` give on ``axis``."""
    return {v for a, v in facets if a == axis}


def supported(axis: str, value: str, available: set[str]) -> bool:
    """A value is supported by the same value; a time by any reading they share
    ("3:15" without AM/PM is either)."""
    if axis != "time":
        return value in available
    readings = time_readings(value)
    return any(readings & time_readings(other) for other in available)


def shown(axis: str, items: Iterable[str]) -> str:
    """Values for a message: times without their ``~`` marker, sorted."""
    cleaned = sorted({v.removeprefix("~") for v in items})
    if axis == "density":
        cleaned = [f"density {v.upper()}" for v in cleaned]
    return ", ".join(cleaned)


def axis_name(axis: str) -> str:
    """The axis as a message says it."""
    return {
        "mediolateral": "medial/lateral",
        "anteroposterior": "anterior/posterior",
        "craniocaudal": "superior/inferior",
        "proximodistal": "proximal/distal",
        "level": "spinal level",
        "root": "nerve root",
        "clock": "clock position",
        "time": "time",
        "interval": "interval",
        "density": "breast density",
    }.get(axis, axis)
