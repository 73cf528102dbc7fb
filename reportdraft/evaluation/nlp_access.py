"""The evaluation's only door to the project's clinical NLP: extraction, critical, redline.

Metrics call these functions, never the stage modules directly, for three reasons:

* one place maps each stage's public API onto the small values metrics compare (finding
  tuples, alerting finding codes, edit shares);
* the results are memoised on the text: a reference impression is scored once per system,
  once for the baseline and once per injected variant, and extraction dominates the cost;
* a stage that is not installed makes its metric group *unavailable* with a reason the
  report shows, instead of failing the whole run.
"""

from __future__ import annotations

import difflib
import importlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from types import ModuleType
from typing import Any

from reportdraft.models import Draft, DraftProvenance, DraftSection, SectionKind, Statement

CACHE_SIZE = 65_536


@dataclass(frozen=True, order=True)
class FindingTuple:
    """One extracted clinical fact as the finding metrics compare it.

    ``finding`` is the normalised finding term, ``assertion`` ``present``/``negated``/...,
    ``laterality`` None when unsided, ``size_mm`` the largest measurement in millimetres
    rounded to 1 mm (None when unmeasured) so "2.1 cm" and "21 mm" match.
    """

    finding: str
    assertion: str
    laterality: str | None = None
    size_mm: float | None = None


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def extraction_unavailable() -> str | None:
    """None when the fact extraction (``reportdraft.verification``) is importable, else the
    reason."""
    module = "reportdraft.verification"
    return None if _module(module) else f"{module} is not installed"


def critical_unavailable() -> str | None:
    """None when ``reportdraft.critical`` offers ``detect_text``, else the reason."""
    module = _module("reportdraft.critical")
    if module is None or not hasattr(module, "detect_text"):
        return "reportdraft.critical.detect_text is not available"
    return None


def redline_unavailable() -> str | None:
    """None when ``reportdraft.redline`` is importable, else the reason."""
    return None if _module("reportdraft.redline") else "reportdraft.redline is not installed"


def _assertion(fact: Any) -> str:
    if fact.hypothetical:
        return "hypothetical"
    if fact.negated:
        return "negated"
    return "uncertain" if fact.uncertain else "present"


@lru_cache(maxsize=CACHE_SIZE)
def finding_tuples(text: str) -> frozenset[FindingTuple]:
    """The (finding, assertion, laterality, size) tuples that
    ``reportdraft.verification.extract_facts`` finds.

    ``size_mm`` is the largest length measured next to the finding, in whole millimetres.
    """
    from reportdraft.verification import extract_facts

    out: set[FindingTuple] = set()
    for fact in extract_facts(text).findings:
        lengths = [q.base_value for q in fact.measurements if q.dimension == "length"]
        out.add(
            FindingTuple(
                finding=fact.term,
                assertion=_assertion(fact),
                laterality=None if fact.laterality is None else fact.laterality.value,
                size_mm=float(round(max(lengths))) if lengths else None,
            )
        )
    return frozenset(out)


@lru_cache(maxsize=CACHE_SIZE)
def critical_codes(text: str) -> frozenset[str]:
    """Finding codes of the *alerting* critical mentions in ``text`` (present or uncertain)."""
    from reportdraft import critical

    mentions = critical.detect_text(text)
    return frozenset(m.finding_code for m in mentions if m.alert)


@dataclass(frozen=True, kw_only=True)
class EditShares:
    """How much of a draft the radiologist kept: share of words, share of statements."""

    words_kept: float
    statements_unchanged: float


SectionText = tuple[tuple[SectionKind, str], ...]
"""Sentences in reading order, each with its section."""

_ALIGN_MIN = 0.5


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _align(draft: SectionText, final: SectionText) -> list[str]:
    """Give each final sentence the id of the draft statement it was edited from, if any.

    A signed report has no statement ids, so the redline (which aligns by id) needs them
    guessed: each final sentence takes the unused draft statement of the same section with
    the most similar words (difflib ratio at least 0.5), else a fresh id (an addition).
    """
    used: set[int] = set()
    ids: list[str] = []
    for number, (kind, text) in enumerate(final):
        words = _words(text)
        best, best_ratio = -1, _ALIGN_MIN
        for index, (dkind, dtext) in enumerate(draft):
            if index in used or dkind != kind:
                continue
            ratio = difflib.SequenceMatcher(None, _words(dtext), words, autojunk=False).ratio()
            if ratio > best_ratio or (ratio == 1.0 and best_ratio < 1.0):
                best, best_ratio = index, ratio
        if best >= 0:
            used.add(best)
            ids.append(f"S{best + 1}")
        else:
            ids.append(f"S{len(draft) + number + 1}")
    return ids


def _sections(items: SectionText, ids: list[str]) -> list[DraftSection]:
    sections: list[DraftSection] = []
    for kind in SectionKind:
        statements = [
            Statement(id=sid, text=text, sources=["C:reference"])
            for sid, (k, text) in zip(ids, items, strict=True)
            if k == kind
        ]
        if statements:
            sections.append(DraftSection(kind=kind, statements=statements))
    return sections


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=CACHE_SIZE)
def edit_shares(draft: SectionText, final: SectionText) -> EditShares:
    """Redline statistics from draft sentences to the signed sentences (aligned by words)."""
    from reportdraft import redline

    draft_ids = [f"S{i}" for i in range(1, len(draft) + 1)]
    draft_value = Draft(
        accession_number="EVAL",
        template_id="eval",
        template_version="0",
        sections=_sections(draft, draft_ids) or [DraftSection(kind=SectionKind.IMPRESSION)],
        provenance=DraftProvenance(backend="eval", created_at=_EPOCH),
    )
    final_sections = _sections(final, _align(draft, final))
    stats = redline.redline(draft_value, final_sections, critical=False).stats
    return EditShares(
        words_kept=stats.draft_words_kept_ratio,
        statements_unchanged=stats.accepted_unchanged_ratio,
    )


def clear_caches() -> None:
    """Forget memoised results (tests that swap a stage implementation call this)."""
    finding_tuples.cache_clear()
    critical_codes.cache_clear()
    edit_shares.cache_clear()
