"""Critical-finding mentions: what the detector found, with the reasons for its assertion."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from reportdraft.models.primitives import Strict


class Assertion(StrEnum):
    """How the text asserts a finding. ``present`` and ``uncertain`` alert."""

    PRESENT = "present"
    UNCERTAIN = "uncertain"
    NEGATED = "negated"
    HISTORICAL = "historical"
    HYPOTHETICAL = "hypothetical"


ALERTING = frozenset({Assertion.PRESENT, Assertion.UNCERTAIN})
"""Assertions that can alert; whether one does also depends on the section and on the
alert policy (temporality, expected post-operative findings)."""


class Temporality(StrEnum):
    """The time course the text gives a finding, separate from its assertion.

    A stable pneumothorax is *present* (it is there now) and *unchanged*; the alert policy,
    not the assertion, decides whether an unchanged finding alerts. ``None`` on a mention
    means the text states no time course.
    """

    NEW = "new"
    WORSENING = "worsening"
    UNCHANGED = "unchanged"
    """Stable, persistent, again seen, redemonstrated, residual, no interval change."""
    IMPROVING = "improving"
    RESOLVED = "resolved"
    CHRONIC = "chronic"
    KNOWN = "known"


Category = Literal[1, 2, 3]


class ContextTrigger(Strict):
    """A context cue that decided (or contributed to) a mention's assertion."""

    rule_id: Annotated[str, Field(min_length=1, max_length=80)]
    text: Annotated[str, Field(min_length=1, max_length=200)]
    category: Annotated[str, Field(min_length=1, max_length=40)]


class MentionCode(Strict):
    """A terminology code for a finding (RadLex, SNOMED CT)."""

    system: str
    code: str
    display: str | None = None


class StudyScope(Strict):
    """What the caller knows about the study a text reports (optional context).

    The detector uses it where words alone are ambiguous: an unqualified "nodule" or
    "3 cm mass" is a lung finding in a chest study, not in a thyroid ultrasound.
    """

    body_part: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    modality: Annotated[str, Field(min_length=1, max_length=20)] | None = None


class CriticalMention(Strict):
    """One mention of a critical finding in text.

    ``start``/``end`` index the text the detector was given (for a draft statement, the
    statement's text). ``alert`` is true when the mention is present or uncertain in
    Findings or Impression (or in text without sections) and the alert policy lets its
    category, temporality and context alert (an improving pneumothorax, a stable nodule or
    expected post-operative free air do not). ``triggers`` hold the cues behind both.
    """

    finding_code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")]
    label: str
    category: Category
    assertion: Assertion
    temporality: Temporality | None = None
    section: str | None = None
    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    text: str
    triggers: list[ContextTrigger] = Field(default_factory=list)
    codes: list[MentionCode] = Field(default_factory=list)
    statement_id: Annotated[str, Field(pattern=r"^S\d+$")] | None = None
    alert: bool
