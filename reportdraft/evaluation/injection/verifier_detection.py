"""The verifier's error-injection set: take correct drafts, plant one known error, see
whether the verifier catches it.

Generic over :class:`Sample` values (case, dictation, template, draft), so the same harness
measures hand-written clean drafts, the rules drafter's drafts of the examples, or any
backend's output that a radiologist marked correct (``tests/verify/bundles.py`` and
``tests/verify/corpora.py`` build them); ``tests/verify/test_injection.py`` holds the
verifier to its detection thresholds and ``bench/verify_injection.py`` records the numbers.

Error kinds (each a real change of meaning, made by the shared injection rules of
:mod:`.rewrites`, which do not use the verifier's own vocabulary):

- ``laterality_swap``: every left <-> right in one statement;
- ``measurement_value``: one length changed (2.3 cm -> 3.2 cm, 6 mm -> 9 mm);
- ``measurement_unit``: one length's unit slipped (2.3 cm -> 2.3 mm);
- ``negation_removed``: "No pneumothorax." -> "Pneumothorax.";
- ``negation_added``: "There is a small effusion." -> "There is no small effusion.";
- ``dropped_finding``: a Findings statement that reports dictated or AI content removed;
- ``unsupported_finding``: a finding no source mentions added (as a new statement citing a
  neighbour's sources, or appended to an existing statement);
- ``rejected_ai_finding``: a rejected AI finding written into the draft (citing its id,
  citing a neighbour's sources, or appended to an existing statement).

The control ``equivalent_unit`` (2.3 cm -> 23 mm) is *not* an error: a flag there is a false
flag. A detection is a new high/medium flag, absent from the clean draft's flags, on the
changed statement or naming the sources involved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from reportdraft.evaluation.injection.rewrites import (
    InjectionRules,
    LengthEdit,
    add_negation,
    default_rules,
    edit_length,
    remove_negation,
    swap_laterality,
)
from reportdraft.models import (
    AIFinding,
    Case,
    Decision,
    Draft,
    DraftSection,
    Flag,
    FlagKind,
    NormalizedDictation,
    SectionKind,
    Severity,
    Statement,
    Template,
)


@dataclass(frozen=True)
class Sample:
    """The four inputs of the verifier, with a name for reports."""

    name: str
    case: Case
    dictation: NormalizedDictation
    template: Template
    draft: Draft


Verifier = Callable[[Sample, Draft], list[Flag]]

MAX_PER_KIND = 3
"""Injections per kind per draft: enough variety without letting one long draft dominate."""


class InjectionKind(StrEnum):
    """The planted error (or the equivalence control)."""

    LATERALITY_SWAP = "laterality_swap"
    MEASUREMENT_VALUE = "measurement_value"
    MEASUREMENT_UNIT = "measurement_unit"
    NEGATION_REMOVED = "negation_removed"
    NEGATION_ADDED = "negation_added"
    DROPPED_FINDING = "dropped_finding"
    UNSUPPORTED_FINDING = "unsupported_finding"
    REJECTED_AI_FINDING = "rejected_ai_finding"
    EQUIVALENT_UNIT = "equivalent_unit"


EXPECTED: dict[InjectionKind, FlagKind | None] = {
    InjectionKind.LATERALITY_SWAP: FlagKind.LATERALITY,
    InjectionKind.MEASUREMENT_VALUE: FlagKind.MEASUREMENT,
    InjectionKind.MEASUREMENT_UNIT: FlagKind.MEASUREMENT,
    InjectionKind.NEGATION_REMOVED: FlagKind.NEGATION,
    InjectionKind.NEGATION_ADDED: FlagKind.NEGATION,
    InjectionKind.DROPPED_FINDING: FlagKind.OMISSION,
    InjectionKind.UNSUPPORTED_FINDING: FlagKind.UNSUPPORTED,
    InjectionKind.REJECTED_AI_FINDING: FlagKind.REJECTED_AI_FINDING,
    InjectionKind.EQUIVALENT_UNIT: None,
}


@dataclass(frozen=True)
class Injection:
    """One injected draft and where its error is."""

    kind: InjectionKind
    sample: str
    draft: Draft
    statement_ids: frozenset[str]
    sources: frozenset[str]
    description: str


def _replace(draft: Draft, statement_id: str, new: list[Statement]) -> Draft:
    sections = [
        DraftSection(
            kind=sec.kind,
            statements=[
                x for st in sec.statements for x in (new if st.id == statement_id else [st])
            ],
        )
        for sec in draft.sections
    ]
    return draft.model_copy(update={"sections": sections})


def _next_id(draft: Draft) -> str:
    return f"S{max(int(st.id[1:]) for st in draft.statements()) + 1}"


def _capitalise(text: str) -> str:
    text = text.lstrip()
    return text[:1].upper() + text[1:]


def _edit(sample: Sample, kind: InjectionKind, st: Statement, text: str, what: str) -> Injection:
    changed = st.model_copy(update={"text": text})
    return Injection(
        kind=kind,
        sample=sample.name,
        draft=_replace(sample.draft, st.id, [changed]),
        statement_ids=frozenset({st.id}),
        sources=frozenset(st.sources),
        description=f"{sample.name} {st.id}: {what}: {st.text!r} -> {text!r}",
    )


def _content(sample: Sample, kinds: tuple[SectionKind, ...]) -> list[Statement]:
    """Statements of ``kinds`` sections, in order."""
    return [st for kind in kinds for st in sample.draft.section(kind)]


def _dictated_or_ai(st: Statement) -> bool:
    return any(s.startswith(("D", "A")) for s in st.sources)


def _swap_sides(sample: Sample, rules: InjectionRules) -> Iterator[Injection]:
    kinds = (SectionKind.TECHNIQUE, SectionKind.FINDINGS, SectionKind.IMPRESSION)
    for st in _content(sample, kinds):
        swapped = swap_laterality(st.text, rules)
        if swapped is not None:
            yield _edit(sample, InjectionKind.LATERALITY_SWAP, st, swapped, "swap left/right")


Generator = Callable[[Sample, InjectionRules], Iterator[Injection]]
"""Every injection of one kind into a sample, in draft order (unchanged drafts included)."""


def _lengths(kind: InjectionKind, edit: LengthEdit) -> Generator:
    def generate(sample: Sample, rules: InjectionRules) -> Iterator[Injection]:
        for st in _content(sample, (SectionKind.FINDINGS, SectionKind.IMPRESSION)):
            text = edit_length(st.text, edit, rules)
            if text is not None:
                yield _edit(sample, kind, st, text, kind.value.replace("_", " "))

    return generate


def _remove_negation(sample: Sample, rules: InjectionRules) -> Iterator[Injection]:
    for st in _content(sample, (SectionKind.FINDINGS, SectionKind.IMPRESSION)):
        text = remove_negation(st.text, rules)
        if text is not None:
            yield _edit(sample, InjectionKind.NEGATION_REMOVED, st, text, "remove negation")


def _add_negation(sample: Sample, rules: InjectionRules) -> Iterator[Injection]:
    for st in _content(sample, (SectionKind.FINDINGS, SectionKind.IMPRESSION)):
        if not _dictated_or_ai(st):
            continue
        text = add_negation(st.text, rules)
        if text is not None:
            yield _edit(sample, InjectionKind.NEGATION_ADDED, st, text, "add negation")


def _drop(sample: Sample, _rules: InjectionRules) -> Iterator[Injection]:
    for st in sample.draft.section(SectionKind.FINDINGS):
        if not _dictated_or_ai(st):
            continue
        yield Injection(
            kind=InjectionKind.DROPPED_FINDING,
            sample=sample.name,
            draft=_replace(sample.draft, st.id, []),
            statement_ids=frozenset({st.id}),
            sources=frozenset(s for s in st.sources if s.startswith(("D", "A"))),
            description=f"{sample.name} {st.id}: drop {st.text!r}",
        )


def _add(
    sample: Sample,
    kind: InjectionKind,
    text: str,
    anchor: Statement,
    variant: int,
    cite: list[str] | None = None,
) -> Injection:
    """Plant ``text`` next to ``anchor``: variant 0 a new statement, 1 appended to it."""
    if variant == 1:
        return _edit(sample, kind, anchor, f"{anchor.text} {text}", "append")
    new = Statement(
        id=_next_id(sample.draft),
        subsection=anchor.subsection,
        text=text,
        sources=cite or list(anchor.sources),
        generator="model",
    )
    return Injection(
        kind=kind,
        sample=sample.name,
        draft=_replace(sample.draft, anchor.id, [anchor, new]),
        statement_ids=frozenset({new.id}),
        sources=frozenset(new.sources),
        description=f"{sample.name} {new.id}: add {text!r} citing {new.sources}",
    )


def _unsupported(sample: Sample, rules: InjectionRules) -> Iterator[Injection]:
    everything = " ".join(
        [
            sample.dictation.raw,
            *(st.text for st in sample.draft.statements()),
            *(f"{f.description} {f.location} {f.finding_type}" for f in sample.case.ai_findings),
            *(sub.default or "" for sub in sample.template.findings),
        ]
    ).lower()
    anchors = sample.draft.section(SectionKind.FINDINGS)
    fresh = [f.text for f in rules.unsupported_findings if f.absent not in everything]
    for index, text in enumerate(fresh[:MAX_PER_KIND]):
        if anchors:
            yield _add(
                sample,
                InjectionKind.UNSUPPORTED_FINDING,
                text,
                anchors[(index * 2) % len(anchors)],
                variant=index % 2,
            )


def _ai_text(finding: AIFinding) -> str:
    location = finding.location
    if finding.laterality and finding.laterality.value not in location.lower():
        location = f"{finding.laterality.value} {location}"
    text = f"{_capitalise(finding.description)} in the {location}"
    if finding.measurements:
        m = finding.measurements[0]
        text += f", measuring {m.value:g} {m.unit}"
    return text + "."


def _rejected(sample: Sample, _rules: InjectionRules) -> Iterator[Injection]:
    findings = sample.draft.section(SectionKind.FINDINGS)
    impression = sample.draft.section(SectionKind.IMPRESSION)
    anchor = next((st for st in findings if _dictated_or_ai(st)), findings[0] if findings else None)
    if anchor is None:
        return
    for finding in sample.case.ai_findings:
        if finding.decision is not Decision.REJECTED:
            continue
        text = _ai_text(finding)
        yield _add(sample, InjectionKind.REJECTED_AI_FINDING, text, anchor, 0, [finding.id])
        yield _add(sample, InjectionKind.REJECTED_AI_FINDING, text, anchor, 0)
        yield _add(
            sample,
            InjectionKind.REJECTED_AI_FINDING,
            text,
            impression[0] if impression else anchor,
            1,
        )


_GENERATORS: dict[InjectionKind, Generator] = {
    InjectionKind.LATERALITY_SWAP: _swap_sides,
    InjectionKind.MEASUREMENT_VALUE: _lengths(InjectionKind.MEASUREMENT_VALUE, LengthEdit.VALUE),
    InjectionKind.MEASUREMENT_UNIT: _lengths(InjectionKind.MEASUREMENT_UNIT, LengthEdit.UNIT),
    InjectionKind.NEGATION_REMOVED: _remove_negation,
    InjectionKind.NEGATION_ADDED: _add_negation,
    InjectionKind.DROPPED_FINDING: _drop,
    InjectionKind.UNSUPPORTED_FINDING: _unsupported,
    InjectionKind.REJECTED_AI_FINDING: _rejected,
    InjectionKind.EQUIVALENT_UNIT: _lengths(InjectionKind.EQUIVALENT_UNIT, LengthEdit.EQUIVALENT),
}


def inject(
    sample: Sample,
    kind: InjectionKind,
    limit: int = MAX_PER_KIND,
    rules: InjectionRules | None = None,
) -> list[Injection]:
    """Up to ``limit`` injections of ``kind`` into ``sample`` (none when it does not apply),
    made by ``rules`` (default: the bundled ones)."""
    out: list[Injection] = []
    for injection in _GENERATORS[kind](sample, rules or default_rules()):
        if injection.draft.statements() != sample.draft.statements():
            out.append(injection)
        if len(out) >= limit:
            break
    return out


def _key(flag: Flag) -> tuple[str, str | None, str]:
    return (flag.kind.value, flag.statement_id, flag.message)


def _blocking(flags: list[Flag]) -> list[Flag]:
    return [f for f in flags if f.severity in (Severity.HIGH, Severity.MEDIUM)]


def _related(flag: Flag, injection: Injection) -> bool:
    if flag.statement_id in injection.statement_ids:
        return True
    return bool(set(flag.sources) & injection.sources) and (
        flag.statement_id is None or flag.kind is FlagKind.OMISSION
    )


@dataclass
class KindResult:
    """Detection numbers of one injection kind."""

    kind: str
    expected_flag: str | None
    injected: int = 0
    detected: int = 0
    expected_kind_detected: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Detected / injected (for the control: flagged / rewritten)."""
        return self.detected / self.injected if self.injected else 0.0


