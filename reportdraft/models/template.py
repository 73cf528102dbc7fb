"""Report templates as data: one YAML file per procedure in ``templates/``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from reportdraft.models.case import Coding, Modality
from reportdraft.models.primitives import Strict

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]


class FindingsSubsection(Strict):
    """An organ-system subsection of Findings with its normal default text.

    ``terms`` is the anatomy lexicon that routes a dictated sentence here (lower-case words
    or phrases, matched on word boundaries). Subsections are listed in reading order; the
    subsection whose terms cover most of a sentence wins (see
    ``reportdraft.templates.route_sentence``), and the last subsection is the catch-all.
    """

    key: Slug
    title: Annotated[str, Field(min_length=1, max_length=80)]
    default: Annotated[str, Field(min_length=1, max_length=500)]
    terms: list[Annotated[str, Field(min_length=2, max_length=60)]] = Field(min_length=1)


class Template(Strict):
    """A procedure's report template.

    ``technique`` may use the placeholders ``{contrast}``, ``{views}``, ``{dose}``,
    ``{laterality}`` and ``{body_part}``, filled from the case; any other placeholder is
    rejected when the template is loaded.
    """

    id: Slug
    version: Annotated[str, Field(pattern=r"^\d+(\.\d+)*$")]
    title: Annotated[str, Field(min_length=1, max_length=120)]
    modality: Modality
    body_parts: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(min_length=1)
    procedure_codes: list[Coding] = Field(min_length=1)
    contrast: Annotated[str, Field(pattern=r"^(none|with|without_and_with|any)$")] = "any"
    technique: Annotated[str, Field(min_length=1, max_length=1000)]
    comparison_default: Annotated[str, Field(min_length=1, max_length=200)] = "None."
    findings: list[FindingsSubsection] = Field(min_length=1)
    impression_guidance: Annotated[str, Field(min_length=1, max_length=1000)]
    impression_default: Annotated[str, Field(min_length=1, max_length=300)]

    def subsection(self, key: str) -> FindingsSubsection | None:
        """The findings subsection ``key``, or None."""
        return next((s for s in self.findings if s.key == key), None)
