"""Build and draft the cases of ``cases.yaml`` (template defaults against their sources)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reportdraft.dictation import normalize
from reportdraft.drafting.deterministic import draft_with_rules
from reportdraft.models import Case, Draft, NormalizedDictation, SectionKind, Template
from reportdraft.templates import default_library
from tests.factories import case_dict

CASES = Path(__file__).parent / "cases.yaml"
_CONTRAST = {"any": "none", "none": "none", "with": "with", "without_and_with": "without_and_with"}


@dataclass(frozen=True)
class DefaultCase:
    """One case of ``cases.yaml``."""

    id: str
    template: str
    dictation: str
    ai: list[dict[str, Any]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    kept_whole: list[str] = field(default_factory=list)
    internal: bool | None = None
    conflict: bool | None = None

    @property
    def expects_conflict(self) -> bool:
        """A low default_conflict flag is expected."""
        return bool(self.gone) if self.conflict is None else self.conflict


def load_cases() -> list[DefaultCase]:
    """Every case of ``cases.yaml``."""
    raw = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    return [DefaultCase(**item) for item in raw["cases"]]


def build(spec: DefaultCase) -> tuple[Case, NormalizedDictation, Template]:
    """The case, its normalised dictation and the template it is drafted on."""
    template = default_library().get(spec.template)
    code = template.procedure_codes[0]
    data = case_dict(
        procedure={"system": code.system, "code": code.code, "display": code.display},
        modality=template.modality.value,
        body_part=template.body_parts[0],
        contrast=_CONTRAST[template.contrast],
    )
    data["dictation"] = spec.dictation
    data["ai_findings"] = [
        {
            "id": f"A{i}",
            "algorithm": {"name": "Test AI", "version": "1.0"},
            "confidence": 0.9,
            "decision": "confirmed",
            **finding,
        }
        for i, finding in enumerate(spec.ai, start=1)
    ]
    case = Case.model_validate(data)
    dictation = normalize(case.dictation)
    selected = default_library().select(case.study)
    if selected.id != template.id:
        raise AssertionError(f"{spec.id}: selected {selected.id}, wanted {template.id}")
    return case, dictation, template


def draft(spec: DefaultCase) -> tuple[Case, NormalizedDictation, Template, Draft]:
    """The rules drafter's draft of ``spec``."""
    case, dictation, template = build(spec)
    return case, dictation, template, draft_with_rules(case, dictation, template)


def default_texts(result: Draft) -> list[str]:
    """Texts of the Findings statements that cite a template default."""
    return [
        st.text
        for st in result.section(SectionKind.FINDINGS)
        if any(src.startswith("T:") for src in st.sources)
    ]


def contradictions(spec: DefaultCase, result: Draft) -> list[str]:
    """The ``gone`` texts that the draft's defaults still say."""
    texts = [t.lower() for t in default_texts(result)]
    return [g for g in spec.gone if any(g.lower() in t for t in texts)]