@dataclass
class Report:
    """Per-kind detection and the false-flag rate on the clean drafts."""

    clean_drafts: int = 0
    clean_flagged: int = 0
    clean_flags: list[str] = field(default_factory=list)
    kinds: dict[str, KindResult] = field(default_factory=dict)

    @property
    def clean_false_flag_rate(self) -> float:
        """Share of clean drafts with any high/medium flag."""
        return self.clean_flagged / self.clean_drafts if self.clean_drafts else 0.0


def evaluate(
    samples: list[Sample],
    verifier: Verifier,
    kinds: tuple[InjectionKind, ...] = tuple(InjectionKind),
    rules: InjectionRules | None = None,
) -> Report:
    """Verify every clean sample and every injection of ``kinds``; count what was caught."""
    rules = rules or default_rules()
    report = Report(kinds={k.value: KindResult(k.value, _expected(k)) for k in kinds})
    for sample in samples:
        clean = _blocking(verifier(sample, sample.draft))
        report.clean_drafts += 1
        if clean:
            report.clean_flagged += 1
            report.clean_flags += [
                f"{sample.name} {f.statement_id or '-'} {f.kind.value}: {f.message}" for f in clean
            ]
        known = {_key(f) for f in clean}
        for kind in kinds:
            result = report.kinds[kind.value]
            for injection in inject(sample, kind, rules=rules):
                flags = [
                    f
                    for f in _blocking(verifier(sample, injection.draft))
                    if _key(f) not in known and _related(f, injection)
                ]
                result.injected += 1
                if flags:
                    result.detected += 1
                    if any(f.kind is EXPECTED[kind] for f in flags):
                        result.expected_kind_detected += 1
                else:
                    result.misses.append(injection.description)
    return report


def _expected(kind: InjectionKind) -> str | None:
    expected = EXPECTED[kind]
    return expected.value if expected else None
