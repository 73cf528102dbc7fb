"""Clinical fact extraction from report text: findings, negation, laterality, measurements.

Shared by the verifier (which compares a draft statement's facts with its sources' facts)
and the eval suite (which scores finding-level precision/recall/F1 between a draft and a
reference report). Deterministic, regex and lexicon only, no model: the same text always
gives the same facts, in well under a millisecond per sentence.

Usage::

    facts = extract_facts("Small left pleural effusion. No pneumothorax.")
    [(f.term, f.negated, f.laterality) for f in facts.findings]
    # [('effusion', False, Laterality.LEFT), ('pneumothorax', True, None)]

What is extracted (vocabularies in ``reportdraft/data/vocab/``):

- ``findings``: one :class:`FindingFact` per finding mention, with its canonical concept
  (``term``), whether it is negated / uncertain / hypothetical, its side, the anatomy named
  in its clause and the measurements nearest to it;
- ``anatomy``, ``qualifiers``, ``lateralities``: canonical ids found anywhere in the text
  (a qualifier inside a negation's scope is ``no_<id>``: "not enlarged" is ``no_enlarged``);
- ``measurements`` (normalised, see :mod:`reportdraft.verification.quantities`), bare
  ``numbers``, ``codes`` (vertebral levels, BI-RADS-style categories) and ``dates``;
- ``negations``: how many negation cues the text uses (whatever they negate);
- ``sited_anatomy``: ``(anatomy, side)`` pairs ("left chest wall", "right hilum"), and
  ``sited_measurements``: ``(dimension, base value, side)`` ("right kidney 10.8 cm");
  ``side_order``: comparisons such as ``right>left`` ("right greater than left");
- ``negated_words`` / ``asserted_words``: content words inside / outside a negation's scope,
  for a polarity check that does not depend on the vocabularies;
- ``facets`` / ``anatomy_facets``: anatomical and temporal qualifiers as ``(axis, value)``
  facts (medial/lateral ..., spinal level, nerve root, direction, clock position, time of
  day, interval, breast density, category), for the whole text and per structure; each
  finding carries its own (see :mod:`reportdraft.verification.facets`).

Assertion follows radiology language (see :mod:`reportdraft.verification.assertion_context`): comma
splices end a negation, a negated sign supports the diagnosis it is linked to, a question is
answered by the next sentence ("Pneumothorax? No."). Each finding also has a temporality
(new, worsening, unchanged, improving, resolved, chronic), separate from its assertion.

Abbreviations ("RLL", "PTX") are expanded first; :attr:`Facts.text` is the analysed text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from reportdraft.models import Laterality
from reportdraft.models.critical import Temporality
from reportdraft.verification.assertion_context import (
    Scope,
    Span,
    assertion_spans,
    clause_bounds,
    covering,
    in_scope,
    sentences,
)
from reportdraft.verification.facets import Facet, FacetHit, anchored, direction_spans, facet_hits
from reportdraft.verification.quantities import Quantity, scan_numbers
from reportdraft.verification.vocabularies import VerifierLexicon, lexicon

__all__ = [
    "Facts",
    "FindingFact",
    "Quantity",
    "Temporality",
    "exempt_from_impression",
    "extract_facts",
    "is_generic",
    "is_incidental",
    "is_significant",
]


@dataclass(frozen=True, slots=True)
class FindingFact:
    """One mention of a finding in text.

    ``term`` is the canonical concept id (``"effusion"`` for "pleural effusions");
    ``text`` the surface words. ``negated`` / ``uncertain`` / ``hypothetical`` come from the
    context cues around it; ``laterality`` from the side words of its clause (or of its
    sentence, when the sentence names exactly one side); ``anatomy`` the canonical anatomy
    of its clause (of its sentence when the clause names none); ``measurements`` the
    quantities of its sentence nearest to it; ``qualifiers`` the qualifier groups of its
    clause; ``other`` marks "no other X" / "no additional X", which denies further
    instances, neither asserting nor negating the finding itself.
    """

    term: str
    text: str
    negated: bool
    uncertain: bool
    hypothetical: bool
    laterality: Laterality | None
    anatomy: tuple[str, ...]
    measurements: tuple[Quantity, ...]
    qualifiers: tuple[str, ...]
    other: bool = field(compare=False)
    start: int = field(compare=False)
    end: int = field(compare=False)
    sentence: int = field(compare=False, default=0)
    temporality: Temporality | None = field(compare=False, default=None)
    facets: frozenset[Facet] = field(compare=False, default=frozenset())

    @property
    def asserted(self) -> bool:
        """True when the text says the finding is (or may be) present."""
        return not (self.negated or self.hypothetical or self.other)

    @property
    def key(self) -> tuple[str, bool, Laterality | None]:
        """``(term, negated, laterality)``: the unit the eval suite matches findings on."""
        return (self.term, self.negated, self.laterality)


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything :func:`extract_facts` found in one text."""

    text: str
    findings: tuple[FindingFact, ...]
    anatomy: frozenset[str]
    qualifiers: frozenset[str]
    lateralities: frozenset[Laterality]
    measurements: tuple[Quantity, ...]
    numbers: tuple[float, ...]
    codes: frozenset[str]
    dates: frozenset[str]
    negations: int = 0
    sited_anatomy: frozenset[tuple[str, Laterality]] = frozenset()
    side_order: frozenset[str] = frozenset()
    negated_words: frozenset[str] = frozenset()
    asserted_words: frozenset[str] = frozenset()
    sited_measurements: frozenset[tuple[str, float, Laterality]] = frozenset()
    facets: frozenset[Facet] = frozenset()
    anatomy_facets: tuple[tuple[str, frozenset[Facet]], ...] = ()

    def terms(self, *, negated: bool | None = None, generic: bool = True) -> set[str]:
        """Concept ids mentioned, optionally only negated (True) or asserted (False) ones."""
        return {
            f.term
            for f in self.findings
            if (negated is None or f.negated == negated) and (generic or not is_generic(f.term))
        }

    def mentions(self, term: str) -> list[FindingFact]:
        """Every mention of concept ``term``."""
        return [f for f in self.findings if f.term == term]

    @property
    def empty(self) -> bool:
        """True when nothing clinical was found (no finding, anatomy, number or side)."""
        return not (
            self.findings
            or self.anatomy
            or self.measurements
            or self.numbers
            or self.codes
            or self.lateralities
        )


