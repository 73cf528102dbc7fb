"""Routing: which findings subsection of a template a dictated sentence belongs to.

Each subsection of a template lists lower-case routing terms (``lungs``: "lung", "lobe",
"nodule" ...); a sentence goes to the subsection whose terms it mentions most. The drafter
places dictated sentences and confirmed AI findings with :func:`route_sentence`, and the
verifier's default planning asks it where a finding was routed; both must agree, so this is
the only implementation. How terms compare (:func:`norm_term`) is also what the template
check uses to require that a term routes to exactly one subsection.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from reportdraft.models import Template


def catch_all_key(template: Template) -> str:
    """The catch-all subsection: the template's last one (``other`` in bundled templates)."""
    return template.findings[-1].key


def route_sentence(template: Template, text: str) -> str:
    """The findings subsection key a dictated sentence belongs to.

    Terms match case-insensitively on word boundaries, with an optional plural ending
    (``lobe`` matches ``lobes``; ``artery`` matches ``arteries``) and any run of whitespace
    between the words of a phrase. Matching is leftmost-longest: where two terms start at
    the same place the longer one is taken, and a match inside an earlier match is not
    counted again ("pleural effusion" is one mention, not also "effusion").

    The subsection whose matches cover the most words wins (so "right lower lobe" beats
    "embolus", and "small left pleural effusion" goes to pleura, not to lungs); ties go to
    more matched characters, then to the subsection listed first. The catch-all (last)
    subsection wins only when no other subsection matched, and is the answer for a
    sentence that matches nothing.
    """
    router = _router(template)
    scores: dict[int, tuple[int, int]] = {}
    for match in router.pattern.finditer(text):
        owner = router.owner_of(match.group(1))
        if owner is None or owner == router.catch_all_index:
            continue
        words, chars = scores.get(owner, (0, 0))
        term = norm_term(match.group(1))
        scores[owner] = (words + len(_WORD.findall(term)), chars + len(term))
    if not scores:
        return template.findings[router.catch_all_index].key
    best = max(scores, key=lambda index: (*scores[index], -index))
    return template.findings[best].key


def norm_term(term: str) -> str:
    """A routing term as terms are compared: lower-case, single spaces between words."""
    return " ".join(term.lower().split())


_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class _Router:
    """One compiled pattern for all terms of a template, and the term → subsection map."""

    pattern: re.Pattern[str]
    owners: dict[str, int]
    catch_all_index: int

    def owner_of(self, matched: str) -> int | None:
        norm = norm_term(matched)
        for candidate in (norm, *_singulars(norm)):
            if candidate in self.owners:
                return self.owners[candidate]
        return None


def _singulars(word: str) -> list[str]:
    out = []
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("s"):
        out.append(word[:-1])
    return out


def _term_regex(term: str) -> str:
    words = [re.escape(w) for w in term.split()]
    body = r"\s+".join(words)
    if term.endswith("y") and len(term) > 2:
        return body[:-1] + "(?:y|ies)"
    return body + "(?:e?s)?"


def _build_router(template: Template) -> _Router:
    owners: dict[str, int] = {}
    for index, sub in enumerate(template.findings):
        for term in sub.terms:
            owners.setdefault(norm_term(term), index)
    # Longest first: the alternation then takes the longest term starting at each position,
    # and finditer resumes after it (leftmost-longest, non-overlapping).
    ordered = sorted(owners, key=lambda t: (-len(t), t))
    alternation = "|".join(_term_regex(t) for t in ordered)
    pattern = re.compile(rf"(?<![a-z0-9])({alternation})(?![a-z0-9])", re.IGNORECASE)
    return _Router(pattern, owners, len(template.findings) - 1)


_ROUTERS: dict[int, tuple[weakref.ref[Template], _Router]] = {}


def _router(template: Template) -> _Router:
    """The compiled router of ``template``, built once per template object.

    Templates are frozen but not hashable (they hold lists), so the cache is keyed by
    object identity and guarded by a weak reference that drops the entry with the template.
    """
    key = id(template)
    cached = _ROUTERS.get(key)
    if cached is not None and cached[0]() is template:
        return cached[1]
    router = _build_router(template)

    def _forget(_ref: weakref.ref[Template], k: int = key) -> None:
        _ROUTERS.pop(k, None)

    _ROUTERS[key] = (weakref.ref(template, _forget), router)
    return router
