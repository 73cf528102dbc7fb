"""What is compared with what: the candidate of one case and the reference scope.

A reference may be an impression only (Open-i), a set of sections (MTSamples) or a whole
signed report. Every reference-based metric compares the *same* span on both sides: the
draft's impression against a reference impression, the draft's sections against the
reference's sections of the same names, the whole draft against a whole report. This
module decides that span once so that ROUGE-L, BLEU, finding F1 and the critical-finding
scores can never disagree about what they measured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from reportdraft.evaluation.suite import EvalCase, Reference
from reportdraft.models import Draft, NormalizedDictation, SectionKind, Template

SECTION_ORDER: tuple[SectionKind, ...] = tuple(SectionKind)

_ENUMERATOR = re.compile(r"(?:(?<=\s)|^)\d{1,2}[.)]\s+(?=[A-Za-z])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"])")


def split_sentences(text: str) -> list[str]:
    """Split report text into sentences; list enumerators ("1. ", "2) ") are dropped."""
    cleaned = _ENUMERATOR.sub(" ", text.strip())
    return [s.strip() for s in _SENTENCE_END.split(cleaned) if s.strip()]


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """The text scored for one case, and the draft behind it when there is one.

    ``fixed_text`` replaces the scope text whatever the reference scope is: the constant
    impression baseline is one sentence scored against whatever the reference holds.
    ``draft`` is None for text-only candidates (the baseline, injected references), which
    metrics that need the verifier's flags skip. ``seconds`` is the drafting wall time.
    """

    sections: Mapping[SectionKind, str] = field(default_factory=dict)
    draft: Draft | None = None
    fixed_text: str | None = None
    seconds: float | None = None

    @classmethod
    def from_draft(cls, draft: Draft, *, seconds: float | None = None) -> Candidate:
        """The candidate of a drafted case: each section's statements joined."""
        sections = {
            sec.kind: " ".join(st.text for st in sec.statements)
            for sec in draft.sections
            if sec.statements
        }
        return cls(sections=sections, draft=draft, seconds=seconds)

    @classmethod
    def from_text(cls, text: str) -> Candidate:
        """A text-only candidate scored against any scope (the constant baseline)."""
        return cls(fixed_text=text)

    def full_text(self) -> str:
        """All sections in reading order, for inputs-based checks."""
        if self.fixed_text is not None:
            return self.fixed_text
        return " ".join(self.sections[k] for k in SECTION_ORDER if self.sections.get(k))


@dataclass(frozen=True, kw_only=True)
class CaseContext:
    """One case with what the pipeline derived from its inputs (dictation, template)."""

    item: EvalCase
    dictation: NormalizedDictation | None = None
    template: Template | None = None


@dataclass(frozen=True, kw_only=True)
class Scope:
    """The span both sides are compared on: ``kind`` and the section keys it covers."""

    kind: str  # "impression", "sections" or "report"
    keys: tuple[SectionKind, ...]
    reference_text: str
    reference_parts: tuple[tuple[SectionKind, str], ...] = ()

    def candidate_text(self, candidate: Candidate) -> str:
        """The candidate's text over the same span."""
        if candidate.fixed_text is not None:
            return candidate.fixed_text
        if self.kind == "report":
            return candidate.full_text()
        return " ".join(candidate.sections[k] for k in self.keys if candidate.sections.get(k))

    def _section(self, kind: SectionKind) -> SectionKind:
        # A whole report has no section structure to align on: compare it flat.
        return SectionKind.FINDINGS if self.kind == "report" else kind

    def candidate_sentences(self, candidate: Candidate) -> tuple[tuple[SectionKind, str], ...]:
        """The candidate's sentences over the scope, each with its section, in order."""
        if candidate.fixed_text is not None:
            home = SectionKind.IMPRESSION if SectionKind.IMPRESSION in self.keys else self.keys[0]
            return tuple((self._section(home), s) for s in split_sentences(candidate.fixed_text))
        if candidate.draft is not None:
            return tuple(
                (self._section(sec.kind), st.text)
                for sec in candidate.draft.sections
                if self.kind == "report" or sec.kind in self.keys
                for st in sec.statements
            )
        return tuple(
            (self._section(k), s)
            for k in SECTION_ORDER
            if (self.kind == "report" or k in self.keys) and candidate.sections.get(k)
            for s in split_sentences(candidate.sections[k])
        )

    def reference_sentences(self) -> tuple[tuple[SectionKind, str], ...]:
        """The reference's sentences over the scope, each with its section, in order."""
        return tuple(
            (self._section(kind), s)
            for kind, text in self.reference_parts
            for s in split_sentences(text)
        )


def reference_scope(reference: Reference) -> Scope | None:
    """The span a reference supports (impression first, then sections, then the report)."""
    if reference.impression and reference.impression.strip():
        text = reference.impression.strip()
        return Scope(
            kind="impression",
            keys=(SectionKind.IMPRESSION,),
            reference_text=text,
            reference_parts=((SectionKind.IMPRESSION, text),),
        )
    if reference.sections:
        keys = tuple(k for k in SECTION_ORDER if (reference.sections.get(k.value) or "").strip())
        if keys:
            parts = tuple((k, reference.sections[k.value].strip()) for k in keys)
            text = " ".join(t for _, t in parts)
            return Scope(kind="sections", keys=keys, reference_text=text, reference_parts=parts)
    if reference.report and reference.report.strip():
        text = reference.report.strip()
        return Scope(
            kind="report",
            keys=SECTION_ORDER,
            reference_text=text,
            reference_parts=((SectionKind.FINDINGS, text),),
        )
    return None
