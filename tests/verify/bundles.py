"""Verification bundles: a case, its normalised dictation, its template and a draft, in one
small YAML file; and real signed reports turned into the same four inputs.

Test and bench helpers, not part of the package: the verifier's tests, the error-injection
set (``tests/verify/test_injection.py``) and ``bench/verify_injection.py`` read them.

Why: the verifier's test and benchmark sets must be written by hand (clean drafts a
radiologist would sign) and must not depend on the dictation normaliser or template library
being finished. A bundle spells out exactly the four inputs of
:func:`reportdraft.verification.verify` with little boilerplate: study and patient fields
are merged over neutral defaults, dictation is a list of ``[section, text]`` pairs (ids
``D1``... in order), and a statement's text may be ``"@<source id>"`` to reuse that source's
text verbatim (template defaults, the rendered technique).

Layout::

    name: xr_chest_effusion
    template: xr_chest              # id of a template in the templates file
    study: {...}                    # StudyContext fields over the defaults
    patient: {...}                  # optional
    ai_findings: [...]              # AIFinding fields; ``algorithm`` may be omitted
    dictation: [[null, "text"], [impression, "text"]]
    draft:
      technique: [["@T:technique", [T:technique, C:procedure]]]
      findings: [[lungs, "text", [D1, A1]]]
      impression: [["text", [D2]]]
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reportdraft.errors import InputError
from reportdraft.evaluation.injection import Sample
from reportdraft.models import (
    Case,
    DictationSentence,
    Draft,
    DraftProvenance,
    DraftSection,
    NormalizedDictation,
    SectionKind,
    Statement,
    Template,
)
from reportdraft.verification import source_texts
from reportdraft.verification.assertion_context import sentences

_STUDY: dict[str, Any] = {
    "priority": "routine",
    "ordering_physician": {"name": "Dr. Ana Ortiz"},
    "performing_facility": {"name": "Verifier Test Imaging"},
    "acquisition_time": "2026-03-02T09:30:00Z",
    "patient_location": "CA",
}
_PATIENT: dict[str, Any] = {
    "id": "MRN-VERIFY",
    "name": {"family": "Doe", "given": ["Alex"]},
    "sex": "unknown",
    "birth_date": "1960-05-17",
}
_ALGORITHM = {"name": "TestCAD", "version": "1.0"}
_KEYS = {"name", "template", "study", "patient", "ai_findings", "dictation", "draft"}

__all__ = ["Sample", "load_bundle", "load_bundles", "load_templates", "sample_from_report"]


def sample_from_report(
    name: str,
    findings: str,
    impression: str,
    template: Template,
    study: dict[str, Any],
) -> Sample:
    """A report as if dictated sentence by sentence and drafted verbatim.

    Each sentence of ``findings`` (then of ``impression``) becomes a dictated sentence and
    one statement citing it, routed to the first template subsection whose terms it
    contains. Why: real signed reports (Open-i, MTSamples) give clean drafts in language
    nobody on the project wrote, to measure false flags and injected-error detection on.
    """
    items: list[list[Any]] = [[None, t] for t in _split(findings)]
    items += [["impression", t] for t in _split(impression)]
    if not items:
        raise InputError(f"{name}: the report has no sentences")
    dictation = _dictation(items)
    case = Case.model_validate(
        {
            "study": copy.deepcopy(_STUDY) | study,
            "patient": copy.deepcopy(_PATIENT),
            "dictation": dictation.raw,
        }
    )
    texts = source_texts(case, dictation, template)
    spec: dict[str, list[list[Any]]] = {
        "technique": [["@T:technique", ["T:technique", "C:procedure"]]],
        "clinical_history": [["@C:indication", ["C:indication"]]],
        "findings": [],
        "impression": [],
    }
    for sentence in dictation.sentences:
        if sentence.section is SectionKind.IMPRESSION:
            spec["impression"].append([sentence.text, [sentence.id]])
        else:
            spec["findings"].append([_route(template, sentence.text), sentence.text, [sentence.id]])
    draft = Draft(
        accession_number=case.study.accession_number,
        template_id=template.id,
        template_version=template.version,
        sections=_statements(spec, texts),
        provenance=DraftProvenance(
            backend="verbatim", created_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        ),
    )
    return Sample(name=name, case=case, dictation=dictation, template=template, draft=draft)


def _split(text: str) -> list[str]:
    return [text[s:e].strip() for s, e in sentences(text) if re.search(r"[A-Za-z]", text[s:e])]


def _route(template: Template, text: str) -> str:
    lowered = text.lower()
    for sub in template.findings:
        if any(term in lowered for term in sub.terms):
            return sub.key
    return template.findings[0].key


def load_templates(path: Path) -> dict[str, Template]:
    """Templates from a YAML list, by id (validated like any template)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        templates = [Template.model_validate(item) for item in raw["templates"]]
    except (KeyError, TypeError, ValidationError) as exc:
        raise InputError(f"{path.name}: invalid templates file: {exc}") from exc
    return {t.id: t for t in templates}


