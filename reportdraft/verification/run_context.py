"""What every check needs: the case's sources with their facts, and a way to raise a flag."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from reportdraft.models import (
    AIFinding,
    Case,
    Decision,
    Draft,
    Flag,
    FlagKind,
    Laterality,
    NormalizedDictation,
    SectionKind,
    Severity,
    Statement,
    Template,
)
from reportdraft.verification.facts import Facts, FindingFact, extract_facts
from reportdraft.verification.quantities import Quantity

EVIDENCE_CHARS = 200
"""Quotes are cut to this length: evidence is for a glance, the sources are one click away."""


def quote(label: str, text: str) -> str:
    """``label: "text"`` with the text shortened to :data:`EVIDENCE_CHARS`."""
    text = " ".join(text.split())
    if len(text) > EVIDENCE_CHARS:
        text = text[: EVIDENCE_CHARS - 1] + "…"
    return f'{label}: "{text}"'


@dataclass(frozen=True)
class Union:
    """The facts of several source texts taken together (what a statement may say)."""

    parts: tuple[Facts, ...]

    @cached_property
    def findings(self) -> tuple[FindingFact, ...]:
        """Every finding mention of every part."""
        return tuple(f for p in self.parts for f in p.findings)

    @cached_property
    def terms(self) -> set[str]:
        """Every concept mentioned (any polarity)."""
        return {f.term for f in self.findings}

    @cached_property
    def anatomy(self) -> set[str]:
        """Every anatomy id."""
        return {a for p in self.parts for a in p.anatomy}

    @cached_property
    def qualifiers(self) -> set[str]:
        """Every qualifier group."""
        return {q for p in self.parts for q in p.qualifiers}

    @cached_property
    def lateralities(self) -> set[Laterality]:
        """Every side named."""
        return {s for p in self.parts for s in p.lateralities}

    @cached_property
    def sited_anatomy(self) -> set[tuple[str, Laterality]]:
        """Every ``(anatomy, side)`` pair."""
        return {pair for p in self.parts for pair in p.sited_anatomy}

    @cached_property
    def sited_measurements(self) -> set[tuple[str, float, Laterality]]:
        """Every ``(dimension, base value, side)`` triple."""
        return {t for p in self.parts for t in p.sited_measurements}

    @cached_property
    def side_order(self) -> set[str]:
        """Every side comparison (``right>left``)."""
        return {o for p in self.parts for o in p.side_order}

    @cached_property
    def measurements(self) -> tuple[Quantity, ...]:
        """Every measurement."""
        return tuple(q for p in self.parts for q in p.measurements)

    @cached_property
    def numbers(self) -> set[float]:
        """Bare numbers, plus the values of measurements (a statement may drop a unit)."""
        return {n for p in self.parts for n in p.numbers} | {q.value for q in self.measurements}

    @cached_property
    def codes(self) -> set[str]:
        """Levels and categories."""
        return {c for p in self.parts for c in p.codes}

    @cached_property
    def dates(self) -> set[str]:
        """Dates and times."""
        return {d for p in self.parts for d in p.dates}

    def mentions(self, term: str) -> list[FindingFact]:
        """Every mention of ``term``."""
        return [f for f in self.findings if f.term == term]


def side_supported(side: Laterality, available: set[Laterality]) -> bool:
    """A side is supported by the same side, or "bilateral" by both sides named separately."""
    if side in available:
        return True
    return side is Laterality.BILATERAL and {Laterality.LEFT, Laterality.RIGHT} <= available


def same_place(a: FindingFact, b: FindingFact) -> bool:
    """Two mentions of a finding can be about the same thing: no conflicting side or anatomy.

    Used to compare a statement's mention with the right source mention when a source names
    the same finding twice ("distended gallbladder ... no biliary dilatation").
    """
    if (
        a.laterality is not None
        and b.laterality is not None
        and not (
            a.laterality == b.laterality or Laterality.BILATERAL in (a.laterality, b.laterality)
        )
    ):
        return False
    return not (a.anatomy and b.anatomy and not set(a.anatomy) & set(b.anatomy))


def matching(
    mention: FindingFact, candidates: Iterable[FindingFact], *, fallback: bool = True
) -> list[FindingFact]:
    """Candidates of the same concept at a compatible place; with ``fallback``, all
    candidates of the concept when none is at a compatible place."""
    same = [c for c in candidates if c.term == mention.term]
    placed = [c for c in same if same_place(mention, c)]
    return placed or (same if fallback else [])


@dataclass
class Context:
    """One verification run: the inputs, their source texts and facts, and the flags so far."""

    draft: Draft
    case: Case
    dictation: NormalizedDictation
    template: Template
    texts: dict[str, str]
    flags: list[Flag] = field(default_factory=list)

    @cached_property
    def ai(self) -> dict[str, AIFinding]:
        """AI findings by id."""
        return {f.id: f for f in self.case.ai_findings}

    @cached_property
    def section_of(self) -> dict[str, SectionKind]:
        """Statement id to its section."""
        return {st.id: sec.kind for sec in self.draft.sections for st in sec.statements}

    def facts(self, source_id: str) -> Facts:
        """Facts of a source id's text (empty text for an unknown id)."""
        return extract_facts(self.texts.get(source_id, ""))

    def supporting(self, statement: Statement) -> list[str]:
        """The cited ids that may support content: known, and not a rejected/pending AI."""
        ids = []
        for source in statement.sources:
            if source not in self.texts:
                continue
            finding = self.ai.get(source)
            if finding is not None and finding.decision is not Decision.CONFIRMED:
                continue
            ids.append(source)
        return ids

    def union(self, ids: Iterable[str]) -> Union:
        """The facts of ``ids`` taken together."""
        return Union(tuple(self.facts(i) for i in ids))

    def citing(self, source_id: str) -> list[Statement]:
        """Statements that cite ``source_id``."""
        return [st for st in self.draft.statements() if source_id in st.sources]

    def raise_flag(
        self,
        kind: FlagKind,
        severity: Severity,
        message: str,
        *,
        statement: Statement | None = None,
        sources: Iterable[str] = (),
        evidence: Iterable[str] = (),
    ) -> None:
        """Record a flag (placeholder id; :func:`reportdraft.verification.verify` numbers them)."""
        if (
            statement is not None
            and statement.generator == "radiologist"
            and (kind is FlagKind.UNSUPPORTED)
        ):
            severity = Severity.LOW  # the radiologist is the author, not a source to check
        known = list(dict.fromkeys(sources))
        self.flags.append(
            Flag(
                id="F1",
                kind=kind,
                severity=severity,
                message=message[:500],
                statement_id=statement.id if statement is not None else None,
                sources=known,
                evidence=[e[:500] for e in evidence][:6],
            )
        )

    def flagged(self, statement_id: str, kind: FlagKind) -> bool:
        """True when ``statement_id`` already has a flag of ``kind``."""
        return any(f.statement_id == statement_id and f.kind is kind for f in self.flags)
