"""The draft: sections of statements, each citing the sources it came from.

Every statement carries the ids of its sources: dictation sentences (``D3``), AI findings
(``A2``), template defaults (``T:<subsection>`` or ``T:technique``) and case context
(``C:<field>``), a guideline recommendation computed from the case (``G:<guideline-id>``,
e.g. ``G:fleischner-2017``); a sentence the radiologist wrote during review cites
``R:radiologist``. The verifier checks each statement against exactly those sources; that
is what makes a model's draft reviewable.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reportdraft.models.critical import CriticalMention
from reportdraft.models.primitives import Severity, Strict

SOURCE_ID = (
    r"^(D\d{1,4}|A\d{1,3}|T:[a-z][a-z0-9_]{0,40}|C:[a-z][a-z0-9_.]{0,60}|R:radiologist"
    r"|G:[a-z][a-z0-9\-]{0,40})$"
)
SourceId = Annotated[str, Field(pattern=SOURCE_ID)]


class SectionKind(StrEnum):
    """Report sections in reading order."""

    TECHNIQUE = "technique"
    COMPARISON = "comparison"
    CLINICAL_HISTORY = "clinical_history"
    FINDINGS = "findings"
    IMPRESSION = "impression"


SECTION_TITLES: dict[SectionKind, str] = {
    SectionKind.TECHNIQUE: "Technique",
    SectionKind.COMPARISON: "Comparison",
    SectionKind.CLINICAL_HISTORY: "Clinical history",
    SectionKind.FINDINGS: "Findings",
    SectionKind.IMPRESSION: "Impression",
}


class FlagKind(StrEnum):
    """What a flag is about. The first seven are the verifier's checks."""

    OMISSION = "omission"
    UNSUPPORTED = "unsupported"
    LATERALITY = "laterality"
    MEASUREMENT = "measurement"
    NEGATION = "negation"
    REJECTED_AI_FINDING = "rejected_ai_finding"
    IMPRESSION_CONSISTENCY = "impression_consistency"
    CRITICAL_NOT_IN_IMPRESSION = "critical_not_in_impression"
    FALLBACK = "fallback"
    DEFAULT_CONFLICT = "default_conflict"
    """A template default (or one clause of it) denied what a source asserts: dropped."""
    INTERNAL_CONTRADICTION = "internal_contradiction"
    """The dictation (or a confirmed AI finding) asserts and denies the same finding."""
    INSTRUCTION_IN_DICTATION = "instruction_in_dictation"
    """A dictated sentence addressed to the drafting system: kept out of the draft."""
    ANATOMY = "anatomy"
    """An anatomical qualifier (medial/lateral, level, direction, category, time) differs."""
    MALFORMED_TEXT = "malformed_text"
    """Model text with markup, JSON fragments or repeated sentences."""
    HIDDEN_CHARACTERS = "hidden_characters"
    """Invisible bidi or zero-width characters were removed from the dictation (low)."""
    DUPLICATE_ACCESSION = "duplicate_accession"
    """Another report has the same accession at the same facility (a re-read, or a mix-up)."""
    GENERIC_TEMPLATE = "generic_template"
    """No specific template fits the study: drafted on the generic one, no normal defaults."""
    RECOMMENDATION_DISCORDANT = "recommendation_discordant"
    """A dictated follow-up recommendation contradicts the applicable guideline (medium)."""


class Flag(Strict):
    """A problem found in a draft, with the evidence a radiologist needs to judge it.

    ``id`` is stable for the same draft (``F1``, ``F2``, ...) so that an acknowledgement
    can name it. ``statement_id`` is None for draft-level flags such as omissions.
    """

    id: Annotated[str, Field(pattern=r"^F\d+$")]
    kind: FlagKind
    severity: Severity
    message: Annotated[str, Field(min_length=1, max_length=500)]
    statement_id: Annotated[str, Field(pattern=r"^S\d+$")] | None = None
    sources: list[SourceId] = Field(default_factory=list)
    evidence: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list)


Generator = Literal["rules", "model", "radiologist"]


class Statement(Strict):
    """One sentence of the report with its sources.

    ``generator`` says what wrote the text: the deterministic drafter (``rules``), a
    language model (``model``) or the radiologist's edit (``radiologist``). ``fallback``
    marks rules statements that replaced model output the verifier or parser rejected.
    """

    id: Annotated[str, Field(pattern=r"^S\d+$")]
    subsection: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")] | None = None
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    sources: list[SourceId] = Field(min_length=1)
    generator: Generator = "rules"
    fallback: bool = False


class DraftSection(Strict):
    """One report section and its statements, in reading order."""

    kind: SectionKind
    statements: list[Statement] = Field(default_factory=list)

    @property
    def title(self) -> str:
        """The section's printed title."""
        return SECTION_TITLES[self.kind]


class Usage(Strict):
    """Token usage and wall time of the model calls behind one draft."""

    prompt_tokens: Annotated[int, Field(ge=0)] = 0
    completion_tokens: Annotated[int, Field(ge=0)] = 0
    calls: Annotated[int, Field(ge=0)] = 0
    seconds: Annotated[float, Field(ge=0)] = 0.0


class DraftProvenance(Strict):
    """Which backend, model and prompt produced a draft."""

    backend: Annotated[str, Field(min_length=1)]
    model: str | None = None
    prompt_version: str | None = None
    usage: Usage = Usage()
    created_at: datetime


class Draft(Strict):
    """A draft report: a list of sections, each a list of statements; flags, critical
    mentions and provenance ride along."""

    schema_version: Literal["1"] = "1"
    accession_number: str
    template_id: str
    template_version: str
    sections: list[DraftSection] = Field(min_length=1)
    subsection_titles: dict[str, str] = Field(
        default_factory=dict,
        description="Printed title of each findings subsection key, from the template.",
    )
    flags: list[Flag] = Field(default_factory=list)
    critical: list[CriticalMention] = Field(default_factory=list)
    provenance: DraftProvenance

    @model_validator(mode="after")
    def _unique_statement_ids(self) -> Draft:
        ids = [s.id for s in self.statements()]
        if len(ids) != len(set(ids)):
            raise ValueError("statement ids must be unique within a draft")
        kinds = [sec.kind for sec in self.sections]
        if len(kinds) != len(set(kinds)):
            raise ValueError("each section kind may appear once")
        return self

    def statements(self) -> list[Statement]:
        """All statements in reading order."""
        return [st for sec in self.sections for st in sec.statements]

    def section(self, kind: SectionKind) -> list[Statement]:
        """Statements of section ``kind`` in order (empty when the section is absent)."""
        return next((sec.statements for sec in self.sections if sec.kind == kind), [])

    def section_of(self, statement_id: str) -> SectionKind | None:
        """The section holding statement ``statement_id``."""
        for sec in self.sections:
            if any(st.id == statement_id for st in sec.statements):
                return sec.kind
        return None

    def statement(self, statement_id: str) -> Statement | None:
        """The statement ``statement_id``, or None."""
        return next((s for s in self.statements() if s.id == statement_id), None)

    def flags_for(self, statement_id: str) -> list[Flag]:
        """Flags attached to one statement."""
        return [f for f in self.flags if f.statement_id == statement_id]
