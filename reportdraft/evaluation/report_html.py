"""The HTML report: one self-contained page a QA lead can open, read and forward.

Inline CSS, plots as base64 PNG, no script and no external resource. The page answers the
three questions in order: how accurate are the drafts (summary with confidence intervals,
the lexical scores beside the constant-impression floor), did a change make things better
or worse (paired comparisons), and where does it fail (breakdowns, error kinds, the
injection table of which metric sees which error, the worst cases with their flags).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape

from reportdraft.evaluation.harness import EvalResult, SystemResult
from reportdraft.evaluation.metrics import MetricInfo
from reportdraft.evaluation.plots import all_plots
from reportdraft.evaluation.stats import Interval

CSS = """
body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;
 margin:0 auto;max-width:1180px;padding:16px 28px}
h1{font-size:24px;margin:8px 0}h2{font-size:19px;margin-top:32px;border-bottom:2px solid #ddd}
h3{font-size:15px;margin-top:20px}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px}
th,td{border:1px solid #d7d7d7;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f3f5f8;text-align:left}td.l{text-align:left}
tr:nth-child(even) td{background:#fafbfc}
.ci{color:#777;font-size:11px}.muted{color:#777}
.pass{background:#e6f4ea;border:1px solid #9ad0a8;padding:8px 12px;border-radius:4px}
.fail{background:#fdecea;border:1px solid #f1a7a0;padding:8px 12px;border-radius:4px}
.better{color:#137333;font-weight:600}.worse{color:#b3261e;font-weight:600}
.note{background:#fff8e1;border-left:4px solid #f5c400;padding:6px 10px;margin:6px 0}
img{max-width:100%;border:1px solid #eee;margin:6px 0}
.flags{font-size:12px;color:#444;text-align:left;max-width:560px}
"""


def _fmt(value: float | None, info: MetricInfo | None = None) -> str:
    if value is None:
        return "–"
    if info is not None and info.percent:
        return f"{value * 100:.1f}%"
    if info is not None and info.name in ("rouge_l", "bleu", "bleu_corpus"):
        return f"{value:.1f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3f}"


def _cell(iv: Interval | None, info: MetricInfo) -> str:
    if iv is None:
        return "<td>–</td>"
    ci = f"[{_fmt(iv.low, info)}, {_fmt(iv.high, info)}]"
    return f'<td>{_fmt(iv.mean, info)} <span class="ci">{ci} n={iv.n}</span></td>'


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1) -> str:
    ths = "".join(
        f'<th class="l">{escape(h)}</th>' if i < left else f"<th>{escape(h)}</th>"
        for i, h in enumerate(head)
    )
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table><tr>{ths}</tr>{body}</table>"


def _l(text: str) -> str:
    return f'<td class="l">{escape(text)}</td>'


def _img(data: str | None, alt: str) -> str:
    if data is None:
        return f'<p class="muted">({escape(alt)}: nothing to plot)</p>'
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _summary(result: EvalResult) -> str:
    systems: list[SystemResult] = result.systems
    head = ["Metric", *(s.name for s in systems), f"{result.baseline.name} (baseline)"]
    rows = []
    for info in result.infos:
        if not any(info.name in s.scores.summary for s in systems):
            continue
        arrow = "↑" if info.higher_is_better else "↓"
        cells = [
            f'<td class="l" title="{escape(info.description)}">{arrow} {escape(info.label)}</td>'
        ]
        cells += [_cell(s.scores.summary.get(info.name), info) for s in systems]
        base = result.baseline.scores.summary.get(info.name)
        cells.append(_cell(base, info) if info.basis == "reference" else "<td>–</td>")
        rows.append(cells)
    corpus = sorted({k for s in systems for k in s.scores.corpus})
    for name in corpus:
        found = next((i for i in result.infos if i.name == name), None)
        label = found.label if found else name
        arrow = "↑" if found is None or found.higher_is_better else "↓"
        cells = [_l(f"{arrow} {label}")]
        cells += [f"<td>{_fmt(s.scores.corpus.get(name), found)}</td>" for s in systems]
        cells.append(f"<td>{_fmt(result.baseline.scores.corpus.get(name), found)}</td>")
        rows.append(cells)
    rows.append(
        [_l("Cases failed / skipped / served from cache")]
        + [f"<td>{s.failures} / {s.skipped} / {s.cached}</td>" for s in systems]
        + ["<td>–</td>"]
    )
    return _table(head, rows)


def _comparisons(result: EvalResult) -> str:
    if not result.comparisons:
        return '<p class="muted">One system only: nothing to compare.</p>'
    infos = {i.name: i for i in result.infos}
    rows = []
    for c in result.comparisons:
        info = infos.get(c.metric)
        verdict_class = {"better": "better", "worse": "worse"}.get(c.verdict, "muted")
        rows.append(
            [
                _l(f"{c.system} − {c.against}"),
                _l(info.label if info else c.metric),
                f"<td>{_fmt(c.result.delta, info)}</td>",
                f"<td>[{_fmt(c.result.low, info)}, {_fmt(c.result.high, info)}]</td>",
                f"<td>{c.result.p_value:.4f}</td>",
                f"<td>{c.result.n}</td>",
                f'<td class="l {verdict_class}">{escape(c.verdict)}</td>',
            ]
        )
    ci = f"{result.suite.stats.confidence:.0%}"
    return _table(
        ["Comparison", "Metric", "Δ (mean)", f"{ci} CI", "p (AR)", "n", "Verdict"], rows, left=2
    )


def _breakdowns(result: EvalResult) -> str:
    infos = {i.name: i for i in result.infos}
    parts = []
    for by, tables in result.breakdowns.items():
        for system, table in tables.items():
            if not table:
                continue
            metrics = list(next(iter(table.values())))
            head = [by.capitalize(), "n", *(infos[m].label for m in metrics)]
            rows = []
            for group, row in table.items():
                n = max((cell.n for cell in row.values()), default=0)
                rows.append(
                    [_l(group), f"<td>{n}</td>"]
                    + [f"<td>{_fmt(row[m].mean, infos[m])}</td>" for m in metrics]
                )
            parts.append(f"<h3>{escape(system)} by {escape(by)}</h3>" + _table(head, rows))
    return "".join(parts)


def _error_kinds(result: EvalResult) -> str:
    parts = []
    for system, table in result.error_kinds.items():
        if not table:
            continue
        if not any(n for counts in table.values() for n in counts.values()):
            parts.append(
                f'<p class="muted">{escape(system)}: no verifier error flag on any case.</p>'
            )
            continue
        kinds = list(next(iter(table.values())))
        rows = [[_l(mod), *(f"<td>{table[mod][k]}</td>" for k in kinds)] for mod in table]
        parts.append(
            f"<h3>{escape(system)}</h3>"
            + _table(["Modality", *(k.replace("_", " ") for k in kinds)], rows)
        )
    return "".join(parts)


def _injection(result: EvalResult) -> str:
    inj = result.injection
    if inj is None:
        return '<p class="muted">Error injection was not run.</p>'
    metrics = [m for m in inj.metrics if any(inj.cells[k][m.name].n for k in inj.kinds)]
    head = ["Metric", "Basis", *(k.replace("_", " ") for k in inj.kinds)]
    rows = [
        [_l("cases injected (reference / draft)"), _l("")]
        + [f"<td>{inj.applied[k]['reference']} / {inj.applied[k]['draft']}</td>" for k in inj.kinds]
    ]
    for m in metrics:
        cells = [_l(m.label), _l(m.basis)]
        for kind in inj.kinds:
            c = inj.cells[kind][m.name]
            if c.n == 0 or c.delta is None or c.detected is None or c.sensitivity is None:
                cells.append("<td>–</td>")
                continue
            cls = "better" if c.sensitivity >= 0.3 else ("worse" if c.sensitivity < 0.1 else "")
            cells.append(
                f'<td><span class="{cls}">{c.sensitivity:.2f}</span>'
                f'<br><span class="ci">Δ {_fmt(c.delta, m)}; moved {c.detected:.0%}</span></td>'
            )
        rows.append(cells)
    source = f"the <b>{escape(inj.draft_source)}</b> drafts" if inj.draft_source else "no drafts"
    intro = (
        f"<p>On up to {inj.cases} cases, one error of each kind was injected into a correct "
        "report and every metric re-scored. Each cell: the <b>sensitivity</b> — how far the "
        "metric moved in its worse direction, as a share of its scale (1 for rates, shares, "
        "P/R/F1 and error counts; 100 for ROUGE-L and BLEU), averaged over the cases — then the "
        "mean change Δ and the share of cases where it moved at all. Green ≥ 0.30: one error "
        "costs a visible part of the scale; red &lt; 0.10: the metric is nearly blind to it. "
        "Reference-based metrics score the reference itself as the draft (clean = ceiling); "
        f"inputs-based metrics use {source}, re-verified after injection.</p>"
    )
    return intro + _table(head, rows, left=2)


def _worst(result: EvalResult) -> str:
    infos = {i.name: i for i in result.infos}
    parts = []
    for system, rows in result.worst.items():
        if not rows:
            continue
        body = []
        for w in rows:
            flags = "<br>".join(escape(f) for f in w.flags[:8]) or '<span class="muted">none</span>'
            if len(w.flags) > 8:
                flags += f"<br>… {len(w.flags) - 8} more"
            if w.recommendation_miss:
                flags = f"<b>recommendation missed:</b> {escape(w.recommendation_miss)}<br>" + flags
            if w.error:
                flags = f"<b>error:</b> {escape(w.error)}"
            body.append(
                [
                    _l(w.case_id),
                    _l(w.modality),
                    _l(w.template),
                    f"<td>{_fmt(w.value, infos.get(w.key_metric))}</td>",
                    f'<td class="l flags">{escape(w.draft_text) or "–"}</td>',
                    f'<td class="l flags">{escape(w.reference) or "–"}</td>',
                    f'<td class="l flags">{flags}</td>',
                ]
            )
        key = infos[rows[0].key_metric].label if rows[0].key_metric in infos else rows[0].key_metric
        parts.append(
            f"<h3>{escape(system)} (ranked by {escape(key)})</h3>"
            + _table(
                ["Case", "Modality", "Template", key, "Draft (same span)", "Reference", "Flags"],
                body,
                3,
            )
        )
    return "".join(parts)


def _thresholds(result: EvalResult) -> str:
    if not result.thresholds:
        return '<p class="pass">No thresholds set for this suite.</p>'
    failed = [t for t in result.thresholds if not t.passed]
    lines = "<br>".join(escape(t.line()) for t in result.thresholds)
    if failed:
        return f'<p class="fail"><b>{len(failed)} threshold(s) failed.</b><br>{lines}</p>'
    return f'<p class="pass"><b>All {len(result.thresholds)} thresholds passed.</b><br>{lines}</p>'


def render_html(result: EvalResult, *, generated: datetime | None = None) -> str:
    """The whole report as one HTML string."""
    plots = all_plots(result)
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    systems = ", ".join(
        f"<b>{escape(s.name)}</b> ({escape(s.spec.backend)}"
        + (f", {escape(s.spec.model)}" if s.spec and s.spec.model else "")
        + (f", prompts {escape(s.spec.prompts)}" if s.spec and s.spec.prompts else "")
        + ")"
        for s in result.systems
        if s.spec
    )
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in result.notes)
    suite = result.suite
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>reportdraft eval: {escape(suite.name)}</title><style>{CSS}</style></head><body>
<h1>Evaluation report: {escape(suite.name)}</h1>
<p>{escape(suite.description or "")}</p>
<p class="muted">{len(result.contexts)} cases · systems: {systems} · prompt version
{escape(result.prompt_version)} · {suite.stats.confidence:.0%} CIs from {suite.stats.resamples}
paired bootstrap resamples (seed {suite.stats.seed}) · generated {when}</p>
{_thresholds(result)}
{notes}
<h2>1. How accurate are the drafts?</h2>
<p>Mean per case with its bootstrap confidence interval and the number of cases the metric is
defined on. ↑ higher is better, ↓ lower is better. <b>Reference</b> metrics compare the draft
with the signed report; <b>inputs</b> metrics check it against what was dictated and confirmed
(the verifier's flags). The constant impression “{escape(suite.baseline_impression)}” is scored
on the same cases: a lexical score means little unless it clears that floor.</p>
{_summary(result)}
{_img(plots["metrics"], "metrics by system with confidence intervals")}
{_img(plots["lexical"], "ROUGE-L and BLEU beside the constant-impression baseline")}
<h2>2. Did it get better or worse?</h2>
<p>Paired differences on the same cases (later system minus the first; each system minus the
baseline on reference metrics), with the bootstrap CI and an approximate-randomisation p-value.
“Better”/“worse” only when the CI excludes zero and p is below 1 − the confidence level.</p>
{_comparisons(result)}
<h2>3. Where does it fail?</h2>
<h3>Verifier flags by modality</h3>
{_img(plots["errors"], "error kinds by modality")}
{_error_kinds(result)}
{_breakdowns(result)}
<h3>Latency</h3>
{_img(plots["latency"], "latency distribution")}
<h2>4. Which metrics see which errors? (error injection)</h2>
{_img(plots["injection"], "injection detection heatmap")}
{_injection(result)}
<h2>5. Worst cases</h2>
{_worst(result)}
<h2>Metric definitions</h2>
{
        _table(
            ["Metric", "Basis", "Definition"],
            [[_l(i.label), _l(i.basis), _l(i.description)] for i in result.infos],
            left=3,
        )
    }
</body></html>
"""
