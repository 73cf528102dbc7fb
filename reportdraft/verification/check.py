"""The verifier's entry: every grounding check of a draft against its sources, in order;
the safety net under every backend.

Every statement is checked against exactly the sources it cites (statement-level checks in
:mod:`reportdraft.verification.statements`), and the draft as a whole against the case
(omissions and impression consistency in :mod:`reportdraft.verification.coverage`). The
checks compare *clinical facts* (finding concepts with their negation and side, anatomy,
qualifiers, normalised measurements, numbers, levels, dates) extracted by
:func:`reportdraft.verification.facts.extract_facts`, not wording: a faithful paraphrase
passes, a changed side, number, negation or finding does not.

Deterministic and fast (regex and lexicon, no model): it runs on every draft of every
backend, including ``rules``, and the model drafter calls it to decide which model
rewrites to keep. Precision matters as much as recall: every false flag costs a
radiologist time, so each check is scoped to what its sources can actually support.

Flag kinds and severities are documented in the two check modules; in short, omission,
unsupported, laterality, measurement, negation and rejected-AI-finding flags are ``high``,
impression consistency ``medium``, and housekeeping notes ``low``.
"""

from __future__ import annotations

from reportdraft import guidelines
from reportdraft.models import Case, Draft, Flag, NormalizedDictation, Template
from reportdraft.verification.coverage import (
    check_ai_findings,
    check_dictation,
    check_impression,
    check_template,
)
from reportdraft.verification.defaults import check_defaults
from reportdraft.verification.instruction_flags import check_instructions
from reportdraft.verification.recommendations import check_recommendations
from reportdraft.verification.run_context import Context
from reportdraft.verification.sources import render_ai_finding, source_texts
from reportdraft.verification.statements import check_statement

__all__ = ["render_ai_finding", "source_texts", "verify"]


def verify(
    draft: Draft, case: Case, dictation: NormalizedDictation, template: Template
) -> list[Flag]:
    """Check ``draft`` against its sources; return flags ``F1``, ``F2``, ... in draft order.

    Statement-level flags carry ``statement_id``; draft-level ones (an uncited dictated
    sentence, an uncovered AI finding) do not. ``sources`` names the ids involved and
    ``evidence`` quotes them. Ids are placeholders that the pipeline renumbers.
    """
    ctx = Context(
        draft=draft,
        case=case,
        dictation=dictation,
        template=template,
        texts=source_texts(case, dictation, template),
    )
    for statement in draft.statements():
        check_statement(ctx, statement)
    check_dictation(ctx)
    check_instructions(ctx)
    check_ai_findings(ctx)
    check_impression(ctx)
    check_template(ctx)
    check_defaults(ctx)
    check_recommendations(ctx, guidelines.evaluate(case, dictation))
    unique: list[Flag] = []
    seen: set[tuple[str, str | None, str]] = set()
    for flag in ctx.flags:
        key = (flag.kind.value, flag.statement_id, flag.message)
        if key not in seen:
            seen.add(key)
            unique.append(flag)
    return [f.model_copy(update={"id": f"F{i}"}) for i, f in enumerate(unique, start=1)]