def _dictation(items: list[list[Any]]) -> NormalizedDictation:
    sentences = []
    raw = ""
    for index, (section, text) in enumerate(items, start=1):
        if raw:
            raw += " "
        start = len(raw)
        raw += text
        sentences.append(
            DictationSentence(
                id=f"D{index}",
                text=text,
                start=start,
                end=len(raw),
                section=SectionKind(section) if section else None,
            )
        )
    return NormalizedDictation(raw=raw, sentences=sentences)


def _statements(spec: dict[str, list[list[Any]]], texts: dict[str, str]) -> list[DraftSection]:
    sections = []
    counter = 1
    for kind in SectionKind:
        if kind.value not in spec:
            continue
        statements = []
        for item in spec[kind.value]:
            subsection, text, sources = item if len(item) == 3 else (None, *item)
            if text.startswith("@"):
                text = texts[text[1:]]
            statements.append(
                Statement(id=f"S{counter}", subsection=subsection, text=text, sources=list(sources))
            )
            counter += 1
        sections.append(DraftSection(kind=kind, statements=statements))
    return sections


def load_bundle(path: Path, templates: dict[str, Template]) -> Sample:
    """Read one bundle file; errors name the file and the failing field."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    unknown = set(data) - _KEYS
    if unknown:
        raise InputError(f"{path.name}: unknown key(s) {', '.join(sorted(unknown))}")
    try:
        template = templates[data["template"]]
        study = copy.deepcopy(_STUDY) | data["study"]
        case = Case.model_validate(
            {
                "study": study,
                "patient": copy.deepcopy(_PATIENT) | data.get("patient", {}),
                "dictation": " ".join(text for _section, text in data["dictation"]),
                "ai_findings": [{"algorithm": _ALGORITHM} | f for f in data.get("ai_findings", [])],
            }
        )
        dictation = _dictation(data["dictation"])
        texts = source_texts(case, dictation, template)
        draft = Draft(
            accession_number=case.study.accession_number,
            template_id=template.id,
            template_version=template.version,
            sections=_statements(data["draft"], texts),
            provenance=DraftProvenance(
                backend="handwritten", created_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
            ),
        )
    except (KeyError, ValueError, ValidationError) as exc:
        raise InputError(f"{path.name}: invalid bundle: {exc}") from exc
    return Sample(
        name=data.get("name", path.stem),
        case=case,
        dictation=dictation,
        template=template,
        draft=draft,
    )


def load_bundles(directory: Path, templates_file: str = "templates.yaml") -> list[Sample]:
    """Every ``*.yaml`` bundle of ``directory`` except the templates file, sorted by name."""
    templates = load_templates(directory / templates_file)
    return [
        load_bundle(path, templates)
        for path in sorted(directory.glob("*.yaml"))
        if path.name != templates_file
    ]
