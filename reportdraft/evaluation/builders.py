"""Suite builders: eval suites from public report text that stays outside the repository.

``reportdraft eval-build openi|mtsamples --data DIR --out SUITE_DIR`` reads the public
data (``$REPORTDRAFT_DATA``, never copied into the project: its licences forbid modified
redistribution) and writes ``SUITE_DIR/<name>.cases.jsonl`` plus ``SUITE_DIR/<name>.yaml``.

* **Open-i** (``openi_opi/<split>.jsonl``: ``{"idx", "inputs", "target"}``): each findings
  text becomes the dictation of an XR chest 2-view case (the bundled ``xr_chest_2v``
  template's procedure code), and the impression is the reference.
* **MTSamples** (``mtsamples/radiology_dev.jsonl``): the transcription's ``HEADER:,``
  sections are split; history/indication becomes the study's indication, the rest (headers
  stripped) is the dictation, and the technique/comparison/findings/impression sections
  are the reference. The modality and contrast come from the description and sample
  name (word lists in ``reportdraft/data/evaluation/mtsamples.yaml``); the template is the
  one the project's template library selects for that modality and body part. Rows with
  no template, and clinic notes filed under radiology (``CC:``/``HX:`` neurology case
  histories, whose "findings" are the history and exam), are skipped and counted.

Patients and studies are synthetic placeholders (the data is de-identified report text).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reportdraft.errors import ConfigurationError, ReportDraftError
from reportdraft.evaluation.suite import EvalCase, Reference, dump_cases
from reportdraft.models import (
    Case,
    Coding,
    Contrast,
    Modality,
    SectionKind,
    StudyContext,
    Template,
)
from reportdraft.models.case import MAX_DICTATION_CHARS
from reportdraft.resources import package_data
from reportdraft.templates import TemplateLibrary

OPENI_TEMPLATE = "xr_chest_2v"
"""Open-i cases are two-view chest radiographs: drafted on this template."""

ACQUIRED = datetime(2000, 1, 1, tzinfo=UTC)
PLACEHOLDER_CODE = Coding(system="urn:reportdraft:eval", code="unknown", display="Unknown")


@dataclass(kw_only=True)
class BuildReport:
    """What a builder wrote and what it skipped, by reason."""

    name: str
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    by_template: Counter[str] = field(default_factory=Counter)
    files: list[Path] = field(default_factory=list)

    def add(
        self,
        cases: list[EvalCase],
        ident: str,
        case: dict[str, Any],
        reference: Reference,
        template_id: str,
        limit: int | None,
    ) -> bool:
        """Validate and append one built case (counting it, or skipping it as invalid).

        Returns True once ``limit`` cases are collected, so the builder stops reading.
        """
        try:
            cases.append(EvalCase(id=ident, case=Case.model_validate(case), reference=reference))
        except ValidationError:
            self.skipped["invalid case"] += 1
            return False
        self.written += 1
        self.by_template[template_id] += 1
        return limit is not None and len(cases) >= limit

    def summary(self) -> str:
        """One paragraph for the CLI."""
        skipped = ", ".join(f"{n} {reason}" for reason, n in self.skipped.most_common()) or "none"
        templates = ", ".join(f"{t} {n}" for t, n in self.by_template.most_common())
        return (
            f"{self.name}: wrote {self.written} cases ({templates}); "
            f"skipped {sum(self.skipped.values())}: {skipped}"
        )


def _study(
    *,
    accession: str,
    procedure: Coding,
    modality: Modality,
    body_part: str,
    indication: str,
    contrast: Contrast = Contrast.NONE,
    views: int | None = None,
    source: str,
) -> dict[str, Any]:
    return {
        "accession_number": accession,
        "procedure": procedure.model_dump(),
        "modality": modality.value,
        "body_part": body_part[:200],
        "contrast": contrast.value,
        "indication": indication[:2000],
        "ordering_physician": {"name": f"{source} (public data)"},
        "performing_facility": {"name": f"{source} (public data)"},
        "acquisition_time": ACQUIRED.isoformat(),
        "patient_location": "US-IN" if source == "Open-i" else "US",
        **({"views": views} if views else {}),
    }


def _patient(ident: str) -> dict[str, Any]:
    return {
        "id": ident,
        "name": {"family": "Anonymous", "given": ["Eval"]},
        "sex": "unknown",
        "birth_date": "1970-01-01",
    }


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise ConfigurationError(f"data file not found: {path} (set --data / REPORTDRAFT_DATA)")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def build_openi(
    data: Path, *, library: TemplateLibrary, split: str = "validate", limit: int | None = None
) -> tuple[list[EvalCase], BuildReport]:
    """Open-i findings → impression pairs as XR chest 2-view cases."""
    template = library.get(OPENI_TEMPLATE)
    procedure = template.procedure_codes[0]
    report = BuildReport(name=f"openi-{split}")
    cases: list[EvalCase] = []
    for row in _jsonl(data / "openi_opi" / f"{split}.jsonl"):
        findings = str(row.get("inputs") or "").strip()
        impression = str(row.get("target") or "").strip()
        if not re.search(r"[A-Za-z]", findings):
            report.skipped["no findings text"] += 1
            continue
        if not impression:
            report.skipped["no impression"] += 1
            continue
        ident = f"openi-{row['idx']}"
        case = {
            "study": _study(
                accession=f"OPENI-{row['idx']}",
                procedure=procedure,
                modality=Modality.XR,
                body_part="chest",
                indication="Chest radiograph (Open-i; indication not provided).",
                views=2,
                source="Open-i",
            ),
            "patient": _patient(ident.upper()),
            "dictation": findings,
        }
        if report.add(cases, ident, case, Reference(impression=impression), template.id, limit):
            break
    return cases, report


class _WordLists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[int, Field(ge=1)]
    headers: dict[SectionKind, list[str]]
    modalities: dict[Modality, list[str]]
    contrast: dict[Contrast, list[str]]
    clinic_note_headers: list[str] = Field(default_factory=list)
    non_imaging: list[str] = Field(default_factory=list)


@cache
def mtsamples_rules() -> _WordLists:
    """The validated header/modality/contrast word lists."""
    path = package_data("evaluation", "mtsamples.yaml")
    try:
        return _WordLists.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"{path}: invalid MTSamples rules: {exc}") from exc


_HEADER = re.compile(r"(?:^|(?<=[,.]))\s*([A-Z][A-Z0-9 /&'()\-]{1,60}?)\s*:(\s*,|\s+(?=\S))")


def _known_header(name: str) -> bool:
    normal = " ".join(name.upper().split())
    return any(normal in names for names in mtsamples_rules().headers.values())


def split_transcription(text: str) -> list[tuple[str, str]]:
    """``[(HEADER, body), ...]`` of a transcription; text before any header gets ``""``.

    A header is an upper-case phrase at the start, or after a comma or full stop, followed
    by ``:,`` (MTSamples' header separator) — or by a space when it is a header the rules
    know (``IMPRESSION:  No acute ...``). ``BPD: 9.0cm``-style values are not headers.
    """
    parts: list[tuple[str, str]] = []
    last_header, last_end = "", 0
    for match in _HEADER.finditer(text):
        header = match.group(1).strip()
        if "," not in match.group(2) and not _known_header(header):
            continue
        parts.append((last_header, text[last_end : match.start()]))
        last_header, last_end = header, match.end()
    parts.append((last_header, text[last_end:]))
    return [(h, _clean(b)) for h, b in parts if _clean(b)]


def _clean(body: str) -> str:
    body = re.sub(r"\s*,\s*(?=[A-Z0-9(])", " ", body)  # paragraphs are joined with ","
    return re.sub(r"\s+", " ", body).strip(" ,")


def _words_regex(words: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)


def detect_modality(text: str) -> Modality | None:
    """The first modality (in the rules' order) one of whose words ``text`` contains."""
    for modality, words in mtsamples_rules().modalities.items():
        if _words_regex(words).search(text):
            return modality
    return None


def is_non_imaging(text: str) -> bool:
    """True when a row's name names a non-imaging study (EMG, EEG, radiation therapy ...);
    asked only of a row that names no modality (a "Myoview treadmill" study is imaging)."""
    words = mtsamples_rules().non_imaging
    return bool(words) and bool(_words_regex(words).search(text))


def detect_contrast(text: str) -> Contrast:
    """The contrast the text names (none when it names none)."""
    for contrast, words in mtsamples_rules().contrast.items():
        if _words_regex(words).search(text):
            return contrast
    return Contrast.NONE


def _section_of(header: str) -> SectionKind:
    normal = " ".join(header.upper().split())
    for kind, names in mtsamples_rules().headers.items():
        if normal in names:
            return kind
    return SectionKind.FINDINGS


def build_mtsamples(
    data: Path,
    *,
    library: TemplateLibrary,
    limit: int | None = None,
    generic_fallback: bool = False,
) -> tuple[list[EvalCase], BuildReport]:
    """MTSamples radiology transcriptions as cases with sectioned references.

    A row no specific template fits is skipped (``no template (<modality>)``), unless
    ``generic_fallback``: it is then built on the generic template, with the row's name as
    the ordered procedure and body part (bench/template_coverage.py measures both ways).
    """
    report = BuildReport(name="mtsamples-dev")
    cases: list[EvalCase] = []
    rules = mtsamples_rules()
    for row in _jsonl(data / "mtsamples" / "radiology_dev.jsonl"):
        transcription = str(row.get("transcription") or "")
        described = f"{row.get('sample_name') or ''}. {row.get('description') or ''}"
        parts = split_transcription(transcription)
        if any(" ".join(h.upper().split()) in rules.clinic_note_headers for h, _ in parts):
            report.skipped["clinic note, not an imaging report"] += 1
            continue
        sections: dict[SectionKind, list[str]] = {}
        for header, body in parts:
            sections.setdefault(_section_of(header), []).append(body)
        technique_text = " ".join(sections.get(SectionKind.TECHNIQUE, []))
        modality = detect_modality(described) or detect_modality(technique_text)
        if modality is None:
            reason = "not an imaging study" if is_non_imaging(described) else "no modality"
            report.skipped[reason] += 1
            continue
        contrast = detect_contrast(f"{described} {technique_text}")
        probe = StudyContext.model_validate(
            _study(
                accession="PROBE",
                procedure=PLACEHOLDER_CODE,
                modality=modality,
                body_part=described.lower(),
                indication="probe",
                contrast=contrast,
                source="MTSamples",
            )
        )
        try:
            template = library.select(probe, generic_fallback=generic_fallback)
        except ReportDraftError:
            report.skipped[f"no template ({modality.value})"] += 1
            continue
        reference = {
            k.value: " ".join(v)
            for k, v in sections.items()
            if k is not SectionKind.CLINICAL_HISTORY and v
        }
        if not (reference.get("findings") or reference.get("impression")):
            report.skipped["no findings/impression section"] += 1
            continue
        dictation = " ".join(
            body
            for header, body in parts
            if _section_of(header) is not SectionKind.CLINICAL_HISTORY
        )
        history = " ".join(sections.get(SectionKind.CLINICAL_HISTORY, [])) or str(
            row.get("description") or "Not provided."
        )
        ident = f"mtsamples-{row['note_id']}"
        name = " ".join(str(row.get("sample_name") or "").split())[:200] or "Unknown"
        procedure = (
            Coding(system="urn:reportdraft:eval", code=f"mts-{row['note_id']}", display=name)
            if template.generic
            else procedure_of(template)
        )
        case = {
            "study": _study(
                accession=f"MTS-{row['note_id']}",
                procedure=procedure,
                modality=modality,
                body_part=name if template.generic else template.body_parts[0],
                indication=history,
                contrast=contrast,
                source="MTSamples",
            ),
            "patient": _patient(ident.upper()),
            "dictation": dictation[:MAX_DICTATION_CHARS],
        }
        if report.add(cases, ident, case, Reference(sections=reference), template.id, limit):
            break
    return cases, report


def procedure_of(template: Template) -> Coding:
    """The procedure code a built case carries: the template's first code, or, for a
    template that lists none (selected by modality and body part), a code naming the
    template in the project's own system, which never claims a real code."""
    if template.procedure_codes:
        return template.procedure_codes[0]
    return Coding(system="urn:reportdraft:template", code=template.id, display=template.title)


def build_examples(
    examples: Path, references: Path, *, limit: int | None = None
) -> tuple[list[EvalCase], BuildReport]:
    """The project's example cases with the signed references written for them.

    ``references`` is a YAML mapping of example file stem → Reference; an example with no
    reference is kept (inputs-based metrics still apply) and counted.
    """
    try:
        raw = yaml.safe_load(references.read_text(encoding="utf-8")) or {}
        refs = {str(k): Reference.model_validate(v) for k, v in dict(raw).items()}
    except (OSError, yaml.YAMLError, ValidationError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"{references}: invalid references: {exc}") from exc
    paths = sorted(examples.glob("*.json"))
    unknown = sorted(set(refs) - {p.stem for p in paths})
    if unknown:
        raise ConfigurationError(f"{references}: no example named {', '.join(unknown)}")
    report = BuildReport(name="examples")
    cases: list[EvalCase] = []
    for path in paths:
        case = Case.model_validate_json(path.read_text(encoding="utf-8"))
        reference = refs.get(path.stem)
        if reference is None:
            report.skipped["kept without reference"] += 1
        cases.append(EvalCase(id=path.stem, case=case, reference=reference or Reference()))
        report.written += 1
        report.by_template[case.study.modality.value] += 1
        if limit is not None and len(cases) >= limit:
            break
    return cases, report


SUITE_TEMPLATE = """\
# Built by `reportdraft eval-build {source}` from {data}; do not commit the cases file
# (the public data's licence forbids modified redistribution).
name: {name}
description: {description}
cases: {cases_file}
systems:
  - {{name: rules, backend: rules}}
  - {{name: smollm2, backend: llamacpp}}
injection:
  max_cases: 200
"""

DESCRIPTIONS = {
    "openi": "Open-i chest radiographs: findings dictated, impression drafted and compared "
    "with the signed impression.",
    "mtsamples": "MTSamples radiology transcriptions: sections compared with the draft's.",
}

SOURCES = ("openi", "mtsamples", "examples")
"""What ``eval-build`` can build from."""


def write_suite(
    source: str,
    data: Path,
    out: Path,
    *,
    library: TemplateLibrary,
    split: str = "validate",
    limit: int | None = None,
) -> BuildReport:
    """Build the ``source`` suite into ``out``.

    ``openi`` and ``mtsamples`` read the public data under ``data`` and write
    ``<name>.yaml`` beside ``<name>.cases.jsonl``; ``examples`` reads ``data/*.json`` and
    ``out/examples.references.yaml`` and writes only ``examples.cases.jsonl`` (the suite file
    ``eval/examples.yaml`` is maintained by hand, with its thresholds).
    """
    builders = {
        "openi": lambda: build_openi(data, library=library, split=split, limit=limit),
        "mtsamples": lambda: build_mtsamples(data, library=library, limit=limit),
        "examples": lambda: build_examples(data, out / "examples.references.yaml", limit=limit),
    }
    if source not in builders:
        raise ConfigurationError(f"unknown suite source {source!r}; use {', '.join(SOURCES)}")
    cases, report = builders[source]()
    if not cases:
        raise ConfigurationError(f"{report.name}: no usable rows in {data} ({report.summary()})")
    out.mkdir(parents=True, exist_ok=True)
    cases_file = out / f"{report.name}.cases.jsonl"
    cases_file.write_text(dump_cases(cases), encoding="utf-8")
    report.files = [cases_file]
    if source == "examples":
        return report
    suite_file = out / f"{report.name}.yaml"
    suite_file.write_text(
        SUITE_TEMPLATE.format(
            source=source,
            data=data,
            name=report.name,
            description=json.dumps(DESCRIPTIONS[source]),
            cases_file=cases_file.name,
        ),
        encoding="utf-8",
    )
    report.files.insert(0, suite_file)
    return report
