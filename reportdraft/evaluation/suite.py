"""The suite file: which cases, which systems, which metrics, which pass/fail thresholds.

A suite is a small YAML file (validated here, unknown keys rejected, so a typo in a CI
gate fails loudly instead of silently gating nothing) that points at a JSONL of cases.
Each line of the JSONL is ``{"case": <Case>, "reference": {...}}`` with an optional
``"id"``; the reference holds whatever the data source has: the signed impression, the
signed report's sections, or the whole signed report text.

Example::

    name: examples
    cases: examples.cases.jsonl          # relative to the suite file
    systems:
      - {name: rules, backend: rules}
      - {name: smollm2, backend: llamacpp}
    metrics: [findings, grounding, errors, critical, structure, edits, lexical, usage]
    thresholds:
      rules:
        finding_f1: {min: 0.5}
        hallucination_rate: {max: 0.05}
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from reportdraft.errors import ConfigurationError, InputError
from reportdraft.models import Case, SectionKind

CONSTANT_IMPRESSION = "No acute cardiopulmonary abnormality."
"""The constant-impression baseline every lexical score is shown beside."""

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,60}$")]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SystemSpec(_Config):
    """One system under test: a backend, its model and server, and a prompt-version label.

    ``prompt_version`` None means the content hash of the system's prompt set (``prompts``,
    else the bundled one), so editing a prompt invalidates cached outputs without anyone
    remembering to bump a label. Two systems that differ only in ``prompts`` compare two
    prompt versions on the same cases.
    """

    name: Name
    backend: Annotated[str, Field(min_length=1, max_length=40)]
    model: str | None = None
    base_url: str | None = Field(
        default=None,
        description="The model server's URL; replicas of one model as a list (or one string "
        "separated by commas): requests are spread over them.",
    )
    dialect: Literal["vllm", "llamacpp"] | None = None
    prompt_version: str | None = None
    prompts: str | None = Field(
        default=None,
        description="Folder of another prompt set (system.j2, rewrite.j2, repair.j2, "
        "examples.yaml), relative to the suite file; default: the bundled prompts.",
    )
    max_cases: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Draft only the first N cases with this system (a slow model in CI); "
        "the others are skipped, not failed, and comparisons pair only the shared cases.",
    )
    concurrency: Annotated[int, Field(ge=1, le=1024)] | None = Field(
        default=None,
        description="Cases drafted at once (default: the backend's, 1 for a model in "
        "process, 8 for a server; `reportdraft eval --concurrency` overrides it). Not part "
        "of the cache key: it changes how fast drafts come, not what they say.",
    )

    @field_validator("base_url", mode="before")
    @classmethod
    def _replicas(cls, value: object) -> object:
        """A YAML list of replica URLs is kept as one comma-separated string, the form the
        backend options and the cache fingerprint take."""
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return ",".join(v.strip() for v in value)
        return value


class Threshold(_Config):
    """A pass/fail bound on one aggregated metric (``min`` and/or ``max``)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs min and/or max")
        return self

    def check(self, value: float | None) -> str | None:
        """None when ``value`` passes, else why it fails (a missing value fails)."""
        if value is None:
            return "no value (metric not computed)"
        if self.min is not None and value < self.min:
            return f"{value:.4g} < min {self.min:g}"
        if self.max is not None and value > self.max:
            return f"{value:.4g} > max {self.max:g}"
        return None


class StatsConfig(_Config):
    """Resampling settings for confidence intervals and significance tests (seeded)."""

    resamples: Annotated[int, Field(ge=100, le=100_000)] = 2000
    seed: int = 0
    confidence: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95


class InjectionConfig(_Config):
    """Which error kinds the injection suite applies, and on how many cases at most."""

    enabled: bool = True
    kinds: list[str] | None = None
    max_cases: Annotated[int, Field(ge=1)] | None = 200
    seed: int = 0


