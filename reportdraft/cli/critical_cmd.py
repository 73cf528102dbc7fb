"""``reportdraft critical``: critical-finding mentions in free text, or in a batch of reports."""

from __future__ import annotations

import json

import click
from pydantic import ValidationError

from reportdraft.cli.common import reports_errors
from reportdraft.errors import InputError
from reportdraft.io import read_text


def _read(source: str) -> str:
    text = read_text(source, what="report text")
    if not text.strip():
        raise InputError(f"{source} is empty")
    return text


@click.command()
@click.argument("source", metavar="FILE|-")
@click.option(
    "--section-aware",
    is_flag=True,
    help="Read section headers (INDICATION:, FINDINGS:, IMPRESSION:) from the text; "
    "indication text then counts as hypothetical. A history, comparison or technique "
    "header governs only its own content.",
)
@click.option(
    "--jsonl",
    is_flag=True,
    help='FILE holds one report per line, {"id", "text"} (optionally "body_part", '
    '"modality"); print one line {"id", "mentions"} per report, each analysed alone.',
)
@click.option(
    "--body-part",
    default=None,
    metavar="TEXT",
    help='The study\'s body part, e.g. "chest": an unqualified nodule or mass is a lung '
    "finding in a chest study (with --jsonl: for lines that give none).",
)
@click.option("--modality", default=None, metavar="CODE", help="The study's modality (XR, CT …).")
@reports_errors
def critical(
    source: str,
    section_aware: bool,
    jsonl: bool,
    body_part: str | None,
    modality: str | None,
) -> None:
    """Print every critical-finding mention in FILE (or stdin) as JSON, with ``alert``."""
    from reportdraft import critical as detector
    from reportdraft.critical.batch import detect_documents, read_jsonl, to_jsonl
    from reportdraft.models.critical import StudyScope

    study = None
    if body_part is not None or modality is not None:
        try:
            study = StudyScope(body_part=body_part, modality=modality)
        except ValidationError as exc:
            raise InputError(f"--body-part/--modality: {exc.errors()[0]['msg']}") from None
    text = _read(source)
    if jsonl:
        documents = read_jsonl(text, "stdin" if source == "-" else source)
        results = detect_documents(documents, section_aware=section_aware, study=study)
        click.echo(to_jsonl(results), nl=False)
        return
    found = detector.run_cli(text, section_aware, study)
    click.echo(json.dumps(found, indent=2, ensure_ascii=False))


COMMANDS = [critical]
