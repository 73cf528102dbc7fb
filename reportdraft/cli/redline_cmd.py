"""The ``redline`` command: the radiologist's edits to a draft, as JSON and HTML."""

from __future__ import annotations

from pathlib import Path

import click

from reportdraft.cli.common import reports_errors
from reportdraft.errors import InputError
from reportdraft.io import dump_json, load_draft, parse_model, read_json, write_paths
from reportdraft.models import Draft
from reportdraft.models.report import Report, ReportVersion
from reportdraft.redline import redline, render_html


def load_final(path: str) -> Draft | ReportVersion:
    """The final content from a file holding an edited ``Draft``, a ``ReportVersion`` or a
    ``Report`` (its current version)."""
    data = read_json(path, what="final report")
    if isinstance(data, dict) and "versions" in data:
        return parse_model(Report, data, error=InputError, what="report").current
    if isinstance(data, dict) and "content" in data:
        return parse_model(ReportVersion, data, error=InputError, what="report version")
    return parse_model(Draft, data, error=InputError, what="final draft")


@click.command("redline")
@click.argument("draft_file", metavar="DRAFT.json", type=click.Path(dir_okay=False))
@click.argument("final_file", metavar="FINAL.json", type=click.Path(dir_okay=False))
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the redline as an HTML page.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON here instead of standard output.",
)
@reports_errors
def redline_command(
    draft_file: str, final_file: str, html_out: Path | None, json_out: Path | None
) -> None:
    """Diff the model's DRAFT.json against FINAL.json (edited draft or signed report).

    Prints the redline JSON (section diffs, clinical changes, edit statistics).
    """
    result = redline(load_draft(draft_file), load_final(final_file))
    text = dump_json(result)
    files: dict[Path, str] = {}
    if html_out is not None:
        files[html_out] = render_html(result)
    if json_out is not None:
        files[json_out] = text
    write_paths(files)
    if json_out is None:
        click.echo(text, nl=False)
    else:
        s = result.stats
        click.echo(
            f"{len(result.changes)} clinical changes; {s.unchanged}/{s.draft_statements} "
            f"statements unchanged; normalised edit distance "
            f"{s.normalized_edit_distance:.3f} -> {json_out}"
        )


COMMANDS: list[click.Command] = [redline_command]
