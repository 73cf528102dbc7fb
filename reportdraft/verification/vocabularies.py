"""The verifier's vocabularies, read from ``reportdraft/data/vocab/`` by :mod:`reportdraft.vocab`.

Why data files: findings, anatomy, qualifiers and context cues are clinical knowledge that a
site (or the eval team) tunes without touching code, the way medspaCy ships its ConText rules
as JSON. Each file is validated on load (unknown keys rejected, duplicate terms rejected), so
a typo in a site override fails loudly instead of silently weakening the safety net.

The negation cues (``negation.yaml``, shared with the critical detector's ConText rules) and
the side words (``laterality.yaml``, shared with the redline) are :mod:`reportdraft.vocab`'s
shared lists; the other files are the verifier's own, with their schemas here.

Each vocabulary compiles to one regular expression with its terms longest-first, so the
longest term wins at a position ("pleural effusion" over "effusion"), and a lookup table
from the matched surface form back to the canonical id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportdraft.models.critical import Temporality
from reportdraft.vocab import LateralityVocab, NegationVocab, load_file, vocab_dir

Term = Annotated[str, Field(min_length=1, max_length=80)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)


def _no_duplicates(entries: list[tuple[str, list[str]]], what: str) -> None:
    seen: dict[str, str] = {}
    for ident, terms in entries:
        for term in terms:
            key = " ".join(term.lower().split())
            if key in seen and seen[key] != ident:
                raise ValueError(
                    f"{what} term {term!r} is listed under {seen[key]!r} and {ident!r}"
                )
            seen[key] = ident


class ConceptEntry(BaseModel):
    """A finding concept: its canonical id and the surface terms that name it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    terms: list[Term] = Field(min_length=1)
    significant: bool = False
    generic: bool = False
    incidental: bool = False


class Composition(BaseModel):
    """A finding said in two parts: an organ and a predicate ("the heart is enlarged")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concept: Slug
    anatomy: list[Slug] = Field(min_length=1)
    predicates: list[Term] = Field(min_length=1)


class FindingsFile(_File):
    """``findings.yaml``."""

    concepts: list[ConceptEntry] = Field(min_length=1)
    compositions: list[Composition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> FindingsFile:
        _no_duplicates([(c.id, c.terms) for c in self.concepts], "finding")
        known = {c.id for c in self.concepts}
        for composition in self.compositions:
            if composition.concept not in known:
                raise ValueError(f"composition names unknown concept {composition.concept!r}")
        return self


class StructureEntry(BaseModel):
    """An anatomical structure or region and its surface terms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    terms: list[Term] = Field(min_length=1)


