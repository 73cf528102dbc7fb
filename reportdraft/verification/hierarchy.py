"""The is-a hierarchy of findings and the part-of hierarchy of places (``vocab/hierarchy.yaml``).

Why: the verifier's finding concepts (``findings.yaml``) are deliberately coarse, so that a
paraphrase is never flagged ("hematoma" for "hemorrhage"). Whether a template default is
contradicted needs the opposite: "No extra-axial fluid collection" is denied by a subdural
hematoma and not by an intraparenchymal one, "The anterior cruciate ligament is intact" by an
ACL tear and not by a meniscal tear. This module refines a finding mention into *kinds*
(from its concept, the words of its clause and its places) and relates places by part-of,
from data that is validated on load like the other vocabularies (unknown keys, unknown
concepts, places or kinds, and cycles are rejected).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from reportdraft.errors import ConfigurationError
from reportdraft.verification.vocabularies import VerifierLexicon, Vocabulary, lexicon
from reportdraft.vocab import load_file, vocab_path

Term = Annotated[str, Field(min_length=1, max_length=80)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
Skip = Literal["benign", "not_acute", "uncertain"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindEntry(_Entry):
    """A finding kind: a refinement of a ``findings.yaml`` concept, or that concept itself."""

    id: Slug
    concept: Slug | None = None
    words: list[Term] = Field(default_factory=list)
    within: list[Slug] = Field(default_factory=list)
    unless: list[Term] = Field(default_factory=list)
    requires: list[Term] = Field(default_factory=list)
    is_a: list[Slug] = Field(default_factory=list)
    located: list[Slug] = Field(default_factory=list)
    not_acute: bool = False
    mobile: bool = False
    benign: bool | None = None
    """None: as the concept it refines; false: never benign although the concept is
    incidental (suspicious breast calcifications)."""


class PlaceEntry(_Entry):
    """A place: new (with ``terms``), an ``anatomy.yaml`` id (``part_of`` only), or a
    container named only here (no terms: "head")."""

    id: Slug
    part_of: list[Slug] = Field(default_factory=list)
    terms: list[Term] = Field(default_factory=list)


class AspectEntry(_Entry):
    """What a normal claim naming these words is about (``broad``: anything)."""

    id: Slug
    words: list[Term] = Field(min_length=1)
    kinds: list[Slug] = Field(default_factory=list)
    qualifiers: list[Slug] = Field(default_factory=list)
    broad: bool = False


class QualifierEntry(_Entry):
    """A word that narrows a denial, and the facts that fall outside it."""

    id: Slug
    terms: list[Term] = Field(default_factory=list)
    unless: list[Slug] = Field(default_factory=list)
    skip: list[Skip] = Field(default_factory=list)


class QualifierKind(_Entry):
    """A qualifier asserted of a place that is a finding ("the testis is enlarged")."""

    qualifier: Slug
    kind: Slug
    within: list[Slug] = Field(default_factory=list)


class SignEntry(_Entry):
    """A finding only template defaults name, recognised by the defaults check alone."""

    id: Slug
    terms: list[Term] = Field(min_length=1)
    unless: list[Term] = Field(default_factory=list)


class ExclusiveEntry(_Entry):
    """Phrases of which a report can say only one (each inner list: synonyms)."""

    id: Slug
    values: list[list[Term]] = Field(min_length=2)


class HierarchyFile(_Entry):
    """``hierarchy.yaml``."""

    version: int = Field(ge=1)
    kinds: list[KindEntry] = Field(min_length=1)
    places: list[PlaceEntry] = Field(min_length=1)
    levels: dict[Annotated[str, Field(pattern=r"^[CTLS]$")], Slug]
    regions: list[Slug] = Field(default_factory=list)
    relative: list[Term] = Field(default_factory=list)
    references: list[Term] = Field(default_factory=list)
    normal_words: list[Term] = Field(min_length=1)
    aspects: list[AspectEntry] = Field(default_factory=list)
    qualifiers: list[QualifierEntry] = Field(default_factory=list)
    qualifier_kinds: list[QualifierKind] = Field(default_factory=list)
    distributive: list[Term] = Field(default_factory=list)
    exclusive: list[ExclusiveEntry] = Field(default_factory=list)
    signs: list[SignEntry] = Field(default_factory=list)
    absences: list[SignEntry] = Field(default_factory=list)
    exceptions: list[Term] = Field(default_factory=list)
    lumped: list[Slug] = Field(default_factory=list)


def words_pattern(terms: Iterable[str]) -> re.Pattern[str]:
    """Case-insensitive alternation of ``terms`` on word bounds, longest first, plural -s/-es."""
    pieces = sorted({" ".join(t.lower().split()) for t in terms}, key=len, reverse=True)
    if not pieces:
        return re.compile(r"(?!)")
    alternatives = [r"\s+".join(re.escape(w) for w in p.split(" ")) for p in pieces]
    return re.compile(rf"(?<![\w-])(?:{'|'.join(alternatives)})(?:e?s)?(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class Kind:
    """A compiled kind."""

    id: str
    concept: str | None
    words: re.Pattern[str] | None
    within: frozenset[str]
    unless: re.Pattern[str] | None
    requires: re.Pattern[str] | None
    parents: frozenset[str]
    located: frozenset[str]
    not_acute: bool
    mobile: bool
    benign: bool | None


@dataclass(frozen=True)
class Aspect:
    """A compiled aspect."""

    id: str
    words: re.Pattern[str]
    kinds: frozenset[str]
    qualifiers: frozenset[str]
    broad: bool


@dataclass(frozen=True)
class Qualifier:
    """A compiled narrowing qualifier."""

    id: str
    terms: re.Pattern[str] | None
    unless: frozenset[str]
    skip: frozenset[str]


@dataclass(frozen=True)
class Hierarchy:
    """Everything of ``hierarchy.yaml``, compiled and cross-checked against the lexicon."""

    kinds: dict[str, Kind]
    ancestors: dict[str, frozenset[str]]
    refinements: dict[str, tuple[Kind, ...]]
    places: Vocabulary
    containers: dict[str, frozenset[str]]
    levels: dict[str, str]
    regions: frozenset[str]
    relative: re.Pattern[str]
    references: re.Pattern[str]
    normal: re.Pattern[str]
    aspects: tuple[Aspect, ...]
    qualifiers: tuple[Qualifier, ...]
    qualifier_kinds: tuple[QualifierKind, ...]
    distributive: re.Pattern[str]
    exclusive: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    signs: Vocabulary
    sign_unless: dict[str, re.Pattern[str]]
    absences: Vocabulary
    absence_unless: dict[str, re.Pattern[str]]
    exceptions: re.Pattern[str] | None
    lumped: frozenset[str]
    _places_cache: dict[tuple[str, bool], frozenset[str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def closure(self, kinds: Iterable[str]) -> frozenset[str]:
        """``kinds`` and all their ancestors."""
        out: set[str] = set()
        for kind in kinds:
            out |= self.ancestors.get(kind, frozenset({kind}))
        return frozenset(out)

    def within(self, place: str, container: str) -> bool:
        """True when ``place`` is ``container`` or lies inside it."""
        return container in self.containers.get(place, frozenset({place}))

    def _own(self, kinds: Iterable[str]) -> list[Kind]:
        """``kinds`` and the concepts they refine: what a property of a kind is read from.
        Not its other ancestors: a gallstone is a calcification, but not an incidental one."""
        found = [self.kinds[k] for k in kinds if k in self.kinds]
        return found + [self.kinds[k.concept] for k in found if k.concept in self.kinds]

    def not_acute(self, kinds: Iterable[str]) -> bool:
        """True when one of ``kinds`` is chronic by nature."""
        return any(k.not_acute for k in self._own(kinds))

    def mobile(self, kinds: Iterable[str]) -> bool:
        """True when one of ``kinds`` (its own entry, not an ancestor's) moves freely in
        the places it implies: free fluid seen in the adnexa may fill the cul-de-sac."""
        return any(self.kinds[k].mobile for k in kinds if k in self.kinds)

    def benign(self, kinds: Iterable[str]) -> bool:
        """True when one of ``kinds`` is benign by nature (or incidental in findings.yaml)."""
        found = [self.kinds[k] for k in kinds if k in self.kinds]
        return any(
            k.benign
            if k.benign is not None
            else k.concept in self.kinds and bool(self.kinds[k.concept].benign)
            for k in found
        )

    def classify(self, concept: str, clause: str, places: Iterable[str]) -> frozenset[str]:
        """The most specific kinds of a mention of ``concept`` in ``clause`` at ``places``."""
        where = list(places)
        matched = {concept}
        for kind in self.refinements.get(concept, ()):
            if kind.unless is not None and kind.unless.search(clause):
                continue
            if kind.requires is not None and not kind.requires.search(clause):
                continue
            said = kind.words is not None and kind.words.search(clause) is not None
            placed = any(self.within(p, c) for p in where for c in kind.within)
            if said or placed:
                matched.add(kind.id)
        return frozenset(
            k for k in matched if not any(k != o and k in self.ancestors[o] for o in matched)
        )

    def excluded(self, concept: str, clause: str) -> frozenset[str]:
        """Refinements of ``concept`` that the clause's words rule out ("scalp hematoma" is
        not an intracranial hemorrhage), with their descendants."""
        ruled = {
            k.id
            for k in self.refinements.get(concept, ())
            if k.unless is not None and k.unless.search(clause)
        }
        return frozenset(k for k, up in self.ancestors.items() if up & ruled)

    def specific(self, places: Iterable[str]) -> frozenset[str]:
        """``places`` without those that contain another of them ("chest wall soft tissues"
        is about the chest wall, not the whole chest)."""
        found = set(places)
        return frozenset(p for p in found if not any(o != p and self.within(o, p) for o in found))

    def pinned(self, places: Iterable[str]) -> frozenset[str]:
        """``places`` without the body regions when a smaller place is named too."""
        found = frozenset(places)
        small = found - self.regions
        return small or found

    def places_in(self, text: str, *, landmarks: bool = True) -> frozenset[str]:
        """Place ids named in ``text``: this file's places and ``anatomy.yaml``'s, the
        longest match winning where they overlap. A relative word right after another place
        ("appendiceal base") is part of that place. ``landmarks=False``: leave out places
        named after a reference word ("anterior to the liver")."""
        key = (text, landmarks)
        if key not in self._places_cache:
            if len(self._places_cache) > 16384:
                self._places_cache.clear()
            self._places_cache[key] = self._places_in(text, landmarks)
        return self._places_cache[key]

    def _places_in(self, text: str, landmarks: bool) -> frozenset[str]:
        spans = [(s, e, ident) for s, e, _x, ident in self.places.finditer(text)]
        spans += [(s, e, ident) for s, e, _x, ident in lexicon().anatomy.finditer(text)]
        spans.sort(key=lambda x: (x[0] - x[1], x[0]))
        taken: list[tuple[int, int, str]] = []
        for start, end, ident in spans:
            if not any(start < e and s < end for s, e, _i in taken):
                taken.append((start, end, ident))
        taken.sort()
        cut = len(text)
        if not landmarks and (ref := self.references.search(text)) is not None:
            cut = ref.start()
        found: set[str] = set()
        previous_end: int | None = None
        for start, end, ident in taken:
            part = (
                previous_end is not None
                and self.relative.fullmatch(text[start:end]) is not None
                and text[previous_end:start].strip() == ""
            )
            if start < cut and not part:
                found.add(ident)
            previous_end = end
        return frozenset(found)

    def level_places(self, codes: Iterable[str]) -> frozenset[str]:
        """Places implied by spinal level codes (``C5`` -> cervical spine)."""
        return frozenset(
            self.levels[c[0]] for c in codes if _LEVEL.match(c) and c[0] in self.levels
        )


_LEVEL = re.compile(r"^[CTLS]\d{1,2}$")


def spinal_levels(codes: Iterable[str]) -> frozenset[str]:
    """The vertebral level codes among ``codes`` (not BI-RADS or other categories)."""
    return frozenset(c for c in codes if _LEVEL.match(c))


def _closure(graph: dict[str, set[str]], what: str) -> dict[str, frozenset[str]]:
    """Reflexive-transitive closure of ``graph``; raises ValueError on a cycle."""
    out: dict[str, frozenset[str]] = {}

    def visit(node: str, path: tuple[str, ...]) -> frozenset[str]:
        if node in path:
            raise ValueError(f"{what} cycle: {' -> '.join((*path, node))}")
        if node not in out:
            found = {node}
            for parent in graph.get(node, set()):
                found |= visit(parent, (*path, node))
            out[node] = frozenset(found)
        return out[node]

    for node in list(graph):
        visit(node, ())
    return out


def _check(raw: HierarchyFile, lex: VerifierLexicon) -> None:
    """Cross-file checks: every id named must exist; refinements need a concept."""
    concepts = set(lex.findings.ids.values())
    anatomy = set(lex.anatomy.ids.values())
    kinds = concepts | {k.id for k in raw.kinds}
    places = anatomy | {p.id for p in raw.places}
    groups = set(lex.qualifiers.ids.values())
    seen: set[str] = set()
    for kind in raw.kinds:
        if kind.id in seen:
            raise ValueError(f"kind {kind.id!r} is listed twice")
        seen.add(kind.id)
        if kind.concept is not None and kind.concept not in concepts:
            raise ValueError(f"kind {kind.id!r}: unknown findings.yaml concept {kind.concept!r}")
        if kind.concept is None and (kind.words or kind.within or kind.unless or kind.requires):
            raise ValueError(f"kind {kind.id!r}: words/within/unless/requires need a concept")
        if kind.concept is not None and kind.id in concepts:
            raise ValueError(f"kind {kind.id!r} is a concept; it cannot refine another")
        for ref in [*kind.is_a]:
            if ref not in kinds:
                raise ValueError(f"kind {kind.id!r}: unknown parent kind {ref!r}")
        for ref in [*kind.within, *kind.located]:
            if ref not in places:
                raise ValueError(f"kind {kind.id!r}: unknown place {ref!r}")
    for place in raw.places:
        if place.terms and place.id in anatomy:
            raise ValueError(f"place {place.id!r} is an anatomy.yaml id; add terms there")
        for ref in place.part_of:
            if ref not in places:
                raise ValueError(f"place {place.id!r}: unknown container {ref!r}")
    narrowing = {q.id for q in raw.qualifiers}
    for aspect in raw.aspects:
        for ref in aspect.kinds:
            if ref not in kinds:
                raise ValueError(f"aspect {aspect.id!r}: unknown kind {ref!r}")
        for ref in aspect.qualifiers:
            if ref not in narrowing:
                raise ValueError(f"aspect {aspect.id!r}: unknown qualifier {ref!r}")
    for qualifier in raw.qualifiers:
        for ref in qualifier.unless:
            if ref not in groups:
                raise ValueError(f"qualifier {qualifier.id!r}: unknown qualifier group {ref!r}")
    for rule in raw.qualifier_kinds:
        if rule.qualifier not in groups or rule.kind not in kinds:
            raise ValueError(f"qualifier_kinds: unknown {rule.qualifier!r} or {rule.kind!r}")
        for ref in rule.within:
            if ref not in places:
                raise ValueError(f"qualifier_kinds: unknown place {ref!r}")
    for sign in [*raw.signs, *raw.absences]:
        if sign.id not in {k.id for k in raw.kinds} or sign.id in concepts:
            raise ValueError(f"sign {sign.id!r} must be a kind declared here, not a concept")
    for value in [*raw.levels.values(), *raw.regions, *raw.lumped]:
        if value not in places:
            raise ValueError(f"levels/regions/lumped: unknown place {value!r}")


def _compile(raw: HierarchyFile, lex: VerifierLexicon) -> Hierarchy:
    _check(raw, lex)
    concepts = set(lex.findings.ids.values())
    entries = {k.id: k for k in raw.kinds}
    kinds: dict[str, Kind] = {}
    for ident in concepts | set(entries):
        entry = entries.get(ident) or KindEntry(id=ident)
        kinds[ident] = Kind(
            id=ident,
            concept=entry.concept if entry.concept is not None else ident,
            words=words_pattern(entry.words) if entry.words else None,
            within=frozenset(entry.within),
            unless=words_pattern(entry.unless) if entry.unless else None,
            requires=words_pattern(entry.requires) if entry.requires else None,
            parents=frozenset(entry.is_a)
            | ({entry.concept} if entry.concept is not None and entry.concept != ident else set()),
            located=frozenset(entry.located),
            not_acute=entry.not_acute,
            mobile=entry.mobile,
            benign=(
                entry.benign
                if entry.benign is not None or entry.concept not in (None, ident)
                else ident in lex.incidental
            ),
        )
    ancestors = _closure({k: set(v.parents) for k, v in kinds.items()}, "is_a")
    refinements: dict[str, list[Kind]] = {}
    for entry in raw.kinds:
        if entry.concept is not None:
            refinements.setdefault(entry.concept, []).append(kinds[entry.id])
    graph: dict[str, set[str]] = {a: set() for a in set(lex.anatomy.ids.values())}
    for place in raw.places:
        graph.setdefault(place.id, set()).update(place.part_of)
        for ref in place.part_of:
            graph.setdefault(ref, set())
    return Hierarchy(
        kinds=kinds,
        ancestors=ancestors,
        refinements={c: tuple(ks) for c, ks in refinements.items()},
        places=Vocabulary.build([(p.id, p.terms) for p in raw.places if p.terms]),
        containers=_closure(graph, "part_of"),
        levels=dict(raw.levels),
        regions=frozenset(raw.regions),
        relative=words_pattern(raw.relative),
        references=words_pattern(raw.references),
        normal=words_pattern(raw.normal_words),
        aspects=tuple(
            Aspect(
                a.id, words_pattern(a.words), frozenset(a.kinds), frozenset(a.qualifiers), a.broad
            )
            for a in raw.aspects
        ),
        qualifiers=tuple(
            Qualifier(
                q.id,
                words_pattern(q.terms) if q.terms else None,
                frozenset(q.unless),
                frozenset(q.skip),
            )
            for q in raw.qualifiers
        ),
        qualifier_kinds=tuple(raw.qualifier_kinds),
        distributive=words_pattern(raw.distributive),
        exclusive=tuple(
            (e.id, tuple(words_pattern(value) for value in e.values)) for e in raw.exclusive
        ),
        signs=Vocabulary.build([(g.id, g.terms) for g in raw.signs]),
        sign_unless={g.id: words_pattern(g.unless) for g in raw.signs if g.unless},
        absences=Vocabulary.build([(g.id, g.terms) for g in raw.absences]),
        absence_unless={g.id: words_pattern(g.unless) for g in raw.absences if g.unless},
        exceptions=words_pattern(raw.exceptions) if raw.exceptions else None,
        lumped=frozenset(raw.lumped),
    )


def load_hierarchy(path: Path | None = None, lex: VerifierLexicon | None = None) -> Hierarchy:
    """Load, validate and compile ``hierarchy.yaml`` (default: the bundled one).

    Raises :class:`~reportdraft.errors.ConfigurationError` naming the file and the problem.
    """
    path = path or vocab_path("hierarchy.yaml")
    raw = load_file(path, HierarchyFile, "verifier vocabulary")
    try:
        return _compile(raw, lex or lexicon())
    except ValueError as exc:
        raise ConfigurationError(f"verifier vocabulary {path.name} is invalid: {exc}") from exc


@cache
def hierarchy() -> Hierarchy:
    """The bundled hierarchy, loaded once per process."""
    return load_hierarchy()
