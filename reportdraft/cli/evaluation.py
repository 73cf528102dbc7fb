"""Evaluation commands: ``eval`` (run a suite) and ``eval-build`` (suites from public data).

``reportdraft eval SUITE.yaml --out DIR`` drafts every case with every system (cached in
``DIR/cache``), writes ``results.json``, ``cases.csv`` and ``report.html`` and prints one
line per threshold; it exits 1 when a threshold fails, so a CI job can gate a model or
prompt rollout on it (2 for configuration and input errors, like every command).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reportdraft.cli.common import reports_errors
from reportdraft.errors import ConfigurationError
from reportdraft.settings import Settings

THRESHOLD_FAILED = 1
"""Exit status when the suite ran but a threshold failed."""


@click.command("eval")
@click.argument("suite_file", metavar="SUITE.yaml", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "-o",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/eval"),
    show_default=True,
    help="Directory for results.json, cases.csv, report.html and the drafts cache.",
)
@click.option(
    "--system", "systems", multiple=True, metavar="NAME", help="Run only these systems (repeat)."
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="First N cases only.")
@click.option(
    "--no-cache", is_flag=True, help="Re-draft every case (the cache is neither read nor written)."
)
@click.option(
    "--injection/--no-injection", default=None, help="Override the suite's error-injection setting."
)
@click.option("--no-html", is_flag=True, help="Skip the HTML report (JSON and CSV only).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--concurrency",
    "-j",
    type=click.IntRange(min=1, max=1024),
    default=None,
    help="Cases drafted at once by each system (default: the system's 'concurrency', else "
    "its backend's: 1 for a model in this process, 8 for a server). Results do not depend "
    "on it.",
)
@reports_errors
def eval_command(
    suite_file: str,
    out_dir: Path,
    systems: tuple[str, ...],
    limit: int | None,
    no_cache: bool,
    injection: bool | None,
    no_html: bool,
    quiet: bool,
    concurrency: int | None,
) -> None:
    """Run an evaluation suite and write JSON, CSV and HTML reports."""
    from reportdraft.evaluation import load_suite, run_suite, write_reports

    settings = Settings.from_env()
    suite = load_suite(suite_file)
    result = run_suite(
        suite,
        out_dir,
        systems=systems or None,
        use_cache=not no_cache,
        progress=not quiet,
        limit=limit,
        injection=injection,
        template_dirs=settings.template_dirs,
        concurrency=concurrency,
        piece_concurrency=settings.draft_concurrency,
    )
    for path in write_reports(result, out_dir, html=not no_html):
        click.echo(f"wrote {path}")
    for system in result.systems:
        f1 = system.scores.mean("finding_f1")
        shown = "n/a" if f1 is None else f"{f1:.3f}"
        click.echo(
            f"{system.name}: {len(system.scores.per_case)} cases, {system.failures} failed, "
            f"{system.skipped} skipped, {system.cached} cached, finding F1 {shown}"
        )
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    for threshold in result.thresholds:
        click.echo(threshold.line(), err=not threshold.passed)
    if not result.passed:
        failed = sum(not t.passed for t in result.thresholds)
        click.echo(f"error [threshold_failed]: {failed} threshold(s) failed", err=True)
        sys.exit(THRESHOLD_FAILED)


@click.command("eval-build")
@click.argument("source", type=click.Choice(["openi", "mtsamples", "examples"]))
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the public data (default: $REPORTDRAFT_DATA); for 'examples', the "
    "examples folder (default: the bundled one).",
)
@click.option(
    "--out",
    "-o",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for SUITE.yaml and its cases JSONL (keep it outside the repository).",
)
@click.option(
    "--split",
    default="validate",
    show_default=True,
    help="Open-i split: validate (341 pairs) or train.",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="First N usable rows.")
@reports_errors
def eval_build(
    source: str, data_dir: Path | None, out_dir: Path, split: str, limit: int | None
) -> None:
    """Build an eval suite from public report text (Open-i, MTSamples) or the examples.

    ``examples`` regenerates examples.cases.jsonl from examples/*.json and
    OUT/examples.references.yaml (e.g. ``--out eval``).
    """
    from reportdraft.evaluation.builders import write_suite
    from reportdraft.resources import data_dir as bundled
    from reportdraft.templates import site_library

    settings = Settings.from_env()
    data = data_dir or (bundled("examples") if source == "examples" else settings.data_dir)
    if data is None:
        raise ConfigurationError("no data folder: pass --data DIR or set REPORTDRAFT_DATA")
    library = site_library(settings.template_dirs)
    checkout = Path(__file__).resolve().parents[2]
    if source != "examples" and out_dir.resolve().is_relative_to(checkout):
        click.echo(
            f"warning: {out_dir} is inside the reportdraft checkout; the public data's licence "
            "forbids redistributing it: do not commit these files",
            err=True,
        )
    report = write_suite(source, data, out_dir, library=library, split=split, limit=limit)
    click.echo(report.summary())
    for path in report.files:
        click.echo(f"wrote {path}")


COMMANDS = [eval_command, eval_build]
