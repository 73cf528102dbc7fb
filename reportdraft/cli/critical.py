"""``reportdraft critical``: critical-finding mentions in free text."""

from __future__ import annotations

import json
import sys

import click

from reportdraft.cli.common import reports_errors
from reportdraft.errors import InputError
from reportdraft.io import MAX_INPUT_BYTES


@click.command()
@click.argument("source", metavar="FILE|-")
@click.option(
    "--section-aware",
    is_flag=True,
    help="Read section headers (INDICATION:, FINDINGS:, IMPRESSION:) from the text; "
    "indication text then counts as hypothetical.",
)
@reports_errors
def critical(source: str, section_aware: bool) -> None:
    """Print every critical-finding mention in FILE (or stdin) as JSON, with ``alert``."""
    from reportdraft import critical as detector

    if source == "-":
        text = sys.stdin.read(MAX_INPUT_BYTES + 1)
    else:
        try:
            with open(source, encoding="utf-8") as handle:
                text = handle.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read {source}: {exc.strerror}") from None
    if len(text) > MAX_INPUT_BYTES:
        raise InputError(f"{source} exceeds {MAX_INPUT_BYTES} bytes")
    if not text.strip():
        raise InputError(f"{source} is empty")
    click.echo(json.dumps(detector.run_cli(text, section_aware), indent=2, ensure_ascii=False))


COMMANDS = [critical]
