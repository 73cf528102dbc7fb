"""Sample sets for measuring the verifier: hand-written bundles, the rules drafter's drafts of
the bundled examples, and real signed reports (Open-i, MTSamples) drafted verbatim.

Each function returns :class:`~reportdraft.evaluation.injection.Sample` values for
:func:`reportdraft.evaluation.injection.evaluate`. The real-report sets read the public
data folder named by ``REPORTDRAFT_DATA`` (outside the repository); nothing from it is copied.

Test and bench helpers, not part of the package (``tests/verify/test_injection.py`` and
``bench/verify_injection.py`` use them): the example set drafts with the rules drafter, which
the verifier's package must not import. The drafting stages are imported at the top, so a
moved or renamed stage fails the tests that use these sets instead of skipping them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from reportdraft.dictation import normalize
from reportdraft.drafting.deterministic import draft_with_rules
from reportdraft.io import load_case
from reportdraft.models import Template
from reportdraft.resources import data_dir
from reportdraft.templates import default_library
from tests.verify.bundles import Sample, sample_from_report

_HEADER = re.compile(r"(?:^|[,.]\s*)([A-Z][A-Z /&]{3,40}):\s*,?")


def example_samples() -> list[Sample]:
    """The rules drafter's draft of every bundled example case."""
    library = default_library()
    samples = []
    for path in sorted(data_dir("examples").glob("*.json")):
        case = load_case(path)
        dictation = normalize(case.dictation)
        template = library.select(case.study)
        draft = draft_with_rules(case, dictation, template)
        samples.append(
            Sample(
                name=f"example:{path.stem}",
                case=case,
                dictation=dictation,
                template=template,
                draft=draft,
            )
        )
    return samples


def _study(accession: str, display: str, modality: str, body_part: str) -> dict[str, Any]:
    return {
        "accession_number": accession,
        "procedure": {"system": "http://loinc.org", "code": "18748-4", "display": display[:200]},
        "modality": modality,
        "body_part": body_part,
        "indication": "See clinical history.",
    }


def openi_samples(folder: Path, template: Template, limit: int) -> list[Sample]:
    """Open-i chest radiograph reports (findings -> impression), first ``limit`` of
    ``validate.jsonl`` then ``train.jsonl``."""
    rows: list[dict[str, Any]] = []
    for name in ("validate.jsonl", "train.jsonl"):
        path = folder / "openi_opi" / name
        if path.is_file():
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    samples = []
    for row in rows[:limit]:
        study = _study(f"OI-{row['idx']}", "XR Chest 2 Views", "XR", "chest")
        samples.append(
            sample_from_report(f"openi:{row['idx']}", row["inputs"], row["target"], template, study)
        )
    return samples


def _sections(text: str) -> dict[str, str]:
    marks = list(_HEADER.finditer(text))
    out: dict[str, str] = {}
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        body = re.sub(r"(^|[,.]\s*)\d{1,2}\.\s+", r"\1 ", text[mark.end() : end])
        body = re.sub(r"\.\s*,\s*", ". ", body).strip(" ,")
        out.setdefault(mark.group(1).strip(), body)
    return out


def mtsamples_samples(folder: Path, template: Template) -> list[Sample]:
    """MTSamples radiology transcriptions that have both FINDINGS and IMPRESSION (or
    CONCLUSION) sections; the many-modality counterpart of Open-i."""
    path = folder / "mtsamples" / "radiology_dev.jsonl"
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        sections = _sections(row["transcription"])
        findings = sections.get("FINDINGS")
        impression = sections.get("IMPRESSION") or sections.get("CONCLUSION")
        if not findings or not impression:
            continue
        study = _study(f"MT-{row['note_id']}", row["sample_name"], "CT", "unspecified")
        samples.append(
            sample_from_report(f"mtsamples:{row['note_id']}", findings, impression, template, study)
        )
    return samples
