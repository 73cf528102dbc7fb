"""Draft-level checks: is everything the radiologist said (and confirmed) in the draft, and
does the impression agree with the findings?

Severities:

- omission, high: a dictated sentence that no statement cites, or that is cited only outside
  the section it was dictated for (findings/impression); a cited sentence whose finding
  concepts, measurements or sides are absent from every statement citing it; a confirmed
  AI finding that no Findings statement covers (or that its citing statement neither
  mentions nor merges with a dictated sentence).
- omission, low: an uncited dictated sentence that is not report content ("Thank you.",
  ``coverage.yaml``); a template subsection with no statement at all.
- impression_consistency, medium: an asserted impression finding that appears neither in
  Findings nor in any source of the case; an impression that contradicts Findings (asserts
  what every Findings mention negates, or the reverse); a significant new finding asserted
  in Findings but absent from the Impression (statements marked old, stable, benign or
  treated are exempt: they often and rightly stay out of the impression; word list in
  ``coverage.yaml``). No impression at all is also flagged.
- impression_consistency, low: the Impression is only the template's normal impression
  while a Findings sentence from a source says something the vocabularies cannot classify
  (names no known finding, calls nothing normal, denies nothing, marks nothing old or
  stable: "Deep sulcus sign on the left with hyperlucency at the costophrenic angle"). It
  may be an abnormality in words the rules do not know; the radiologist checks that the
  normal impression covers it. Stating such sentences in the Impression instead cost 5
  ROUGE-L points and 0.12 finding F1 on Open-i (1,117 of its training sentences are
  unclassified, most of them "Low lung volumes." or technique remarks), so it is a flag.
"""

from __future__ import annotations

from reportdraft.models import (
    Decision,
    DictationSentence,
    FlagKind,
    SectionKind,
    Severity,
    Statement,
)
from reportdraft.verification.claims import claims_of
from reportdraft.verification.facts import (
    FindingFact,
    exempt_from_impression,
    extract_facts,
    is_generic,
    is_significant,
)
from reportdraft.verification.hierarchy import hierarchy
from reportdraft.verification.run_context import Context, Union, matching, quote, side_supported
from reportdraft.verification.vocabularies import lexicon

HIGH, MEDIUM, LOW = Severity.HIGH, Severity.MEDIUM, Severity.LOW


def check_dictation(ctx: Context) -> None:
    """Omissions of dictated sentences.

    A sentence addressed to the drafting system is not report content and must not be in
    the draft; :mod:`reportdraft.verification.instruction_flags` lists it instead.
    """
    for sentence in ctx.dictation.content():
        _dictated(ctx, sentence)


def ignorable(text: str) -> bool:
    """True for dictated sentences that are not report content ("Thank you.", "Okay.")."""
    bare = text.strip().rstrip(".!?").strip()
    if lexicon().ignorable.fullmatch(bare):
        return True
    return len(bare.split()) < 2 and extract_facts(bare).empty


