"""The deterministic drafter: the ``rules`` backend and the fallback of every model backend.

It places each dictated sentence exactly once, in the section the radiologist dictated it
under or (for findings) in the template subsection its anatomy words route it to; keeps the
template's normal default for every subsection nobody spoke about, less any clause that a
dictated or confirmed finding contradicts wherever it was routed; writes each *confirmed*
AI finding into its subsection (merged into a dictated sentence that already describes it);
and keeps the dictated impression, or else builds one from the Findings by clinical
significance (:mod:`reportdraft.drafting.impression`). Rejected and pending AI findings
never appear in the text.

Why deterministic: the embedded model is unreliable (docs/ARCHITECTURE.md#model-runtimes), so the
structure and every source citation must not depend on it. Model backends only rewrite
pieces of this draft, and fall back to it piece by piece when verification fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from reportdraft import vocab
from reportdraft.drafting.impression import SeverityOf, plan_impression
from reportdraft.guidelines import impression_additions
from reportdraft.models import (
    AIFinding,
    Case,
    Decision,
    DictationSentence,
    Draft,
    DraftProvenance,
    DraftSection,
    Flag,
    NormalizedDictation,
    SectionKind,
    Statement,
    Template,
)
from reportdraft.templates import render_technique, route_sentence
from reportdraft.verification.claims import Fact
from reportdraft.verification.defaults import (
    case_facts,
    contradiction_flag,
    contradictions,
    dropped_flags,
    plan_defaults,
)
from reportdraft.verification.sources import render_ai_finding

_WORD = re.compile(r"[a-z]{3,}")
_STOP = frozenset({"the", "and", "with", "left", "right", "bilateral", "finding", "lobe"})


def draft_with_rules(
    case: Case,
    dictation: NormalizedDictation,
    template: Template,
    *,
    severity_of: SeverityOf | None = None,
    created_at: datetime | None = None,
) -> Draft:
    """Draft ``case`` deterministically on ``template``.

    ``severity_of`` finds critical findings for a generated impression (the drafting
    pipeline passes :func:`reportdraft.critical.most_urgent_category`): their statements
    always enter it, most urgent first, then actionable, then chronic findings
    (:func:`reportdraft.drafting.impression.plan_impression`).
    """
    builder = _Builder()
    by_section = _sentences_by_section(dictation)

    sections = [
        DraftSection(
            kind=SectionKind.TECHNIQUE, statements=_technique(builder, case, template, by_section)
        ),
        DraftSection(
            kind=SectionKind.COMPARISON, statements=_comparison(builder, case, template, by_section)
        ),
        DraftSection(
            kind=SectionKind.CLINICAL_HISTORY, statements=_history(builder, case, by_section)
        ),
    ]
    # The positive facts of every Findings/Impression sentence and confirmed AI finding:
    # what template defaults, normal impression included, must never deny.
    dictated = [*by_section[SectionKind.FINDINGS], *by_section[SectionKind.IMPRESSION]]
    facts = case_facts(case, dictated, template)
    findings = _findings(builder, case, template, by_section, facts)
    sections.append(DraftSection(kind=SectionKind.FINDINGS, statements=findings))
    impression = [
        builder.statement(item.text, item.sources)
        for item in plan_impression(
            template, by_section[SectionKind.IMPRESSION], findings, severity_of, facts
        )
    ]
    # Guideline follow-up recommendations the radiologist did not dictate (issue 16).
    impression += [builder.statement(t, s) for t, s in impression_additions(case, dictation)]
    sections.append(DraftSection(kind=SectionKind.IMPRESSION, statements=impression))
    return Draft(
        accession_number=case.study.accession_number,
        template_id=template.id,
        template_version=template.version,
        sections=sections,
        subsection_titles={sub.key: sub.title for sub in template.findings},
        flags=[f.model_copy(update={"id": f"F{i}"}) for i, f in enumerate(builder.flags, 1)],
        provenance=DraftProvenance(backend="rules", created_at=created_at or datetime.now(UTC)),
    )


class _Builder:
    """Hands out statement ids in reading order and collects the drafter's flags."""

    def __init__(self) -> None:
        self._next = 1
        self.flags: list[Flag] = []

    def statement(
        self, text: str, sources: Iterable[str], subsection: str | None = None
    ) -> Statement:
        ids = list(dict.fromkeys(sources))
        st = Statement(id=f"S{self._next}", subsection=subsection, text=text, sources=ids)
        self._next += 1
        return st


def _sentences_by_section(
    dictation: NormalizedDictation,
) -> dict[SectionKind, list[DictationSentence]]:
    """Group sentences by the section they were dictated under; unheaded ones are findings.

    Sentences addressed to the drafting system (``instruction`` set at normalisation) are
    left out: dictation is data, never instructions, and the verifier lists them instead.
    """
    grouped: dict[SectionKind, list[DictationSentence]] = {kind: [] for kind in SectionKind}
    for sentence in dictation.content():
        grouped[sentence.section or SectionKind.FINDINGS].append(sentence)
    return grouped


def _dictated(builder: _Builder, sentences: list[DictationSentence]) -> list[Statement]:
    return [builder.statement(s.text, [s.id]) for s in sentences]


