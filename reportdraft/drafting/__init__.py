"""Drafting a case: normalise and select, draft, then re-check the draft against its sources.

The front door of the drafting stage, and what the CLI, the API's workers, the evaluation
harness and the demo use::

    from reportdraft import drafting

    result = drafting.draft_case(case, backend)          # DraftResult: dictation, template, draft
    dictation, template = drafting.prepare(case, library)
    checked = drafting.annotate(case, dictation, template, edited_draft)
    text = drafting.format_draft(result.draft, result.template)   # draft.txt
    prompts = drafting.load_prompts(folder)              # a prompt set to draft with

Callers go through these names (module attributes, so a test can replace one) rather than
the modules behind them, which are:

- :mod:`~reportdraft.drafting.pipeline`: the stages in order (normalise, select, draft,
  verify, critical findings) and the flags' renumbering;
- :mod:`~reportdraft.drafting.deterministic`: the deterministic drafter, which is the
  ``rules`` backend and every model backend's fallback;
- :mod:`~reportdraft.drafting.model_rewrite`: narrow, verified model rewrites of pieces of
  the deterministic draft;
- :mod:`~reportdraft.drafting.prompts`: prompt sets (Jinja templates, few-shot examples,
  version hash);
- :mod:`~reportdraft.drafting.plain_text`: the plain-text view of a draft.
"""

from reportdraft.drafting.pipeline import DraftResult, annotate, draft_case, prepare, renumber
from reportdraft.drafting.plain_text import format_draft
from reportdraft.drafting.prompts import PromptSet, load_prompts

__all__ = [
    "DraftResult",
    "PromptSet",
    "annotate",
    "draft_case",
    "format_draft",
    "load_prompts",
    "prepare",
    "renumber",
]