def _dictated(ctx: Context, sentence: DictationSentence) -> None:
    facts = ctx.facts(sentence.id)
    citing = ctx.citing(sentence.id)
    evidence = [quote(sentence.id, sentence.text)]
    home = sentence.section or SectionKind.FINDINGS
    content = not ignorable(sentence.text)
    if not citing:
        ctx.raise_flag(
            FlagKind.OMISSION,
            HIGH if content else LOW,
            f"dictated sentence {sentence.id} is not in the draft",
            sources=[sentence.id],
            evidence=evidence,
        )
        return
    in_home = [st for st in citing if ctx.section_of.get(st.id) is home]
    if not in_home and content:
        severity = HIGH if home in (SectionKind.FINDINGS, SectionKind.IMPRESSION) else LOW
        ctx.raise_flag(
            FlagKind.OMISSION,
            severity,
            f"dictated {home.value} sentence {sentence.id} is missing from "
            f"{home.value.replace('_', ' ').title()}",
            sources=[sentence.id],
            evidence=evidence,
        )
    union = Union(tuple(extract_facts(st.text) for st in citing))
    first = citing[0]
    evidence += [quote(st.id, st.text) for st in citing[:2]]
    missing = sorted(
        {
            f.text.lower()
            for f in facts.findings
            if not is_generic(f.term) and f.term not in union.terms
        }
    )
    if missing:
        ctx.raise_flag(
            FlagKind.OMISSION,
            HIGH,
            f"{', '.join(missing)} from {sentence.id} is missing from the statement(s) citing it",
            statement=first,
            sources=[sentence.id],
            evidence=evidence,
        )
    if not any(ctx.flagged(st.id, FlagKind.MEASUREMENT) for st in citing):
        lost = [
            q.text
            for q in facts.measurements
            if not any(q.same_as(other) for other in union.measurements)
        ]
        if lost:
            ctx.raise_flag(
                FlagKind.OMISSION,
                HIGH,
                f"measurement(s) {', '.join(lost)} from {sentence.id} missing from the "
                "statement(s) citing it",
                statement=first,
                sources=[sentence.id],
                evidence=evidence,
            )
    if not any(ctx.flagged(st.id, FlagKind.LATERALITY) for st in citing):
        sides = [
            s.value for s in sorted(facts.lateralities) if not side_supported(s, union.lateralities)
        ]
        if sides:
            ctx.raise_flag(
                FlagKind.OMISSION,
                HIGH,
                f"side ({', '.join(sides)}) from {sentence.id} missing from the statement(s) "
                "citing it",
                statement=first,
                sources=[sentence.id],
                evidence=evidence,
            )


def check_ai_findings(ctx: Context) -> None:
    """Every confirmed AI finding must be covered by a Findings statement."""
    findings_statements = ctx.draft.section(SectionKind.FINDINGS)
    for finding in ctx.case.ai_findings:
        if finding.decision is not Decision.CONFIRMED:
            continue
        citing = [st for st in findings_statements if finding.id in st.sources]
        evidence = [quote(finding.id, ctx.texts[finding.id])]
        if not citing:
            ctx.raise_flag(
                FlagKind.OMISSION,
                HIGH,
                f"confirmed AI finding {finding.id} ({finding.description}, {finding.location}) "
                "is not in Findings",
                sources=[finding.id],
                evidence=evidence,
            )
            continue
        terms = ctx.facts(finding.id).terms(generic=False)
        covered = any(
            terms & extract_facts(st.text).terms() or any(s.startswith("D") for s in st.sources)
            for st in citing
        )
        if terms and not covered:
            ctx.raise_flag(
                FlagKind.OMISSION,
                HIGH,
                f"statement cites confirmed AI finding {finding.id} but does not mention "
                f"{finding.description}",
                statement=citing[0],
                sources=[finding.id],
                evidence=[*evidence, quote(citing[0].id, citing[0].text)],
            )


def check_template(ctx: Context) -> None:
    """A template subsection with no statement at all (low: the structure is incomplete);
    a draft on the generic template (low: no specific template fits the study, so nothing
    unmentioned is described as normal — the radiologist must say what was examined).

    A subsection without a normal default is meant to be absent when nobody spoke about
    it, so its absence is not an omission.
    """
    if ctx.template.generic:
        ctx.raise_flag(
            FlagKind.GENERIC_TEMPLATE,
            LOW,
            f"no specific template fits this study ({ctx.case.study.modality.value} "
            f"{ctx.case.study.body_part!r}, {ctx.case.study.procedure.display!r}): drafted on "
            f"the generic template '{ctx.template.id}', with no normal defaults; only what "
            "was dictated is in the draft",
        )
    present = {st.subsection for st in ctx.draft.section(SectionKind.FINDINGS)}
    for sub in ctx.template.findings:
        if sub.key not in present and sub.default is not None:
            ctx.raise_flag(
                FlagKind.OMISSION,
                LOW,
                f"template subsection '{sub.title}' has no statement",
                sources=[f"T:{sub.key}"],
            )


def _asserted(statements: list[Statement]) -> dict[str, list[tuple[Statement, FindingFact]]]:
    found: dict[str, list[tuple[Statement, FindingFact]]] = {}
    for st in statements:
        for fact in extract_facts(st.text).findings:
            found.setdefault(fact.term, []).append((st, fact))
    return found


