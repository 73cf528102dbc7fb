"""Critical-finding mentions: what the detector found, with the reasons for its assertion."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from reportdraft.models.base import Strict


class Assertion(StrEnum):
    """How the text asserts a finding. ``present`` and ``uncertain`` alert."""

    PRESENT = "present"
    UNCERTAIN = "uncertain"
    NEGATED = "negated"
    HISTORICAL = "historical"
    HYPOTHETICAL = "hypothetical"


ALERTING = frozenset({Assertion.PRESENT, Assertion.UNCERTAIN})

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


class CriticalMention(Strict):
    """One mention of a critical finding in text.

    ``start``/``end`` index the text the detector was given (for a draft statement, the
    statement's text). ``alert`` is true when the mention is present or uncertain in
    Findings or Impression (or in text without sections).
    """

    finding_code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")]
    label: str
    category: Category
    assertion: Assertion
    section: str | None = None
    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    text: str
    triggers: list[ContextTrigger] = Field(default_factory=list)
    codes: list[MentionCode] = Field(default_factory=list)
    statement_id: Annotated[str, Field(pattern=r"^S\d+$")] | None = None
    alert: bool