class AnatomyFile(_File):
    """``anatomy.yaml``."""

    structures: list[StructureEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> AnatomyFile:
        _no_duplicates([(s.id, s.terms) for s in self.structures], "anatomy")
        return self


class QualifierGroup(BaseModel):
    """Synonymous qualifiers ("unchanged", "stable", "no interval change")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    terms: list[Term] = Field(min_length=1)
    temporality: Temporality | None = None
    """How the group places a finding in time, apart from whether it is asserted (issue 12,
    point 4); one enum with the critical detector's time courses."""


class Axis(BaseModel):
    """An anatomical axis and the words for each of its values (``medial`` / ``lateral``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    values: dict[Slug, list[Term]] = Field(min_length=2)


class QualifiersFile(_File):
    """``qualifiers.yaml``."""

    groups: list[QualifierGroup] = Field(min_length=1)
    axes: list[Axis] = Field(default_factory=list)
    compounds: dict[Term, list[Slug]] = Field(default_factory=dict)
    density: dict[Literal["a", "b", "c", "d"], list[Term]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> QualifiersFile:
        _no_duplicates([(g.id, g.terms) for g in self.groups], "qualifier")
        values = [(v, terms) for axis in self.axes for v, terms in axis.values.items()]
        _no_duplicates([*values, *((k, [k]) for k in self.compounds)], "axis")
        _no_duplicates(list(self.density.items()), "density")
        known = {v for v, _terms in values}
        for term, parts in self.compounds.items():
            if unknown := set(parts) - known:
                raise ValueError(f"compound {term!r} names unknown axis value(s) {unknown}")
        return self


class Answers(BaseModel):
    """Answers that settle a question sentence ("Pneumothorax? No.")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    negative: list[Term] = Field(default_factory=list)
    positive: list[Term] = Field(default_factory=list)


class VerifierCuesFile(_File):
    """``verifier_cues.yaml``: NegEx-style context cues, links, signs and scope breakers.

    The negation cues themselves are in ``negation.yaml``
    (:class:`~reportdraft.vocab.NegationVocab`).
    """

    pseudo: list[Term] = Field(default_factory=list)
    uncertain_pre: list[Term] = Field(default_factory=list)
    uncertain_post: list[Term] = Field(default_factory=list)
    uncertain_both: list[Term] = Field(default_factory=list)
    hypothetical_pre: list[Term] = Field(default_factory=list)
    terminators: list[Term] = Field(default_factory=list)
    links: list[Term] = Field(default_factory=list)
    hedged_links: list[Term] = Field(default_factory=list)
    signs: list[Term] = Field(default_factory=list)
    scope_breakers: list[Term] = Field(default_factory=list)
    answers: Answers = Field(default_factory=Answers)
    resolution: list[Term] = Field(default_factory=list)
    polarity_stopwords: list[Term] = Field(default_factory=list)


class CoverageFile(_File):
    """``coverage.yaml``: sentences that are not report content; words exempting a finding
    from the impression check."""

    ignorable: list[Annotated[str, Field(min_length=1, max_length=200)]]
    impression_exempt: list[Term] = Field(default_factory=list)
    impression_exempt_unless: list[Term] = Field(default_factory=list)
    remarks: list[Term] = Field(default_factory=list)

    @model_validator(mode="after")
    def _compiles(self) -> CoverageFile:
        for pattern in self.ignorable:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"ignorable pattern {pattern!r}: {exc}") from exc
        return self


class AbbreviationsFile(_File):
    """``abbreviations.yaml``: case-sensitive expansions applied before extraction."""

    expand: dict[Annotated[str, Field(pattern=r"^[A-Za-z/]{2,8}$")], Term]


def _normal(term: str) -> str:
    return " ".join(term.lower().split())