def check_impression(ctx: Context) -> None:
    """Impression items against Findings and the case; significant findings in Impression."""
    impression = ctx.draft.section(SectionKind.IMPRESSION)
    findings = ctx.draft.section(SectionKind.FINDINGS)
    if not impression:
        if findings:
            ctx.raise_flag(FlagKind.IMPRESSION_CONSISTENCY, MEDIUM, "the draft has no impression")
        return
    in_findings = _asserted(findings)
    case_terms = Union(
        tuple(
            ctx.facts(i)
            for i in ctx.texts
            if i.startswith("D")
            or i == "T:impression"
            or (i in ctx.ai and ctx.ai[i].decision is Decision.CONFIRMED)
        )
    ).terms
    for st in impression:
        if any(src.startswith("G:") for src in st.sources):
            # A guideline recommendation names the finding in the guideline's words ("adrenal
            # mass", "history of cancer"); verification/recommendations.py holds it to the
            # engine's category, actions and intervals instead.
            continue
        evidence = [quote(st.id, st.text)]
        for fact in extract_facts(st.text).findings:
            if is_generic(fact.term) or fact.hypothetical or fact.other:
                continue
            mentions = matching(
                fact,
                [f for _s, f in in_findings.get(fact.term, []) if not f.other],
                fallback=False,
            )
            if fact.asserted and not in_findings.get(fact.term) and fact.term not in case_terms:
                ctx.raise_flag(
                    FlagKind.IMPRESSION_CONSISTENCY,
                    MEDIUM,
                    f"impression item '{fact.text}' has no matching finding in Findings or "
                    "the sources",
                    statement=st,
                    sources=st.sources,
                    evidence=evidence,
                )
            elif mentions and all(m.negated != fact.negated for m in mentions):
                said = "negates" if fact.negated else "asserts"
                ctx.raise_flag(
                    FlagKind.IMPRESSION_CONSISTENCY,
                    MEDIUM,
                    f"impression {said} '{fact.text}'; Findings say the opposite",
                    statement=st,
                    sources=st.sources,
                    evidence=[
                        *evidence,
                        quote(in_findings[fact.term][0][0].id, in_findings[fact.term][0][0].text),
                    ],
                )
    in_impression = {
        f.term
        for f in (x for st in impression for x in extract_facts(st.text).findings)
        if f.asserted
    }
    reported: set[str] = set()
    for term, items in in_findings.items():
        if not is_significant(term) or term in in_impression or term in reported:
            continue
        for st, fact in items:
            if not fact.asserted:
                continue
            if exempt_from_impression(st.text):
                continue
            ctx.raise_flag(
                FlagKind.IMPRESSION_CONSISTENCY,
                MEDIUM,
                f"significant finding '{fact.text}' is in Findings but not in the Impression",
                statement=st,
                sources=st.sources,
                evidence=[quote(st.id, st.text)],
            )
            reported.add(term)
            break
    _normal_beside_unclassified(ctx, impression, findings)


def unclassified(text: str) -> bool:
    """A Findings text that names no finding the vocabularies know, has no normal word
    ("intact", "clear") and no negation, marks nothing old or stable, makes no remark on
    the examination (``coverage.yaml`` remarks) and is not mere dictation filler."""
    facts = extract_facts(text)
    return not (
        facts.findings
        or facts.negations
        or hierarchy().normal.search(text)
        or exempt_from_impression(text)
        or lexicon().remarks.pattern.search(text)
        or claims_of(text)
        or ignorable(text)
    )


def _normal_beside_unclassified(
    ctx: Context, impression: list[Statement], findings: list[Statement]
) -> None:
    """The low flag of a normal-only Impression beside unclassified Findings (module docs)."""
    if not all(all(s.startswith("T:") for s in st.sources) for st in impression):
        return
    odd = [st for st in findings if any(s[0] in "DA" for s in st.sources) and unclassified(st.text)]
    if not odd:
        return
    said = "; ".join(f"{st.id} '{st.text}'" for st in odd[:3])
    ctx.raise_flag(
        FlagKind.IMPRESSION_CONSISTENCY,
        LOW,
        f"the Impression is the template's normal impression, but Findings say what the "
        f"rules cannot classify ({said}): check that the Impression covers it"[:500],
        statement=impression[0],
        sources=[*impression[0].sources, *(s for st in odd[:3] for s in st.sources)],
        evidence=[quote(st.id, st.text) for st in odd[:3]],
    )
