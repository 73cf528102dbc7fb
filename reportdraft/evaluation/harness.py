"""Running a suite end to end: draft (cached), score, compare, inject, check thresholds.

:func:`run_suite` is what ``reportdraft eval`` calls; it returns an :class:`EvalResult`
holding everything the report writers need, and writes nothing itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportdraft.errors import ConfigurationError, ReportDraftError
from reportdraft.evaluation import comparisons as cmp
from reportdraft.evaluation.injection import InjectionResult, run_injection
from reportdraft.evaluation.metrics import MetricGroup, MetricInfo, build_groups
from reportdraft.evaluation.plugins import load_plugins
from reportdraft.evaluation.runner import (
    CaseOutput,
    DrafterFactory,
    OutputCache,
    current_prompt_version,
    drafter_version,
    pipeline_factory,
    run_system,
)
from reportdraft.evaluation.scope import Candidate, CaseContext
from reportdraft.evaluation.scoring import Scores, available_groups, metric_infos, score
from reportdraft.evaluation.suite import EvalCase, Suite, SystemSpec, load_cases

BASELINE_NAME = "constant-impression"
"""Name of the constant-impression baseline in every table."""

BREAKDOWN_METRICS = (
    "finding_f1",
    "positive_finding_recall",
    "hallucination_rate",
    "omission_rate",
    "errors_total",
    "critical_recall_inputs",
    "rouge_l",
)
"""Metrics shown per modality and per template (those of them the suite computes)."""


@dataclass(frozen=True, kw_only=True)
class SystemResult:
    """One system's drafts and scores (the baseline has no drafts)."""

    name: str
    spec: SystemSpec | None
    outputs: list[CaseOutput] | None
    scores: Scores
    prompt_version: str | None = None

    @property
    def failures(self) -> int:
        """Cases the system could not draft (skipped cases are not failures)."""
        return sum(o.draft is None and not o.skipped for o in self.outputs or [])

    @property
    def skipped(self) -> int:
        """Cases left out by the system's ``max_cases``."""
        return sum(o.skipped for o in self.outputs or [])

    @property
    def cached(self) -> int:
        """Cases served from the output cache."""
        return sum(o.cached for o in self.outputs or [])


@dataclass(frozen=True, kw_only=True)
class ThresholdResult:
    """One threshold's outcome; ``problem`` is None when it passed."""

    system: str
    metric: str
    bound: str
    value: float | None
    problem: str | None

    @property
    def passed(self) -> bool:
        """True when the threshold holds."""
        return self.problem is None

    def line(self) -> str:
        """One line naming the threshold, as the CLI prints it."""
        state = "PASS" if self.passed else "FAIL"
        shown = "n/a" if self.value is None else f"{self.value:.4g}"
        detail = "" if self.passed else f" ({self.problem})"
        return f"{state} {self.system}.{self.metric} {self.bound}: {shown}{detail}"


@dataclass(frozen=True, kw_only=True)
class EvalResult:
    """Everything one suite run produced."""

    suite: Suite
    contexts: list[CaseContext]
    infos: list[MetricInfo]
    unavailable: dict[str, str]
    systems: list[SystemResult]
    baseline: SystemResult
    comparisons: list[cmp.ComparisonRow]
    breakdowns: dict[str, dict[str, dict[str, dict[str, cmp.BreakdownCell]]]]
    error_kinds: dict[str, dict[str, dict[str, int]]]
    worst: dict[str, list[cmp.WorstCase]]
    injection: InjectionResult | None
    thresholds: list[ThresholdResult]
    prompt_version: str
    drafter_version: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every threshold holds."""
        return all(t.passed for t in self.thresholds)

    def system(self, name: str) -> SystemResult:
        """The result of system ``name`` (the baseline included)."""
        for result in [*self.systems, self.baseline]:
            if result.name == name:
                return result
        raise KeyError(name)


def prepare_contexts(
    cases: Sequence[EvalCase], template_dirs: Sequence[Path] = ()
) -> list[CaseContext]:
    """Normalise each case's dictation and select its template, as the pipeline does.

    A case whose template cannot be selected keeps None there: drafting it will fail and
    be reported, and the metrics that need the template skip it.
    """
    from reportdraft import drafting
    from reportdraft.resources import data_dir
    from reportdraft.templates import TemplateLibrary

    library = TemplateLibrary.load(data_dir("templates"), *template_dirs)
    contexts: list[CaseContext] = []
    for item in cases:
        try:
            dictation, template = drafting.prepare(item.case, library)
        except ReportDraftError:
            contexts.append(CaseContext(item=item))
            continue
        contexts.append(CaseContext(item=item, dictation=dictation, template=template))
    return contexts


def select_systems(suite: Suite, names: Sequence[str] | None) -> list[SystemSpec]:
    """The suite's systems, or the named subset in suite order (unknown names fail)."""
    if not names:
        return list(suite.systems)
    for name in names:
        suite.system(name)
    return [s for s in suite.systems if s.name in names]


def check_thresholds(suite: Suite, results: Sequence[SystemResult]) -> list[ThresholdResult]:
    """Evaluate every threshold of the suite on the systems that were run."""
    by_name = {r.name: r for r in results}
    out: list[ThresholdResult] = []
    for system, bounds in suite.thresholds.items():
        result = by_name.get(system)
        if result is None:
            continue
        for metric, threshold in bounds.items():
            value = result.scores.mean(metric)
            bound = " ".join(
                f"{k} {v:g}"
                for k, v in (("min", threshold.min), ("max", threshold.max))
                if v is not None
            )
            out.append(
                ThresholdResult(
                    system=system,
                    metric=metric,
                    bound=bound,
                    value=value,
                    problem=threshold.check(value),
                )
            )
    return out


