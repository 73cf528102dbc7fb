"""The vocabulary lists several stages share, each defined once.

Before issue 14 the same clinical word lists lived in several places and drifted: negation
cues in four data files, laterality terms that differed between the redline and the verifier
("bibasilar" and "left-sided" unknown to the redline), number words and units in the
verifier's code, synonyms in the drafter's code. They are data now, in
``reportdraft/data/vocab/``, each validated by one model here:

- ``negation.yaml`` (:class:`NegationVocab`): the negation cues of the verifier's NegEx-style
  assertion, the critical detector's ConText rules and the redline, each cue listed once
  and declared shared or specific to one algorithm;
- ``laterality.yaml`` (:class:`LateralityVocab`): side words;
- ``numbers.yaml`` (:class:`NumbersVocab`): spoken and written number words, measurement
  units with their dimensions and factors, the units the redline compares as written;
- ``synonyms.yaml`` (:class:`SynonymsVocab`): the drafter's finding synonyms;
- ``glue_words.yaml`` (:class:`GlueWords`): words a model may add when restating sources.

The stages keep their own compiled views (regular expressions, lookup tables), built from
these models; nothing here knows how a stage matches.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportdraft.models import Laterality
from reportdraft.vocab.loader import load_bundled

Cue = Annotated[str, Field(min_length=1, max_length=80)]
RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")]
Word = Annotated[str, Field(pattern=r"^[a-z0-9']+$")]
Phrase = Annotated[str, Field(pattern=r"^[a-z0-9']+( [a-z0-9']+)*$")]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def normal(term: str) -> str:
    """A term as the lists compare it: lower case, single spaces."""
    return " ".join(term.lower().split())


# --------------------------------------------------------------------------- negation


class SharedNegation(_Data):
    """Cues both assertion algorithms read: the ConText rule they join, the verifier list."""

    context_rule: RuleId
    verifier: Literal["pre", "post"]
    cues: list[Cue] = Field(min_length=1)


class VerifierNegation(_Data):
    """Cues only the verifier reads: forward (``pre``), backward (``post``), "no other" ones."""

    pre: list[Cue] = Field(default_factory=list)
    post: list[Cue] = Field(default_factory=list)
    other: list[Cue] = Field(default_factory=list)


class NegationVocab(_Data):
    """``negation.yaml``: every negation cue once, shared or specific to one algorithm."""

    version: Literal[1]
    shared: list[SharedNegation] = Field(min_length=1)
    verifier_only: VerifierNegation
    context_only: dict[RuleId, list[Cue]] = Field(default_factory=dict)
    redline: list[Cue] = Field(min_length=1)

    @model_validator(mode="after")
    def _each_cue_once(self) -> NegationVocab:
        rules = [group.context_rule for group in self.shared]
        if len(set(rules)) != len(rules):
            raise ValueError("a context_rule is named by two shared groups; merge them")
        seen: dict[str, str] = {}
        places = [
            *((f"shared {g.context_rule}", g.cues) for g in self.shared),
            ("verifier_only pre", self.verifier_only.pre),
            ("verifier_only post", self.verifier_only.post),
            ("verifier_only other", self.verifier_only.other),
            *((f"context_only {rule}", cues) for rule, cues in self.context_only.items()),
        ]
        for place, cues in places:
            for cue in cues:
                key = normal(cue)
                if key in seen:
                    raise ValueError(
                        f"negation cue {cue!r} is listed under {seen[key]} and {place}"
                    )
                seen[key] = place
        return self

    def verifier_cues(self, which: Literal["pre", "post", "other"]) -> list[str]:
        """The verifier's list ``which``: its shared cues, then its own."""
        shared = [c for g in self.shared if g.verifier == which for c in g.cues]
        return [*shared, *getattr(self.verifier_only, which)]

    def context_phrases(self) -> dict[str, list[str]]:
        """ConText rule id -> its phrases from this file (shared cues, then its own)."""
        phrases: dict[str, list[str]] = {}
        for group in self.shared:
            phrases.setdefault(group.context_rule, []).extend(group.cues)
        for rule, cues in self.context_only.items():
            phrases.setdefault(rule, []).extend(cues)
        return phrases

    def shared_cues(self) -> frozenset[str]:
        """Every shared cue, normalised."""
        return frozenset(normal(c) for g in self.shared for c in g.cues)

    def verifier_only_cues(self) -> frozenset[str]:
        """Every cue declared specific to the verifier, normalised."""
        lists = (self.verifier_only.pre, self.verifier_only.post, self.verifier_only.other)
        return frozenset(normal(c) for cues in lists for c in cues)

    def context_only_cues(self) -> frozenset[str]:
        """Every cue declared specific to ConText, normalised."""
        return frozenset(normal(c) for cues in self.context_only.values() for c in cues)


# --------------------------------------------------------------------------- laterality


