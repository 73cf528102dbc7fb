"""Values the evaluation tests build from the domain models (no pipeline needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from reportdraft.evaluation.scope import CaseContext
from reportdraft.evaluation.suite import EvalCase, Reference
from reportdraft.models import (
    Case,
    Draft,
    DraftProvenance,
    DraftSection,
    Flag,
    FlagKind,
    SectionKind,
    Severity,
    Statement,
    Usage,
)
from tests.factories import case_dict

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def make_case(accession: str, dictation: str, modality: str = "XR") -> Case:
    """A valid case with this accession, dictation and modality."""
    data = case_dict(accession_number=accession, modality=modality)
    data["dictation"] = dictation
    return Case.model_validate(data)


def make_item(
    accession: str, dictation: str, impression: str | None, modality: str = "XR"
) -> EvalCase:
    """An eval case whose reference is an impression."""
    return EvalCase(
        id=accession.lower(),
        case=make_case(accession, dictation, modality),
        reference=Reference(impression=impression),
    )


def sentences(text: str) -> list[str]:
    """Sentence split on full stops (enough for the tests' plain dictations)."""
    return [s.strip() for s in re.split(r"(?<=\.)\s+", text.strip()) if s.strip()]


def draft_of(
    case: Case,
    *,
    findings: list[str] | None = None,
    impression: list[str] | None = None,
    flags: list[tuple[FlagKind, str | None, list[str]]] | None = None,
    usage: Usage | None = None,
) -> Draft:
    """A draft with findings/impression statements citing D1.. and the given flags."""
    findings = findings if findings is not None else sentences(case.dictation)
    impression = impression if impression is not None else findings[-1:]
    statements: list[tuple[SectionKind, Statement]] = []
    number = 0
    for kind, texts in ((SectionKind.FINDINGS, findings), (SectionKind.IMPRESSION, impression)):
        for text in texts:
            number += 1
            statements.append(
                (
                    kind,
                    Statement(
                        id=f"S{number}", subsection="lungs", text=text, sources=[f"D{number}"]
                    ),
                )
            )
    sections = [
        DraftSection(
            kind=SectionKind.TECHNIQUE,
            statements=[
                Statement(
                    id="S900", text="PA and lateral views of the chest.", sources=["T:technique"]
                )
            ],
        ),
        *(
            DraftSection(kind=kind, statements=[st for k, st in statements if k is kind])
            for kind in (SectionKind.FINDINGS, SectionKind.IMPRESSION)
        ),
    ]
    return Draft(
        accession_number=case.study.accession_number,
        template_id="xr_chest_2v",
        template_version="1.0",
        sections=sections,
        flags=[
            Flag(
                id=f"F{i}",
                kind=kind,
                severity=Severity.HIGH,
                message=f"{kind.value} problem",
                statement_id=sid,
                sources=sources,
            )
            for i, (kind, sid, sources) in enumerate(flags or [], start=1)
        ],
        provenance=DraftProvenance(
            backend="test", model="echo", usage=usage or Usage(), created_at=NOW
        ),
    )


def echo_drafter(case: Case) -> Draft:
    """A deterministic drafter: dictated sentences become findings, the last the impression.

    Cases whose accession ends in ``-BAD`` get an unsupported-statement flag, so that the
    grounding metrics have something to count.
    """
    flags: list[tuple[FlagKind, str | None, list[str]]] = []
    if case.study.accession_number.endswith("-BAD"):
        flags.append((FlagKind.UNSUPPORTED, "S1", ["D1"]))
        flags.append((FlagKind.LATERALITY, "S1", ["D1"]))
    return draft_of(case, flags=flags, usage=Usage(prompt_tokens=10, completion_tokens=5, calls=1))


def contexts(items: list[EvalCase]) -> list[CaseContext]:
    """Contexts without the pipeline (no normalised dictation, no template)."""
    return [CaseContext(item=item) for item in items]


def suite_dict(**overrides: Any) -> dict[str, Any]:
    """A valid suite mapping."""
    data: dict[str, Any] = {
        "name": "unit",
        "cases": "cases.jsonl",
        "systems": [{"name": "echo", "backend": "rules"}],
    }
    data.update(overrides)
    return data