def is_significant(term: str) -> bool:
    """True for concepts a positive Findings mention of which belongs in the Impression."""
    return term in lexicon().significant


def is_generic(term: str) -> bool:
    """True for umbrella concepts ("lesion", "abnormality")."""
    return term in lexicon().generic


def is_incidental(term: str) -> bool:
    """True for concepts that alone do not earn an Impression line (granuloma, scarring)."""
    return term in lexicon().incidental


def exempt_from_impression(text: str) -> bool:
    """True when a Findings text marks its finding as old, stable, benign or treated, and
    not also as new ("New compression deformity of T9, not present on the prior study")."""
    lex = lexicon()
    if lex.impression_exempt.pattern.search(text) is None:
        return False
    return lex.impression_exempt_unless.pattern.search(text) is None


def _expand(text: str, lex: VerifierLexicon) -> str:
    return lex.abbreviations.sub(lambda m: lex.expansions[m.group(0)], text)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < e and s < end for s, e in spans)


def _nearest(
    candidates: list[tuple[int, int, Laterality]], start: int, end: int, lo: int, hi: int
) -> Laterality | None:
    inside = [c for c in candidates if lo <= c[0] < hi]
    before = [c for c in inside if c[1] <= start]
    if before:
        return max(before, key=lambda c: c[1])[2]
    after = [c for c in inside if c[0] >= end]
    if after:
        return min(after, key=lambda c: c[0])[2]
    return None


