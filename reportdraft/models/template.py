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
    default: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    terms: list[Annotated[str, Field(min_length=2, max_length=60)]] = Field(min_length=1)


class Template(Strict):
    """A procedure's report template.

    ``technique`` may use the placeholders ``{contrast}``, ``{views}``, ``{dose}``,
    ``{laterality}`` and ``{body_part}``, filled from the case; any other placeholder is
    rejected when the template is loaded.

    A specific template names its ``modality`` and at least one ``body_parts`` synonym
    (selection by modality and body part needs them); ``procedure_codes`` may be empty
    where no code can be confirmed, and the template is then selected by modality and body
    part only. A ``generic`` template (``templates/generic.yaml``) is the fallback when no
    specific template fits: it has no modality, body parts or codes and no normal default
    at all (checked by ``reportdraft.templates.check_template``), so what it drafts is only
    what was dictated.
    """

    id: Slug
    version: Annotated[str, Field(pattern=r"^\d+(\.\d+)*$")]
    title: Annotated[str, Field(min_length=1, max_length=120)]
    generic: bool = False
    modality: Modality | None = None
    body_parts: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list
    )
    procedure_codes: list[Coding] = Field(default_factory=list)
    contrast: Annotated[str, Field(pattern=r"^(none|with|without_and_with|any)$")] = "any"
    technique: Annotated[str, Field(min_length=1, max_length=1000)]
    comparison_default: Annotated[str, Field(min_length=1, max_length=200)] = "None."
    findings: list[FindingsSubsection] = Field(min_length=1)
    impression_guidance: Annotated[str, Field(min_length=1, max_length=1000)]
    impression_default: Annotated[str, Field(min_length=1, max_length=300)] | None = None

    def subsection(self, key: str) -> FindingsSubsection | None:
        """The findings subsection ``key``, or None."""
        return next((s for s in self.findings if s.key == key), None)


class ProcedureMapEntry(Strict):
    """One site procedure code (CPT, a local RIS code ...) and the template it drafts on."""

    system: Annotated[str, Field(min_length=1, max_length=200)]
    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-_:]+$")]
    template: Slug
    display: Annotated[str, Field(max_length=200)] | None = None


class ProcedureMap(Strict):
    """A site's procedure mapping file (``procedure_map.yaml`` in a template directory).

    Why data: a group's RIS codes are its own and change without a release; the mapping is
    checked on load (every template it names must exist, no code mapped twice), and a
    mapped code wins over the codes templates list themselves, because the site knows what
    its codes mean.
    """

    version: int = 1
    mappings: list[ProcedureMapEntry] = Field(default_factory=list)