class LateralityVocab(_Data):
    """``laterality.yaml``: side -> the words that name it."""

    version: int = Field(ge=1)
    sides: dict[Laterality, list[Cue]]

    @model_validator(mode="after")
    def _one_side_per_term(self) -> LateralityVocab:
        seen: dict[str, Laterality] = {}
        for side, terms in self.sides.items():
            for term in terms:
                key = normal(term)
                if key in seen and seen[key] is not side:
                    raise ValueError(
                        f"side term {term!r} is listed under {seen[key].value!r} and {side.value!r}"
                    )
                seen[key] = side
        return self

    def side_of(self) -> dict[str, Laterality]:
        """Normalised term -> the side it names."""
        return {normal(t): side for side, terms in self.sides.items() for t in terms}


# --------------------------------------------------------------------------- numbers and units


class MeasurementUnit(_Data):
    """A unit the verifier normalises: its dimension, factor to the base unit, spellings."""

    unit: Annotated[str, Field(min_length=1, max_length=12)]
    dimension: Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,30}$")]
    factor: float = Field(gt=0)
    written: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _compiles(self) -> MeasurementUnit:
        for pattern in self.written:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"unit {self.unit!r}: pattern {pattern!r}: {exc}") from exc
            if compiled.groups:
                raise ValueError(f"unit {self.unit!r}: pattern {pattern!r} must not capture")
        return self

    @property
    def pattern(self) -> str:
        """The written spellings as one alternation."""
        return "|".join(self.written)


class NumbersVocab(_Data):
    """``numbers.yaml``: number words and units for dictation, the verifier and the redline."""

    version: Literal[1]
    ones: dict[Word, Annotated[int, Field(ge=0, le=19)]]
    tens: dict[Word, Annotated[int, Field(ge=20, le=90, multiple_of=10)]]
    hundred: list[Word] = Field(min_length=1)
    thousand: list[Word] = Field(min_length=1)
    decimal_point: list[Word] = Field(min_length=1)
    decimal_digits: dict[Word, Annotated[int, Field(ge=0, le=9)]] = Field(default_factory=dict)
    dimension: list[Word] = Field(min_length=1)
    percent: list[Phrase] = Field(min_length=1)
    point_not_after: list[Word] = Field(default_factory=list)
    units: dict[Annotated[str, Field(min_length=1, max_length=10)], list[Phrase]]
    count_nouns: list[Word] = Field(default_factory=list)
    spine_letters: list[Annotated[str, Field(pattern=r"^[a-z]$")]] = Field(default_factory=list)
    written_count_max: int = Field(ge=1, le=19)
    measurement_units: list[MeasurementUnit] = Field(min_length=1)
    redline_units: list[Annotated[str, Field(min_length=1, max_length=10)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> NumbersVocab:
        seen: set[str] = set()
        for phrases in self.units.values():
            for phrase in phrases:
                if phrase in seen:
                    raise ValueError(f"unit phrase {phrase!r} is listed twice")
                seen.add(phrase)
        known = {u.unit for u in self.measurement_units}
        if len(known) != len(self.measurement_units):
            raise ValueError("a measurement unit is listed twice")
        if unknown := sorted(set(self.units) - known):
            raise ValueError(f"dictation unit(s) {unknown} are not measurement units")
        return self

    def count_words(self) -> dict[str, int]:
        """Number words read as counts in written text (1 to ``written_count_max``)."""
        return {w: v for w, v in self.ones.items() if 1 <= v <= self.written_count_max}


# --------------------------------------------------------------------------- drafting words


class SynonymsVocab(_Data):
    """``synonyms.yaml``: canonical finding word -> words and phrases naming the same kind."""

    version: Literal[1]
    synonyms: dict[Annotated[str, Field(pattern=r"^[a-z]+$")], list[Cue]] = Field(min_length=1)

    @model_validator(mode="after")
    def _lower_case(self) -> SynonymsVocab:
        for canonical, variants in self.synonyms.items():
            if upper := [v for v in variants if v != normal(v)]:
                raise ValueError(f"{canonical}: write {upper} in lower case, single-spaced")
        return self

    def groups(self) -> dict[str, frozenset[str]]:
        """Canonical word -> its variants as a set."""
        return {k: frozenset(v) for k, v in self.synonyms.items()}


class GlueWords(_Data):
    """``glue_words.yaml``: words a model may add when it restates its sources."""

    words: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(min_length=1)

    def folded(self) -> frozenset[str]:
        """The words in lower case."""
        return frozenset(w.lower() for w in self.words)


# --------------------------------------------------------------------------- bundled files


@cache
def negation() -> NegationVocab:
    """The bundled ``negation.yaml``."""
    return load_bundled("negation.yaml", NegationVocab, "negation cues")


@cache
def laterality() -> LateralityVocab:
    """The bundled ``laterality.yaml``."""
    return load_bundled("laterality.yaml", LateralityVocab, "laterality vocabulary")


@cache
def numbers() -> NumbersVocab:
    """The bundled ``numbers.yaml``."""
    return load_bundled("numbers.yaml", NumbersVocab, "number vocabulary")


@cache
def synonyms() -> dict[str, frozenset[str]]:
    """The bundled drafting synonyms, canonical word -> variants."""
    return load_bundled("synonyms.yaml", SynonymsVocab, "drafting synonyms").groups()


@cache
def glue_words() -> frozenset[str]:
    """The bundled glue words, lower case."""
    return load_bundled("glue_words.yaml", GlueWords, "glue words").folded()