_SIDE_ORDER = re.compile(
    r"\b(left|right)(?:[- ]sided)?\s+(greater|larger|more|worse|bigger|higher|less|smaller|lower)"
    r"\s+than\s+(?:the\s+)?(left|right)\b",
    re.IGNORECASE,
)
_LESS = frozenset({"less", "smaller", "lower"})
_WORD = re.compile(r"[A-Za-z][a-z]{3,}")


@dataclass(frozen=True)
class _Hits:
    """Vocabulary matches of one analysed text, shared by its sentences."""

    work: str
    anatomy: list[tuple[int, int, str, str]]
    findings: list[tuple[int, int, str, str]]
    qualifiers: list[tuple[int, str]]
    sides: list[tuple[int, int, Laterality]]
    facets: list[FacetHit] = field(default_factory=list)


def _hits(work: str, lex: VerifierLexicon, facets: list[FacetHit]) -> _Hits:
    anatomy = list(lex.anatomy.finditer(work))
    findings = list(lex.findings.finditer(work))
    taken = [(s, e) for s, e, *_rest in anatomy] + [(s, e) for s, e, *_rest in findings]
    return _Hits(
        work=work,
        anatomy=anatomy,
        findings=findings,
        qualifiers=[
            (s, ident)
            for s, e, _surface, ident in lex.qualifiers.finditer(work)
            if not _overlaps(taken, s, e)
        ],
        sides=[
            (s, e, Laterality(ident))
            for s, e, _surface, ident in lex.sides.finditer(work)
            if not _overlaps([t for t in taken if t != (s, e)], s, e)  # "bibasilar" is both
            and not _overlaps(direction_spans(facets), s, e)  # "shift to the left"
        ],
        facets=facets,
    )


@dataclass
class _Collected:
    findings: list[FindingFact]
    qualifiers: set[str]
    sited: set[tuple[str, Laterality]]
    negations: int = 0
    negated_words: set[str] = field(default_factory=set)
    sited_measurements: set[tuple[str, float, Laterality]] = field(default_factory=set)
    asserted_words: set[str] = field(default_factory=set)
    anatomy_facets: list[tuple[str, frozenset[Facet]]] = field(default_factory=list)


def _postposed(
    clauses: list[tuple[int, int]],
    clause: tuple[int, int],
    free: list[tuple[int, int]],
    qualifiers: list[tuple[int, str]],
    hits: _Hits,
    lex: VerifierLexicon,
) -> list[tuple[int, str]]:
    """Temporal qualifiers said after a finding's clause, in the next clause of its
    sentence when that clause names no finding and no structure: "Biapical pleural
    thickening, unchanged from prior." and "Granuloma in the left midlung, stable." are
    unchanged findings. Not when the finding's own clause already says how it changed."""
    if any(clause[0] <= s < clause[1] and q in lex.temporality for s, q in qualifiers):
        return []
    later = [c for c in clauses if c[0] >= clause[1]]
    if not later or later[0] not in free:
        return []
    lo, hi = later[0]
    if any(lo <= s < hi for s, _e, _x, _i in hits.anatomy):
        return []
    return [(s, q) for s, q in qualifiers if lo <= s < hi and q in lex.temporality]


def _temporality(
    mention_start: int, clause: list[tuple[int, str]], negations: list[Span], lex: VerifierLexicon
) -> Temporality | None:
    """The mention's course in time: resolved when a resolution cue negates it, else the
    temporal qualifier of its clause nearest to it ("stable", "new", "worsening")."""
    if any(" ".join(s.cue.lower().split()) in lex.cues.resolution for s in negations):
        return Temporality.RESOLVED
    timed = [
        (abs(s - mention_start), lex.temporality[q]) for s, q in clause if q in lex.temporality
    ]
    return min(timed, key=lambda t: t[0])[1] if timed else None