def _technique(
    builder: _Builder,
    case: Case,
    template: Template,
    by_section: dict[SectionKind, list[DictationSentence]],
) -> list[Statement]:
    base = builder.statement(render_technique(template, case.study), ["T:technique", "C:procedure"])
    return [base, *_dictated(builder, by_section[SectionKind.TECHNIQUE])]


def _comparison(
    builder: _Builder,
    case: Case,
    template: Template,
    by_section: dict[SectionKind, list[DictationSentence]],
) -> list[Statement]:
    dictated = _dictated(builder, by_section[SectionKind.COMPARISON])
    if case.study.comparisons:
        described = [
            f"{c.modality.value} {c.description or ''} dated {c.date.isoformat()}".replace(
                "  ", " "
            )
            for c in case.study.comparisons
        ]
        return [builder.statement("; ".join(described) + ".", ["C:comparisons"]), *dictated]
    if dictated:
        return dictated
    return [builder.statement(template.comparison_default, ["T:comparison"])]


def _history(
    builder: _Builder, case: Case, by_section: dict[SectionKind, list[DictationSentence]]
) -> list[Statement]:
    text = _sentence(case.study.indication)
    sources = ["C:indication"]
    if case.study.clinical_history:
        text = f"{text} {_sentence(case.study.clinical_history)}"
        sources.append("C:clinical_history")
    return [
        builder.statement(text, sources),
        *_dictated(builder, by_section[SectionKind.CLINICAL_HISTORY]),
    ]


def _findings(
    builder: _Builder,
    case: Case,
    template: Template,
    by_section: dict[SectionKind, list[DictationSentence]],
    facts: list[Fact],
) -> list[Statement]:
    """Findings statements, subsection by subsection in template order.

    A subsection nobody spoke about gets its normal default, less every clause that a
    dictated Findings/Impression sentence or a confirmed AI finding contradicts, wherever
    that was routed (:mod:`reportdraft.verification.defaults`); each dropped clause is a
    low ``default_conflict`` flag, and a dictation that contradicts itself a medium
    ``internal_contradiction`` flag.
    """
    sentences = by_section[SectionKind.FINDINGS]
    routed: dict[str, list[DictationSentence]] = {sub.key: [] for sub in template.findings}
    for sentence in sentences:
        routed[route_sentence(template, sentence.text)].append(sentence)
    confirmed = [f for f in case.ai_findings if f.decision is Decision.CONFIRMED]
    ai_routed: dict[str, list[AIFinding]] = {sub.key: [] for sub in template.findings}
    for finding in confirmed:
        ai_routed[route_sentence(template, f"{finding.description} {finding.location}")].append(
            finding
        )
    dictated = [*sentences, *by_section[SectionKind.IMPRESSION]]
    plans = plan_defaults(template, facts)

    statements: list[Statement] = []
    for sub in template.findings:
        spoken = routed[sub.key]
        pending_ai = list(ai_routed[sub.key])
        if not spoken and not pending_ai:
            plan = plans[sub.key]
            default = None
            if plan.text is not None:
                default = builder.statement(plan.text, [f"T:{sub.key}"], sub.key)
                statements.append(default)
            builder.flags += dropped_flags(sub, plan, default.id if default else None)
            continue
        for sentence in spoken:
            merged = [f for f in pending_ai if _describes(sentence.text, f)]
            for finding in merged:
                pending_ai.remove(finding)
            statements.append(
                builder.statement(sentence.text, [sentence.id, *(f.id for f in merged)], sub.key)
            )
        statements.extend(
            builder.statement(ai_finding_text(f), [f.id], sub.key) for f in pending_ai
        )
    texts = {s.id: s.text for s in dictated} | {f.id: render_ai_finding(f) for f in confirmed}
    for item in contradictions(dictated, facts):
        citing = next((st.id for st in statements if item.sentence.id in st.sources), None)
        builder.flags.append(contradiction_flag(item, citing, texts))
    return statements


def ai_finding_text(finding: AIFinding) -> str:
    """Report sentence for a confirmed AI finding: description, location, measurements."""
    location = finding.location
    if finding.laterality and finding.laterality.value not in location.lower():
        location = f"{finding.laterality.value} {location}"
    text = f"{finding.description[0].upper()}{finding.description[1:]} in the {location}"
    if finding.measurements:
        parts = [
            f"{m.value:g} {m.unit}" + (f" ({m.label})" if m.label else "")
            for m in finding.measurements
        ]
        text += ", measuring " + ", ".join(parts)
    return text + "."


def _terms(text: str) -> set[str]:
    words = {w for w in _WORD.findall(text.lower()) if w not in _STOP}
    expanded = set(words)
    for canonical, variants in vocab.synonyms().items():
        if (
            words & variants
            or canonical in words
            or any(" " in v and v in text.lower() for v in variants)
        ):
            expanded |= variants | {canonical}
    return expanded


def _describes(text: str, finding: AIFinding) -> bool:
    """True when a dictated sentence already describes the AI finding (same kind, same side)."""
    lowered = text.lower()
    if finding.laterality is not None:
        other = {"left": "right", "right": "left"}.get(finding.laterality.value)
        if (
            other
            and re.search(rf"\b{other}\b", lowered)
            and not re.search(rf"\b{finding.laterality.value}\b", lowered)
        ):
            return False
    kind_terms = _terms(f"{finding.description} {finding.finding_type.replace('_', ' ')}")
    return bool(kind_terms & _terms(text))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else f"{text}."
