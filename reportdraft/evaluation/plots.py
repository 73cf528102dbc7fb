"""Plots for the HTML report, rendered with matplotlib's Agg backend to base64 PNG.

Inline PNGs keep the report one self-contained file a QA lead can mail or attach to a
change request; Agg needs no display, so the report renders on a CI runner.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from reportdraft.evaluation.harness import EvalResult, SystemResult
from reportdraft.evaluation.injection import InjectionResult
from reportdraft.evaluation.metrics import MetricInfo

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#7f7f7f"]


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _unit_metrics(result: EvalResult) -> list[MetricInfo]:
    """Per-case metrics on a 0..1 scale (rates, shares, P/R/F1)."""
    names = {n for s in result.systems for n, v in s.scores.summary.items() if v is not None}
    return [
        i
        for i in result.infos
        if i.name in names
        and i.basis != "usage"
        and not i.name.startswith("errors_")
        and i.name not in ("rouge_l", "bleu")
        and i.name in result.systems[0].scores.summary
    ]


def metric_bars(result: EvalResult) -> str | None:
    """Horizontal bars of each 0..1 metric per system with its CI (baseline where it applies)."""
    infos = _unit_metrics(result) if result.systems else []
    if not infos:
        return None
    rows: list[SystemResult] = [*result.systems, result.baseline]
    fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(infos) * len(rows) / 1.6 + 1.5))
    height = 0.8 / len(rows)
    y = np.arange(len(infos))
    for k, system in enumerate(rows):
        means, lows, highs = [], [], []
        for info in infos:
            iv = system.scores.summary.get(info.name)
            if iv is None:
                means.append(np.nan)
                lows.append(0.0)
                highs.append(0.0)
            else:
                means.append(iv.mean)
                lows.append(iv.mean - iv.low)
                highs.append(iv.high - iv.mean)
        ax.barh(
            y + k * height,
            means,
            height=height,
            xerr=[lows, highs],
            color=COLOURS[k % len(COLOURS)] if system is not result.baseline else "#bbbbbb",
            label=system.name,
            capsize=2,
        )
    ax.set_yticks(y + height * (len(rows) - 1) / 2)
    ax.set_yticklabels([("↑ " if i.higher_is_better else "↓ ") + i.label for i in infos])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("mean per case (bars: 95% bootstrap CI); ↑ higher is better, ↓ lower")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def lexical_bars(result: EvalResult) -> str | None:
    """ROUGE-L and BLEU per system beside the constant-impression baseline."""
    names = [n for n in ("rouge_l", "bleu") if n in result.baseline.scores.summary]
    if not names or not result.systems:
        return None
    rows = [*result.systems, result.baseline]
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    width = 0.8 / len(rows)
    x = np.arange(len(names))
    for k, system in enumerate(rows):
        ivs = [system.scores.summary.get(n) for n in names]
        means = [iv.mean if iv else np.nan for iv in ivs]
        err = [
            [iv.mean - iv.low if iv else 0 for iv in ivs],
            [iv.high - iv.mean if iv else 0 for iv in ivs],
        ]
        colour = "#bbbbbb" if system is result.baseline else COLOURS[k % len(COLOURS)]
        ax.bar(x + k * width, means, width, yerr=err, color=colour, label=system.name, capsize=3)
    ax.set_xticks(x + width * (len(rows) - 1) / 2)
    ax.set_xticklabels(["ROUGE-L", "BLEU (sentence)"][: len(names)])
    ax.set_ylabel("score (0-100)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def error_kinds(result: EvalResult) -> str | None:
    """Stacked verifier flag counts by modality, one panel per system that has any."""
    tables = [
        (name, t)
        for name, t in result.error_kinds.items()
        if any(n for counts in t.values() for n in counts.values())
    ]
    if not tables:
        return None
    fig, axes = plt.subplots(1, len(tables), figsize=(4.2 * len(tables), 3.2), squeeze=False)
    for ax, (name, table) in zip(axes[0], tables, strict=True):
        modalities = list(table)
        kinds = list(next(iter(table.values())))
        bottom = np.zeros(len(modalities))
        for k, kind in enumerate(kinds):
            counts = np.array([table[m][kind] for m in modalities], dtype=float)
            ax.bar(modalities, counts, bottom=bottom, label=kind, color=COLOURS[k % len(COLOURS)])
            bottom += counts
        ax.set_title(name)
        ax.set_ylabel("flags")
    axes[0][-1].legend(fontsize=7, loc="upper right")
    return _png(fig)


def latency(result: EvalResult) -> str | None:
    """Distribution of drafting wall time per case, per system (log scale)."""
    data = [
        (s.name, [v for v in s.scores.column("latency_s") if v is not None]) for s in result.systems
    ]
    data = [(n, v) for n, v in data if v]
    if not data:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 0.6 * len(data) + 1.4))
    ax.boxplot([v for _, v in data], orientation="horizontal", tick_labels=[n for n, _ in data])
    ax.set_xscale("log")
    ax.set_xlabel("seconds per case (log scale; cached cases show their original time)")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def injection_heatmap(injection: InjectionResult | None) -> str | None:
    """Sensitivity (mean worse-direction move / scale) of each metric per injected error kind."""
    if injection is None:
        return None
    metrics = [
        m for m in injection.metrics if any(injection.cells[k][m.name].n for k in injection.kinds)
    ]
    if not metrics:
        return None
    grid = np.array(
        [
            [
                np.nan if (c := injection.cells[k][m.name]).sensitivity is None else c.sensitivity
                for m in metrics
            ]
            for k in injection.kinds
        ]
    )
    fig, ax = plt.subplots(figsize=(0.55 * len(metrics) + 2.5, 0.45 * len(injection.kinds) + 2.2))
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels([m.label for m in metrics], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(injection.kinds)))
    ax.set_yticklabels([k.replace("_", " ") for k in injection.kinds])
    for (row, col), value in np.ndenumerate(grid):
        if not np.isnan(value):
            ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label="mean move in the worse direction / metric scale")
    return _png(fig)


def all_plots(result: EvalResult) -> dict[str, str | None]:
    """Every plot of the report, by name."""
    return {
        "metrics": metric_bars(result),
        "lexical": lexical_bars(result),
        "errors": error_kinds(result),
        "latency": latency(result),
        "injection": injection_heatmap(result.injection),
    }


def names(items: Sequence[str]) -> str:
    """A readable list of names ("a, b and c")."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