def _composed(
    hits: _Hits,
    clause: tuple[int, int],
    mentions: list[tuple[int, int, str, str]],
    lex: VerifierLexicon,
) -> list[tuple[int, int, int, str]]:
    """Findings said as organ + predicate in one clause ("the heart is mildly enlarged"):
    ``(start, end, predicate start, concept)``. Only in a clause without another finding,
    which the predicate could describe instead ("large hiatal hernia behind the heart")."""
    lo, hi = clause
    if any(lo <= m[0] < hi for m in mentions):
        return []
    found = []
    for composition in lex.compositions:
        organs = [
            (s, e) for s, e, _x, i in hits.anatomy if lo <= s < hi and i in composition.anatomy
        ]
        predicates = [m.span() for m in composition.predicates.pattern.finditer(hits.work, lo, hi)]
        if organs and predicates:
            organ, predicate = organs[0], predicates[0]
            start, end = min(organ[0], predicate[0]), max(organ[1], predicate[1])
            found.append((start, end, predicate[0], composition.concept))
    return found


def _sentence(
    hits: _Hits,
    index: int,
    s_start: int,
    s_end: int,
    quantities: tuple[Quantity, ...],
    out: _Collected,
    question: Scope | None = None,
) -> None:
    """Facts of one sentence: assertion scopes, clause sides, qualifiers, measurements.

    ``question``: how a question sentence was answered (see :func:`_questions`):
    ``UNCERTAIN`` or ``NEGATED`` applies to every finding of the sentence.
    """
    work = hits.work
    lex = lexicon()
    cues = lex.cues
    mentions = [h for h in hits.findings if s_start <= h[0] < s_end]
    assertions = assertion_spans(work, s_start, s_end, cues, [(m[0], m[1]) for m in mentions])
    spans = assertions.spans
    out.negations += sum(span.scope is Scope.NEGATED for span in spans)
    for match in _WORD.finditer(work, s_start, s_end):
        word = match.group(0).lower().removesuffix("s")
        if word in cues.stopwords or _overlaps(assertions.cues, match.start(), match.end()):
            continue
        if in_scope(spans, match.start(), Scope.NEGATED):
            out.negated_words.add(word)
        elif not any(in_scope(spans, match.start(), k) for k in (Scope.OTHER, Scope.HYPOTHETICAL)):
            out.asserted_words.add(word)
    clauses = clause_bounds(work, s_start, s_end)
    sentence_sides = {side for s, _e, side in hits.sides if s_start <= s < s_end}

    def clause_of(start: int) -> tuple[int, int]:
        return next(((a, b) for a, b in clauses if a <= start < b), (s_start, s_end))

    def side_of(start: int, end: int) -> Laterality | None:
        lo, hi = clause_of(start)
        side = _nearest(hits.sides, start, end, lo, hi)
        if side is None and len(sentence_sides) == 1:
            side = next(iter(sentence_sides))
        return side

    qualifiers = []
    for start, ident in hits.qualifiers:
        if s_start <= start < s_end:
            qualifier = f"no_{ident}" if in_scope(spans, start, Scope.NEGATED) else ident
            qualifiers.append((start, qualifier))
            out.qualifiers.add(qualifier)
    for start, end, _surface, ident in hits.anatomy:
        if s_start <= start < s_end and (side := side_of(start, end)) is not None:
            out.sited.add((ident, side))
    own = [q for q in quantities if s_start <= q.start < s_end]
    for q in own:
        if (side := side_of(q.start, q.end)) is not None:
            out.sited_measurements.add((q.dimension, round(q.base_value, 6), side))
    # (start, end, surface, concept, position whose context decides the assertion)
    found = [(s, e, x, t, s) for s, e, x, t in mentions]
    for clause in clauses:
        found += [(s, e, work[s:e], t, p) for s, e, p, t in _composed(hits, clause, mentions, lex)]
    found.sort()
    busy = {clause_of(f[0]) for f in found}
    free = [c for c in clauses if c not in busy]
    for start, _end, _surface, ident in hits.anatomy:
        if s_start <= start < s_end and (where := anchored(hits.facets, clause_of(start), free)):
            out.anatomy_facets.append((ident, where))
    in_sentence = tuple(dict.fromkeys(i for s, _e, _x, i in hits.anatomy if s_start <= s < s_end))
    for start, end, surface, term, at in found:
        lo, hi = clause_of(start)
        here = tuple(dict.fromkeys(i for s, _e, _x, i in hits.anatomy if lo <= s < hi))
        near = [
            q
            for q in own
            if min(found, key=lambda h: min(abs(h[0] - q.end), abs(q.start - h[1])))[0] == start
        ]
        negations = covering(spans, at, Scope.NEGATED)
        clause_qualifiers = [(s, q) for s, q in qualifiers if lo <= s < hi]
        clause_qualifiers += _postposed(clauses, (lo, hi), free, qualifiers, hits, lex)
        out.findings.append(
            FindingFact(
                term=term,
                text=surface,
                negated=bool(negations) or question is Scope.NEGATED,
                uncertain=in_scope(spans, at, Scope.UNCERTAIN) or question is Scope.UNCERTAIN,
                hypothetical=in_scope(spans, at, Scope.HYPOTHETICAL),
                laterality=side_of(start, end),
                anatomy=here or in_sentence,
                other=in_scope(spans, at, Scope.OTHER),
                measurements=tuple(near),
                qualifiers=tuple(dict.fromkeys(q for _s, q in clause_qualifiers)),
                start=start,
                end=end,
                sentence=index,
                temporality=_temporality(start, clause_qualifiers, negations, lex),
                facets=anchored(hits.facets, (lo, hi), free),
            )
        )


