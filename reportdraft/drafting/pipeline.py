"""Wires the stages together: normalize → draft → verify → critical.

Each stage is a plain function over typed values; this module only calls them in order
and merges their outputs into one ``Draft``. The CLI, the API's workers and the evaluation
harness reach it through the package's front door (:mod:`reportdraft.drafting`) and call
nothing deeper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reportdraft import critical
from reportdraft.backends import Backend
from reportdraft.dictation import hidden_characters_flag, normalize
from reportdraft.drafting import model_rewrite
from reportdraft.drafting.prompts import PromptSet
from reportdraft.models import Case, Draft, Flag, FlagKind, NormalizedDictation, Template
from reportdraft.templates import TemplateLibrary, default_library
from reportdraft.verification import verify


@dataclass(frozen=True, kw_only=True)
class DraftResult:
    """A case's draft with the intermediate values a caller may want to show."""

    case: Case
    dictation: NormalizedDictation
    template: Template
    draft: Draft


def prepare(
    case: Case, library: TemplateLibrary | None = None
) -> tuple[NormalizedDictation, Template]:
    """Normalise the dictation and select the template (raises clear input errors)."""
    dictation = normalize(case.dictation)
    template = (library or default_library()).select(case.study)
    return dictation, template


def draft_case(
    case: Case,
    backend: Backend,
    *,
    library: TemplateLibrary | None = None,
    prompts: PromptSet | None = None,
    now: datetime | None = None,
    concurrency: int | None = None,
) -> DraftResult:
    """Draft ``case`` with ``backend`` and attach verifier flags and critical mentions.

    ``prompts`` is the model's prompt set (the bundled one when None); ``concurrency`` the
    number of pieces sent to the model at once (None: the backend's default; see
    :mod:`~reportdraft.drafting.model_rewrite`).
    """
    dictation, template = prepare(case, library)
    draft = model_rewrite.draft(
        case,
        dictation,
        template,
        backend,
        prompts=prompts,
        created_at=now,
        concurrency=concurrency,
    )
    return DraftResult(
        case=case,
        dictation=dictation,
        template=template,
        draft=annotate(case, dictation, template, draft),
    )


def annotate(case: Case, dictation: NormalizedDictation, template: Template, draft: Draft) -> Draft:
    """Re-check ``draft`` against its sources: verifier flags and critical-finding mentions.

    Flags the drafter attached (fallback notices) are kept; verifier, critical and
    hidden-character flags are recomputed, so annotating an edited draft again gives its
    current state.
    """
    kept = [f for f in draft.flags if f.kind is FlagKind.FALLBACK]
    flags = [*kept, *verify(draft, case, dictation, template)]
    flags += critical.missing_from_impression(draft, case, dictation)
    hidden = hidden_characters_flag(dictation)
    flags += [hidden] if hidden is not None else []
    return draft.model_copy(
        update={"flags": renumber(flags), "critical": critical.detect_draft(draft)}
    )


def renumber(flags: list[Flag]) -> list[Flag]:
    """Give flags stable ids ``F1``… in order (stages emit placeholder ids)."""
    return [f.model_copy(update={"id": f"F{i}"}) for i, f in enumerate(flags, start=1)]
