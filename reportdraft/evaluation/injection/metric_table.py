"""The eval suite's error-injection table: which metric sees which clinical error?

From correct reports, inject one error of each kind — a negation flip, a laterality swap,
a measurement change, a dropped finding, an added finding — and measure how much every
metric moves. A metric that barely moves for a flipped negation (ROUGE-L loses one word
of twenty) cannot be trusted to catch one; the table makes that visible per error kind.

Two "correct reports" are used, one per kind of metric:

* reference-based metrics (ROUGE-L, BLEU, finding F1, critical vs reference, edits) score
  the *reference itself* as the candidate, so the clean score is the metric's ceiling and
  the injected score shows what one error costs;
* inputs-based metrics (hallucination, omission, error counts, critical vs inputs) need a
  draft with sources: the deterministic (``rules``) draft of the case, grounded in its
  inputs by construction, is injected statement by statement and re-verified through
  ``reportdraft.drafting.annotate``.

The sentence rewrites and the added-finding sentences are the shared injection rules
(:mod:`.rewrites`, ``reportdraft/data/evaluation/injection.yaml``); one error per case and
kind goes into a sentence picked by a generator seeded from the suite's seed, the case and
the kind, so a rerun injects the same errors.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reportdraft.errors import ConfigurationError
from reportdraft.evaluation.injection.rewrites import (
    InjectionRules,
    change_measurement,
    default_rules,
    flip_negation,
    swap_laterality,
)
from reportdraft.evaluation.metrics import MetricGroup, MetricInfo
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope, split_sentences
from reportdraft.evaluation.scoring import score_values
from reportdraft.evaluation.suite import InjectionConfig
from reportdraft.models import Draft, SectionKind, Statement


class ErrorKind(StrEnum):
    """The injected error kinds."""

    NEGATION_FLIP = "negation_flip"
    LATERALITY_SWAP = "laterality_swap"
    MEASUREMENT_CHANGE = "measurement_change"
    DROPPED_FINDING = "dropped_finding"
    ADDED_FINDING = "added_finding"


Rewrite = Callable[[str, InjectionRules], str | None]
_REWRITES: dict[ErrorKind, Rewrite] = {
    ErrorKind.NEGATION_FLIP: flip_negation,
    ErrorKind.LATERALITY_SWAP: swap_laterality,
    ErrorKind.MEASUREMENT_CHANGE: change_measurement,
}


def _rng(seed: int, case_id: str, kind: ErrorKind) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{case_id}:{kind.value}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


Located = list[tuple[SectionKind, str]]


def inject_sentences(
    sentences: Located, kind: ErrorKind, rng: random.Random, rules: InjectionRules
) -> Located | None:
    """One error of ``kind`` in a list of (section, sentence); None when it does not apply.

    Negation flips prefer sentences the rules can flip in the "remove" direction (the
    common "No X." normal statement turned positive); dropped findings need at least two
    sentences (dropping the only sentence empties the report); added findings go to the
    end of the last section.
    """
    if kind is ErrorKind.ADDED_FINDING:
        if not sentences:
            return None
        return [*sentences, (sentences[-1][0], rng.choice(rules.added_findings))]
    if kind is ErrorKind.DROPPED_FINDING:
        if len(sentences) < 2:
            return None
        index = rng.randrange(len(sentences))
        return sentences[:index] + sentences[index + 1 :]
    rewrite = _REWRITES[kind]
    options = [
        (i, changed)
        for i, (_, text) in enumerate(sentences)
        if (changed := rewrite(text, rules)) is not None and changed != text
    ]
    if not options:
        return None
    index, changed = rng.choice(options)
    out = list(sentences)
    out[index] = (out[index][0], changed)
    return out


def _reference_candidate(ctx: CaseContext) -> Located | None:
    scope = reference_scope(ctx.item.reference)
    if scope is None:
        return None
    return [(kind, s) for kind, text in scope.reference_parts for s in split_sentences(text)]


def _as_candidate(sentences: Located) -> Candidate:
    sections: dict[SectionKind, list[str]] = {}
    for kind, text in sentences:
        sections.setdefault(kind, []).append(text)
    return Candidate(sections={k: " ".join(v) for k, v in sections.items()})


INJECTABLE_SECTIONS = (SectionKind.FINDINGS, SectionKind.IMPRESSION)


def inject_draft(
    draft: Draft, kind: ErrorKind, rng: random.Random, rules: InjectionRules
) -> Draft | None:
    """The draft with one error of ``kind`` in its Findings/Impression statements.

    Statements keep their ids and sources, so the verifier checks the altered text
    against the sources it still cites; an added finding cites the statement it follows
    (the way a model that hallucinates still cites something).
    """
    located = [
        (sec.kind, st)
        for sec in draft.sections
        if sec.kind in INJECTABLE_SECTIONS
        for st in sec.statements
    ]
    if not located:
        return None
    changed = inject_sentences([(k, st.text) for k, st in located], kind, rng, rules)
    if changed is None:
        return None
    by_id = {st.id: st for _, st in located}
    new_statements: dict[SectionKind, list[Statement]] = {k: [] for k in INJECTABLE_SECTIONS}
    texts = [t for _, t in changed]
    if kind is ErrorKind.DROPPED_FINDING:
        kept_texts = list(texts)
        for k, st in located:
            if kept_texts and st.text == kept_texts[0]:
                new_statements[k].append(st)
                kept_texts.pop(0)
    elif kind is ErrorKind.ADDED_FINDING:
        for k, st in located:
            new_statements[k].append(st)
        last_kind, last = located[-1]
        next_id = 1 + max(int(s.id[1:]) for s in draft.statements())
        new_statements[last_kind].append(
            Statement(
                id=f"S{next_id}",
                subsection=last.subsection,
                text=texts[-1],
                sources=list(last.sources),
                generator="model",
            )
        )
    else:
        for (k, st), text in zip(located, texts, strict=True):
            new_statements[k].append(
                st if text == st.text else by_id[st.id].model_copy(update={"text": text})
            )
    sections = [
        sec.model_copy(update={"statements": new_statements[sec.kind]})
        if sec.kind in INJECTABLE_SECTIONS
        else sec
        for sec in draft.sections
    ]
    return draft.model_copy(update={"sections": sections, "flags": [], "critical": []})


@dataclass(frozen=True, kw_only=True)
class InjectionCell:
    """How one metric reacted to one error kind over the cases it applied to.

    ``delta`` is the mean change (injected - clean); ``detected`` the share of cases where
    the metric moved in its worse direction at all; ``sensitivity`` the mean move in the
    worse direction as a share of the metric's scale (0: blind, 1: one error costs the whole
    range), which is what makes metrics comparable: every text edit moves ROUGE-L a little,
    but a flipped negation moves it a few points of 100.
    """

    delta: float | None
    detected: float | None
    sensitivity: float | None
    n: int


@dataclass(frozen=True, kw_only=True)
class InjectionResult:
    """``cells[kind][metric]``; ``applied[kind]`` = cases per target; where drafts came from."""

    kinds: list[str]
    metrics: list[MetricInfo]
    cells: dict[str, dict[str, InjectionCell]]
    applied: dict[str, dict[str, int]]
    cases: int
    draft_source: str | None


def _worse_by(info: MetricInfo, clean: float, injected: float) -> float:
    """How far the metric moved in its 'worse' direction, as a share of its scale (>= 0)."""
    change = (clean - injected) if info.higher_is_better else (injected - clean)
    return max(0.0, change) / info.scale


Annotate = Callable[[CaseContext, Draft], Draft]


def pipeline_annotate(ctx: CaseContext, draft: Draft) -> Draft:
    """Re-verify an injected draft through the pipeline (flags and critical mentions)."""
    from reportdraft import drafting

    if ctx.dictation is None or ctx.template is None:
        raise ConfigurationError(f"case {ctx.item.case_id}: no dictation/template to verify")
    return drafting.annotate(ctx.item.case, ctx.dictation, ctx.template, draft)


def run_injection(
    contexts: Sequence[CaseContext],
    groups: Sequence[MetricGroup],
    config: InjectionConfig,
    *,
    drafts: Sequence[Draft | None] | None = None,
    draft_source: str | None = None,
    annotate: Annotate = pipeline_annotate,
    rules: InjectionRules | None = None,
) -> InjectionResult:
    """Inject every error kind into up to ``config.max_cases`` cases and tabulate the drops."""
    rules = rules or default_rules()
    kinds = [ErrorKind(k) for k in (config.kinds or [k.value for k in ErrorKind])]
    limit = config.max_cases or len(contexts)
    chosen = list(range(len(contexts)))[:limit]
    infos = [i for g in groups for i in g.infos if i.basis != "usage"]
    sums: dict[str, dict[str, list[tuple[float, float]]]] = {
        k.value: {i.name: [] for i in infos} for k in kinds
    }
    applied = {k.value: {"reference": 0, "draft": 0} for k in kinds}
    ref_infos = [i for i in infos if i.basis == "reference"]
    input_infos = [i for i in infos if i.basis == "inputs"]
    for index in chosen:
        ctx = contexts[index]
        located = _reference_candidate(ctx)
        if located and ref_infos:
            clean = score_values(groups, ctx, _as_candidate(located))
            for kind in kinds:
                changed = inject_sentences(
                    located, kind, _rng(config.seed, ctx.item.case_id, kind), rules
                )
                if changed is None:
                    continue
                applied[kind.value]["reference"] += 1
                dirty = score_values(groups, ctx, _as_candidate(changed))
                _collect(sums[kind.value], ref_infos, clean, dirty)
        draft = drafts[index] if drafts is not None else None
        if draft is None or not input_infos or ctx.dictation is None or ctx.template is None:
            continue
        clean = score_values(groups, ctx, Candidate.from_draft(draft))
        for kind in kinds:
            injected = inject_draft(draft, kind, _rng(config.seed, ctx.item.case_id, kind), rules)
            if injected is None:
                continue
            applied[kind.value]["draft"] += 1
            dirty = score_values(groups, ctx, Candidate.from_draft(annotate(ctx, injected)))
            _collect(sums[kind.value], input_infos, clean, dirty)
    cells: dict[str, dict[str, InjectionCell]] = {}
    for kind in kinds:
        row: dict[str, InjectionCell] = {}
        for info in infos:
            pairs = sums[kind.value][info.name]
            row[info.name] = InjectionCell(
                delta=sum(d for d, _ in pairs) / len(pairs) if pairs else None,
                detected=sum(w > 1e-9 for _, w in pairs) / len(pairs) if pairs else None,
                sensitivity=min(1.0, sum(w for _, w in pairs) / len(pairs)) if pairs else None,
                n=len(pairs),
            )
        cells[kind.value] = row
    return InjectionResult(
        kinds=[k.value for k in kinds],
        metrics=infos,
        cells=cells,
        applied=applied,
        cases=len(chosen),
        draft_source=draft_source,
    )


def _collect(
    into: dict[str, list[tuple[float, float]]],
    infos: Sequence[MetricInfo],
    clean: dict[str, float | None],
    dirty: dict[str, float | None],
) -> None:
    for info in infos:
        before, after = clean.get(info.name), dirty.get(info.name)
        if before is None or after is None:
            continue
        into[info.name].append((after - before, _worse_by(info, before, after)))