def _questions(
    work: str, ranges: list[tuple[int, int]], lex: VerifierLexicon
) -> list[Scope | None]:
    """Per sentence: ``UNCERTAIN`` for an unanswered question ("Pneumothorax?"),
    ``NEGATED`` for one the next sentence answers no ("Pneumothorax? No."), else ``None``."""
    states: list[Scope | None] = []
    for i, (start, end) in enumerate(ranges):
        if not work[start:end].rstrip().endswith("?"):
            states.append(None)
            continue
        answer = work[ranges[i + 1][0] : ranges[i + 1][1]] if i + 1 < len(ranges) else ""
        if lex.cues.negative_answer.match(answer):
            states.append(Scope.NEGATED)
        elif lex.cues.positive_answer.match(answer):
            states.append(None)
        else:
            states.append(Scope.UNCERTAIN)
    return states


@lru_cache(maxsize=8192)
def extract_facts(text: str) -> Facts:
    """Extract the clinical facts of ``text`` (a sentence, a statement or a whole report)."""
    lex = lexicon()
    work = _expand(text, lex)
    numbers = scan_numbers(work)
    facets = facet_hits(work, numbers, lex)
    hits = _hits(work, lex, facets)
    out = _Collected(findings=[], qualifiers=set(), sited=set())
    ranges = sentences(work)
    for index, ((s_start, s_end), question) in enumerate(
        zip(ranges, _questions(work, ranges, lex), strict=True)
    ):
        _sentence(hits, index, s_start, s_end, numbers.quantities, out, question)
    order = {
        f"{a.lower()}{'<' if rel.lower() in _LESS else '>'}{b.lower()}"
        for a, rel, b in _SIDE_ORDER.findall(work)
    }
    return Facts(
        text=work,
        findings=tuple(out.findings),
        anatomy=frozenset(ident for *_rest, ident in hits.anatomy),
        qualifiers=frozenset(out.qualifiers),
        lateralities=frozenset(side for *_rest, side in hits.sides),
        measurements=numbers.quantities,
        numbers=numbers.numbers,
        codes=numbers.codes,
        dates=numbers.dates,
        negations=out.negations,
        sited_anatomy=frozenset(out.sited),
        negated_words=frozenset(out.negated_words),
        sited_measurements=frozenset(out.sited_measurements),
        asserted_words=frozenset(out.asserted_words),
        side_order=frozenset(order),
        facets=frozenset((h.axis, h.value) for h in facets),
        anatomy_facets=tuple(out.anatomy_facets),
    )