class Suite(_Config):
    """A parsed suite file; ``path`` is where it was read from (relative paths resolve there)."""

    name: Name
    description: str | None = None
    cases: str = Field(description="Path of the cases JSONL, relative to the suite file.")
    systems: list[SystemSpec] = Field(min_length=1)
    metrics: list[str] | None = Field(
        default=None, description="Metric groups to compute; None means every built-in group."
    )
    thresholds: dict[str, dict[str, Threshold]] = Field(default_factory=dict)
    baseline_impression: str = CONSTANT_IMPRESSION
    stats: StatsConfig = StatsConfig()
    injection: InjectionConfig = InjectionConfig()
    worst_cases: Annotated[int, Field(ge=0, le=200)] = 10
    plugins: list[PluginSpec] = Field(default_factory=list)
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Suite:
        names = [s.name for s in self.systems]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"systems: duplicate name(s) {', '.join(duplicates)}")
        unknown = sorted(set(self.thresholds) - set(names))
        if unknown:
            raise ValueError(f"thresholds: unknown system(s) {', '.join(unknown)}")
        return self

    def resolve(self, value: str) -> Path:
        """A path from the suite file as an absolute path (relative to the suite file)."""
        path = Path(value).expanduser()
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path

    def cases_path(self) -> Path:
        """The cases JSONL as an absolute path (relative to the suite file)."""
        return self.resolve(self.cases)

    def prompts_dir(self, spec: SystemSpec) -> Path | None:
        """The system's prompt folder (relative to the suite file); None: the bundled one."""
        return None if spec.prompts is None else self.resolve(spec.prompts)

    def system(self, name: str) -> SystemSpec:
        """The system called ``name`` (ConfigurationError when absent)."""
        for spec in self.systems:
            if spec.name == name:
                return spec
        raise ConfigurationError(f"suite {self.name!r} has no system {name!r}")


class PluginSpec(_Config):
    """An optional heavier metric (RadGraph F1, GREEN, BERTScore) loaded from local weights.

    ``entry`` is ``module:Class`` implementing :class:`~reportdraft.evaluation.plugins.
    MetricPlugin`; ``weights`` must be a local path that exists: hub ids are refused, so a
    suite never downloads weights at run time.
    """

    name: Name
    entry: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")]
    weights: str
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)


Suite.model_rebuild()


class Reference(_Config):
    """What the radiologist signed, as far as the data source has it."""

    impression: str | None = None
    sections: dict[str, str] | None = None
    report: str | None = None

    @model_validator(mode="after")
    def _known_sections(self) -> Reference:
        if self.sections:
            known = {k.value for k in SectionKind}
            bad = sorted(set(self.sections) - known)
            if bad:
                raise ValueError(
                    f"sections: unknown section(s) {', '.join(bad)}; use {', '.join(sorted(known))}"
                )
        return self

    @property
    def empty(self) -> bool:
        """True when there is nothing to compare a draft with."""
        return not (self.impression or self.sections or self.report)


class EvalCase(_Config):
    """One line of a cases JSONL: the inputs of a read and its reference."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,80}$")] | None = None
    case: Case
    reference: Reference = Reference()

    @property
    def case_id(self) -> str:
        """The id reports name the case by (``id``, else the accession number)."""
        return self.id or self.case.study.accession_number


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite YAML; errors name the field (ConfigurationError)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"suite file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path}: a suite is a mapping (name, cases, systems, ...)")
    try:
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"{path}: {_explain(exc)}") from exc
    return suite.model_copy(update={"path": path.resolve()})


def load_cases(path: str | Path, *, limit: int | None = None) -> list[EvalCase]:
    """Read a cases JSONL; a bad line is an InputError naming the line and the field.

    Case ids must be unique: they key the cache and every per-case table.
    """
    path = Path(path)
    cases: list[EvalCase] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ConfigurationError(f"cases file not found: {path}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cases.append(EvalCase.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not JSON: {exc.msg}") from exc
        except ValidationError as exc:
            raise InputError(f"{path}:{number}: {_explain(exc)}") from exc
        if limit is not None and len(cases) >= limit:
            break
    seen: set[str] = set()
    for item in cases:
        if item.case_id in seen:
            raise InputError(f"{path}: duplicate case id {item.case_id!r}")
        seen.add(item.case_id)
    if not cases:
        raise InputError(f"{path}: no cases")
    return cases


def dump_cases(cases: list[EvalCase]) -> str:
    """Serialise cases as JSONL (one compact line each, the format :func:`load_cases` reads)."""
    return "".join(
        json.dumps(c.model_dump(mode="json", exclude_none=True), ensure_ascii=False) + "\n"
        for c in cases
    )


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(top)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def safe_name(text: str) -> str:
    """A file-name-safe version of ``text`` (cache folders are named after systems)."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", text)[:80]
