"""The evaluation harness behind ``reportdraft eval``.

QA teams run a *suite* (``eval/*.yaml``: cases, systems, metrics, thresholds) and get a
JSON for machines, a per-case CSV and a self-contained HTML report::

    from reportdraft.evaluation import load_suite, run_suite, write_reports

    suite = load_suite("eval/examples.yaml")
    result = run_suite(suite, Path("out/eval"))
    write_reports(result, Path("out/eval"))
    sys.exit(0 if result.passed else 1)           # a failed threshold fails the job

Modules: ``suite`` (the YAML and cases JSONL), ``runner`` (drafting through a cache),
``metrics/`` (metric groups), ``stats`` (bootstrap, approximate randomisation),
``comparisons`` (deltas, breakdowns, worst cases), ``injection/`` (error injection: the
metric table and the verifier's detection set, from one rules file),
``report_data`` / ``report_html`` / ``plots`` (outputs), ``builders`` (suites from public
data), ``plugins`` (weight-loading metrics from local paths).
"""

from reportdraft.evaluation.harness import (
    BASELINE_NAME,
    EvalResult,
    SystemResult,
    ThresholdResult,
    run_suite,
)
from reportdraft.evaluation.output import write_reports
from reportdraft.evaluation.suite import (
    CONSTANT_IMPRESSION,
    EvalCase,
    Reference,
    Suite,
    SystemSpec,
    dump_cases,
    load_cases,
    load_suite,
)

__all__ = [
    "BASELINE_NAME",
    "CONSTANT_IMPRESSION",
    "EvalCase",
    "EvalResult",
    "Reference",
    "Suite",
    "SystemResult",
    "SystemSpec",
    "ThresholdResult",
    "dump_cases",
    "load_cases",
    "load_suite",
    "run_suite",
    "write_reports",
]
