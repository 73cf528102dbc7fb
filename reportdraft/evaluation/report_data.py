"""The machine-readable outputs: ``results.json`` (everything) and ``cases.csv`` (per case).

The JSON is what a CI job or a dashboard reads: per system, each metric's mean with its
confidence interval and ``n``; corpus values; comparisons with their intervals and
p-values; breakdowns; the error-injection table; thresholds. The CSV has one row per
(case, system) with every per-case value, for a QA lead's spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from reportdraft.evaluation.harness import EvalResult, SystemResult
from reportdraft.evaluation.runner import CaseOutput
from reportdraft.evaluation.stats import Interval


def _interval(value: Interval | None) -> dict[str, float | int] | None:
    if value is None:
        return None
    return {"mean": value.mean, "low": value.low, "high": value.high, "n": value.n}


def _system(result: SystemResult) -> dict[str, Any]:
    spec = result.spec
    return {
        "name": result.name,
        "backend": spec.backend if spec else None,
        "model": spec.model if spec else None,
        "base_url": spec.base_url if spec else None,
        "dialect": spec.dialect if spec else None,
        "prompts": spec.prompts if spec else None,
        "prompt_version": result.prompt_version,
        "cases": len(result.scores.per_case),
        "failures": result.failures,
        "skipped": result.skipped,
        "cached": result.cached,
        "metrics": {k: _interval(v) for k, v in result.scores.summary.items()},
        "corpus": dict(result.scores.corpus),
    }


def to_dict(result: EvalResult) -> dict[str, Any]:
    """The whole result as plain JSON-able data."""
    injection = result.injection
    return {
        "suite": result.suite.name,
        "description": result.suite.description,
        "cases": len(result.contexts),
        "prompt_version": result.prompt_version,
        "drafter_version": result.drafter_version,
        "confidence": result.suite.stats.confidence,
        "resamples": result.suite.stats.resamples,
        "seed": result.suite.stats.seed,
        "baseline_impression": result.suite.baseline_impression,
        "metrics": [
            {
                "name": i.name,
                "label": i.label,
                "higher_is_better": i.higher_is_better,
                "basis": i.basis,
                "description": i.description,
            }
            for i in result.infos
        ],
        "unavailable": result.unavailable,
        "systems": [_system(r) for r in result.systems],
        "baseline": _system(result.baseline),
        "comparisons": [
            {
                "metric": c.metric,
                "system": c.system,
                "against": c.against,
                "delta": c.result.delta,
                "low": c.result.low,
                "high": c.result.high,
                "p_value": c.result.p_value,
                "n": c.result.n,
                "verdict": c.verdict,
            }
            for c in result.comparisons
        ],
        "breakdowns": {
            by: {
                system: {
                    group: {m: {"mean": cell.mean, "n": cell.n} for m, cell in row.items()}
                    for group, row in table.items()
                }
                for system, table in tables.items()
            }
            for by, tables in result.breakdowns.items()
        },
        "error_kinds_by_modality": result.error_kinds,
        "worst_cases": {
            system: [
                {
                    "case_id": w.case_id,
                    "modality": w.modality,
                    "template": w.template,
                    "key_metric": w.key_metric,
                    "value": w.value,
                    "flags": w.flags,
                    "error": w.error,
                    "draft_text": w.draft_text,
                    "reference": w.reference,
                    "recommendation_miss": w.recommendation_miss,
                }
                for w in rows
            ]
            for system, rows in result.worst.items()
        },
        "injection": None
        if injection is None
        else {
            "cases": injection.cases,
            "draft_source": injection.draft_source,
            "applied": injection.applied,
            "table": {
                kind: {
                    m: {
                        "delta": c.delta,
                        "detected": c.detected,
                        "sensitivity": c.sensitivity,
                        "n": c.n,
                    }
                    for m, c in row.items()
                }
                for kind, row in injection.cells.items()
            },
        },
        "thresholds": [
            {
                "system": t.system,
                "metric": t.metric,
                "bound": t.bound,
                "value": t.value,
                "passed": t.passed,
                "problem": t.problem,
            }
            for t in result.thresholds
        ],
        "passed": result.passed,
        "notes": result.notes,
    }


def to_json(result: EvalResult) -> str:
    """``results.json`` text (NaN-free: undefined values are null)."""
    return json.dumps(to_dict(result), indent=2, allow_nan=False) + "\n"


def to_csv(result: EvalResult) -> str:
    """``cases.csv`` text: one row per (case, system), baseline included."""
    names = [i.name for i in result.infos if i.name in result.baseline.scores.summary]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["case_id", "system", "modality", "template", "status", "error", "cached", "flags", *names]
    )
    for system in [*result.systems, result.baseline]:
        for i, ctx in enumerate(result.contexts):
            out = system.outputs[i] if system.outputs else None
            draft = out.draft if out else None
            template = draft.template_id if draft else (ctx.template.id if ctx.template else "")
            row = system.scores.per_case[i]
            writer.writerow(
                [
                    ctx.item.case_id,
                    system.name,
                    ctx.item.case.study.modality.value,
                    template,
                    _status(out),
                    (out.error or "") if out else "",
                    int(out.cached) if out else "",
                    len(draft.flags) if draft else "",
                    *("" if row.get(n) is None else f"{row[n]:.6g}" for n in names),
                ]
            )
    return buffer.getvalue()


def _status(out: CaseOutput | None) -> str:
    if out is None:
        return "baseline"
    if out.skipped:
        return "skipped"
    return "failed" if out.draft is None else "drafted"
