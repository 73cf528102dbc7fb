"""Guideline follow-up recommendations: what ``reportdraft recommend`` prints.

A recommendation is computed, never generated: a published guideline (Fleischner 2017,
Lung-RADS v2022, ACR TI-RADS, the ACR incidental adrenal white paper, Bosniak 2019,
BI-RADS 2013) applied to facts taken from the case, each fact keeping the ids of the
sources it came from so the recommendation cites them. Values here are the interface the
CLI prints and the blind test set reads: field names, guideline ids, the action
vocabulary and category spellings are fixed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from reportdraft.models.primitives import Strict

GuidelineId = Literal[
    "fleischner-2017",
    "lung-rads-2022",
    "acr-tirads-2017",
    "acr-adrenal-2017",
    "bosniak-2019",
    "bi-rads-2013",
]

Action = Literal[
    "none",
    "ct",
    "ldct",
    "mri",
    "ct_or_mri",
    "us",
    "pet_ct",
    "tissue_sampling",
    "fna",
    "adrenal_protocol_imaging",
    "surgical_consult",
    "diagnostic_imaging",
    "screening_mammography",
]
"""What the guideline tells the referrer to do next (``none``: no follow-up needed)."""

FactSource = Annotated[str, Field(pattern=r"^(D\d{1,4}|A\d{1,3}|C:[a-z_.]{1,60}|P:prior-\d{1,2})$")]
"""Where a fact came from: a dictated sentence, an AI finding, a case field, a prior report."""

Interval = tuple[Annotated[int, Field(ge=0, le=120)], Annotated[int, Field(ge=0, le=120)]]


class Recommendation(Strict):
    """One management step (or one of several options) of one guideline for one finding.

    ``optional`` marks a step the guideline words as "consider" / "optional" / "may be
    considered". A guideline that applies and asks for no follow-up gives ``action: none``
    (the guidelines ask reports to say so explicitly).
    """

    guideline: GuidelineId
    rule: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]{0,80}$")]
    category: Annotated[str, Field(max_length=8)] | None = None
    action: Action
    interval_months: Interval | None = None
    optional: bool = False
    finding: Annotated[str, Field(min_length=1, max_length=300)]
    text: Annotated[str, Field(min_length=1, max_length=600)]
    sources: list[FactSource] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered_interval(self) -> Recommendation:
        if self.interval_months is not None and self.interval_months[0] > self.interval_months[1]:
            raise ValueError("interval_months must be [min, max] with min <= max")
        return self


class NotApplicable(Strict):
    """A guideline that matched the study or a finding but does not apply, and why."""

    guideline: GuidelineId
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class Discordance(Strict):
    """A dictated recommendation that contradicts the guideline's (interval, modality, action).

    ``statement`` is the dictated sentence id; the radiologist's words are kept, never
    overwritten: the discordance becomes a medium ``recommendation_discordant`` flag.
    """

    guideline: GuidelineId
    statement: Annotated[str, Field(pattern=r"^D\d{1,4}$")]
    dictated: Annotated[str, Field(min_length=1, max_length=2000)]
    expected: Annotated[str, Field(min_length=1, max_length=600)]


class RecommendationSet(Strict):
    """Everything the guideline engine says about one case."""

    recommendations: list[Recommendation] = Field(default_factory=list)
    not_applicable: list[NotApplicable] = Field(default_factory=list)
    discordant: list[Discordance] = Field(default_factory=list)