def _pattern(terms: list[str], *, plural: bool) -> re.Pattern[str]:
    """One case-insensitive alternation, longest term first, on word (and hyphen) bounds."""
    pieces = sorted({_normal(t) for t in terms}, key=len, reverse=True)
    if not pieces:
        return re.compile(r"(?!)")
    if plural:  # "nodular opacity" -> "nodular opacities" (the -s/-es suffix is added below)
        pieces = sorted(
            {*pieces, *(t[:-1] + "ie" for t in pieces if re.search(r"[^aeiou]y$", t))},
            key=len,
            reverse=True,
        )
    alternatives = [r"\s+".join(re.escape(word) for word in t.split(" ")) for t in pieces]
    suffix = r"(?:e?s)?" if plural else ""
    return re.compile(rf"(?<![\w-])(?:{'|'.join(alternatives)}){suffix}(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class Vocabulary:
    """A compiled vocabulary: find its terms in text and map them to canonical ids."""

    pattern: re.Pattern[str]
    ids: dict[str, str]

    @classmethod
    def build(cls, entries: list[tuple[str, list[str]]], *, plural: bool = True) -> Vocabulary:
        """Compile ``(id, terms)`` pairs."""
        ids = {_normal(t): ident for ident, terms in entries for t in terms}
        return cls(pattern=_pattern(list(ids), plural=plural), ids=ids)

    def lookup(self, surface: str) -> str | None:
        """Canonical id of a matched surface form (plural suffixes stripped if needed)."""
        key = _normal(surface)
        for candidate in (key, key[:-1], key[:-2], key[:-3] + "y"):
            if candidate in self.ids:
                return self.ids[candidate]
        return None

    def finditer(self, text: str) -> Iterator[tuple[int, int, str, str]]:
        """Yield ``(start, end, surface, id)`` for every match, left to right."""
        for match in self.pattern.finditer(text):
            ident = self.lookup(match.group(0))
            if ident is not None:
                yield match.start(), match.end(), match.group(0), ident


@dataclass(frozen=True)
class ComposedFinding:
    """A compiled composition: the concept, its organs and its predicate words."""

    concept: str
    anatomy: frozenset[str]
    predicates: Vocabulary


@dataclass(frozen=True)
class Cues:
    """Compiled context cues (see ``negation.yaml``)."""

    pseudo: Vocabulary
    uncertain_pre: Vocabulary
    uncertain_post: Vocabulary
    uncertain_both: Vocabulary
    hypothetical_pre: Vocabulary
    post_negation: Vocabulary
    pre_negation_other: Vocabulary
    pre_negation: Vocabulary
    terminators: Vocabulary
    links: Vocabulary
    hedged_links: Vocabulary
    signs: Vocabulary
    stopwords: frozenset[str]
    breakers: frozenset[str] = frozenset()
    negative_answer: re.Pattern[str] = re.compile(r"(?!)")
    positive_answer: re.Pattern[str] = re.compile(r"(?!)")
    resolution: frozenset[str] = frozenset()


@dataclass(frozen=True)
class VerifierLexicon:
    """Every vocabulary the extractor uses, compiled once."""

    findings: Vocabulary
    significant: frozenset[str]
    generic: frozenset[str]
    incidental: frozenset[str]
    anatomy: Vocabulary
    qualifiers: Vocabulary
    compositions: tuple[ComposedFinding, ...]
    temporality: dict[str, Temporality]
    positions: Vocabulary
    """Axis words to ``+``-joined axis values ("posteromedial" -> ``posterior+medial``)."""
    axis_of: dict[str, str]
    """Axis value -> its axis id (``medial`` -> ``mediolateral``)."""
    density: Vocabulary
    sides: Vocabulary
    cues: Cues
    abbreviations: re.Pattern[str]
    expansions: dict[str, str]
    ignorable: re.Pattern[str]
    impression_exempt: Vocabulary
    impression_exempt_unless: Vocabulary
    remarks: Vocabulary


FileT = TypeVar("FileT", bound=_File)


def _load(path: Path, model: type[FileT]) -> FileT:
    return load_file(path, model, "verifier vocabulary")


def _answer(terms: list[str]) -> re.Pattern[str]:
    """A whole-sentence answer ("No.", "None seen.") in any case, with its punctuation."""
    if not terms:
        return re.compile(r"(?!)")
    words = sorted({_normal(t) for t in terms}, key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(map(re.escape, t.split())) for t in words)
    return re.compile(rf"\s*(?:{alternatives})\s*(?:[.!,;]|$)", re.IGNORECASE)


def _cue_vocabulary(ident: str, terms: list[str]) -> Vocabulary:
    return Vocabulary.build([(ident, terms)], plural=False)


def load_lexicon(directory: Path | None = None) -> VerifierLexicon:
    """Load and compile the vocabularies from ``directory`` (default: the bundled ones).

    ``directory`` holds the verifier's files and the shared ``negation.yaml`` and
    ``laterality.yaml`` (a copy of ``reportdraft/data/vocab/`` with a site's changes).
    Raises :class:`~reportdraft.errors.ConfigurationError` naming the file when one is
    malformed.
    """
    base = directory or vocab_dir()
    findings = _load(base / "findings.yaml", FindingsFile)
    anatomy = _load(base / "anatomy.yaml", AnatomyFile)
    qualifiers = _load(base / "qualifiers.yaml", QualifiersFile)
    context = _load(base / "verifier_cues.yaml", VerifierCuesFile)
    shared = load_file(base / "negation.yaml", NegationVocab, "negation cues")
    laterality = load_file(base / "laterality.yaml", LateralityVocab, "laterality vocabulary")
    abbreviations = _load(base / "abbreviations.yaml", AbbreviationsFile)
    coverage = _load(base / "coverage.yaml", CoverageFile)
    names = (
        "pseudo",
        "uncertain_pre",
        "uncertain_post",
        "uncertain_both",
        "hypothetical_pre",
        "terminators",
        "links",
        "hedged_links",
    )
    lists: dict[str, list[str]] = {name: list(getattr(context, name)) for name in names}
    lists["post_negation"] = shared.verifier_cues("post")
    lists["pre_negation_other"] = shared.verifier_cues("other")
    lists["pre_negation"] = shared.verifier_cues("pre")
    cue_words = {w for terms in lists.values() for t in terms for w in t.lower().split()}
    cues = Cues(
        **{name: _cue_vocabulary(name, terms) for name, terms in lists.items()},
        signs=Vocabulary.build([("sign", list(context.signs))]),
        stopwords=frozenset(w.lower() for w in context.polarity_stopwords) | cue_words,
        breakers=frozenset(w.lower() for w in context.scope_breakers),
        negative_answer=_answer(context.answers.negative),
        positive_answer=_answer(context.answers.positive),
        resolution=frozenset(_normal(t) for t in context.resolution),
    )
    expansions = dict(abbreviations.expand)
    keys = sorted(expansions, key=len, reverse=True)
    return VerifierLexicon(
        findings=Vocabulary.build([(c.id, c.terms) for c in findings.concepts]),
        significant=frozenset(c.id for c in findings.concepts if c.significant),
        generic=frozenset(c.id for c in findings.concepts if c.generic),
        incidental=frozenset(c.id for c in findings.concepts if c.incidental),
        anatomy=Vocabulary.build([(s.id, s.terms) for s in anatomy.structures]),
        qualifiers=Vocabulary.build([(g.id, g.terms) for g in qualifiers.groups], plural=False),
        compositions=tuple(
            ComposedFinding(
                c.concept, frozenset(c.anatomy), _cue_vocabulary(c.concept, list(c.predicates))
            )
            for c in findings.compositions
        ),
        temporality={g.id: g.temporality for g in qualifiers.groups if g.temporality},
        positions=Vocabulary.build(
            [(v, terms) for axis in qualifiers.axes for v, terms in axis.values.items()]
            + [("+".join(parts), [term]) for term, parts in qualifiers.compounds.items()],
            plural=False,
        ),
        axis_of={v: axis.id for axis in qualifiers.axes for v in axis.values},
        density=Vocabulary.build(list(qualifiers.density.items()), plural=False),
        sides=Vocabulary.build(
            [(side.value, terms) for side, terms in laterality.sides.items()], plural=False
        ),
        cues=cues,
        abbreviations=re.compile(
            rf"(?<![\w/])(?:{'|'.join(map(re.escape, keys))})(?![\w/])" if keys else r"(?!)"
        ),
        expansions=expansions,
        ignorable=re.compile(
            "|".join(f"(?:{p})" for p in coverage.ignorable) or r"(?!)", re.IGNORECASE
        ),
        impression_exempt=_cue_vocabulary("exempt", list(coverage.impression_exempt)),
        impression_exempt_unless=_cue_vocabulary(
            "exempt_unless", list(coverage.impression_exempt_unless)
        ),
        remarks=_cue_vocabulary("remark", list(coverage.remarks)),
    )


@cache
def lexicon() -> VerifierLexicon:
    """The bundled lexicon, loaded once per process."""
    return load_lexicon()