def run_suite(
    suite: Suite,
    out_dir: Path,
    *,
    factory: DrafterFactory | None = None,
    contexts: Sequence[CaseContext] | None = None,
    systems: Sequence[str] | None = None,
    use_cache: bool = True,
    progress: bool = True,
    limit: int | None = None,
    injection: bool | None = None,
    prompt_version: str | None = None,
    template_dirs: Sequence[Path] = (),
    concurrency: int | None = None,
    piece_concurrency: int | None = None,
) -> EvalResult:
    """Run ``suite``: draft every case with every system (cached), score and compare.

    ``factory`` and ``contexts`` default to the real pipeline; tests and embedders may
    pass their own. ``injection`` None follows the suite's setting. ``concurrency`` is
    the cases drafted at once for every system (None: each system's ``concurrency``, else
    its backend's default), ``piece_concurrency`` the pieces of one draft sent at once
    (None: the backend's default); neither changes a result.
    """
    if contexts is None:
        cases = load_cases(suite.cases_path(), limit=limit)
        contexts = prepare_contexts(cases, template_dirs)
    contexts = list(contexts)
    specs = select_systems(suite, systems)
    if any(spec.name == BASELINE_NAME for spec in specs):
        raise ConfigurationError(f"'{BASELINE_NAME}' is reserved for the baseline")
    base = suite.path.parent if suite.path is not None else None
    groups: list[MetricGroup] = build_groups(suite.metrics) + load_plugins(suite.plugins, base)
    ready, unavailable = available_groups(groups)
    infos = metric_infos(ready)
    version = prompt_version or current_prompt_version()
    prompt_dirs = {spec.name: suite.prompts_dir(spec) for spec in specs}
    factory = factory or pipeline_factory(template_dirs, prompt_dirs, piece_concurrency)
    cache = OutputCache(out_dir / "cache") if use_cache else None

    code_version = drafter_version(tuple(template_dirs))
    results: list[SystemResult] = []
    for spec in specs:
        folder = prompt_dirs[spec.name]
        spec_version = spec.prompt_version or (
            current_prompt_version(folder) if folder else version
        )
        outputs = run_system(
            spec,
            [c.item for c in contexts],
            factory,
            cache=cache,
            prompt_version=spec_version,
            code_version=code_version,
            progress=progress,
            concurrency=concurrency,
        )
        candidates = [
            None
            if o.skipped
            else (Candidate.from_draft(o.draft, seconds=o.seconds) if o.draft else Candidate())
            for o in outputs
        ]
        results.append(
            SystemResult(
                name=spec.name,
                spec=spec,
                outputs=outputs,
                scores=score(ready, contexts, candidates, suite.stats),
                prompt_version=spec_version,
            )
        )

    baseline = SystemResult(
        name=BASELINE_NAME,
        spec=None,
        outputs=None,
        scores=score(
            ready,
            contexts,
            [Candidate.from_text(suite.baseline_impression)] * len(contexts),
            suite.stats,
        ),
    )

    comparisons: list[cmp.ComparisonRow] = []
    if results:
        first = results[0]
        for other in results[1:]:
            comparisons += cmp.compare(
                first.name, first.scores, other.name, other.scores, infos, suite.stats
            )
        reference_infos = [i for i in infos if i.basis == "reference"]
        for result in results:
            comparisons += cmp.compare(
                BASELINE_NAME,
                baseline.scores,
                result.name,
                result.scores,
                reference_infos,
                suite.stats,
            )

    shown = [m for m in BREAKDOWN_METRICS if any(i.name == m for i in infos)]
    breakdowns = {
        by: {r.name: cmp.breakdown(contexts, r.outputs, r.scores, shown, by) for r in results}
        for by in ("modality", "template")
    }
    error_kinds = {r.name: cmp.error_kinds_by_modality(contexts, r.outputs or []) for r in results}
    worst = {
        r.name: cmp.worst_cases(contexts, r.outputs or [], r.scores, limit=suite.worst_cases)
        for r in results
    }

    run_injection_now = suite.injection.enabled if injection is None else injection
    injected: InjectionResult | None = None
    notes: list[str] = []
    if run_injection_now:
        grounded = next((r for r in results if r.spec and r.spec.backend == "rules"), None)
        injected = run_injection(
            contexts,
            ready,
            suite.injection,
            drafts=[o.draft for o in grounded.outputs or []] if grounded else None,
            draft_source=grounded.name if grounded else None,
        )
        if grounded is None:
            notes.append(
                "Error injection ran on references only: no 'rules' system in the suite, so "
                "no grounded draft to inject into for the verifier-based metrics."
            )
    for name, reason in unavailable.items():
        notes.append(f"Metric group '{name}' not computed: {reason}.")

    all_results = [*results, baseline]
    return EvalResult(
        suite=suite,
        contexts=contexts,
        infos=infos,
        unavailable=unavailable,
        systems=results,
        baseline=baseline,
        comparisons=comparisons,
        breakdowns=breakdowns,
        error_kinds=error_kinds,
        worst=worst,
        injection=injected,
        thresholds=check_thresholds(suite, all_results),
        prompt_version=version,
        drafter_version=code_version,
        notes=notes,
    )
