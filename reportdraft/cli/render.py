"""Render and validate commands: ``reportdraft render`` and ``reportdraft validate fhir``.

``reportdraft render REPORT.json --format pdf|fhir|hl7|all --out DIR`` writes the current
version of a signed report (as ``reportdraft sign`` wrote it) as
``<accession>-v<n>.pdf``, ``.fhir.json`` and ``.hl7`` (ER7 with ``\\r`` separators, UTF-8),
all-or-nothing. ``reportdraft validate fhir FILE.json`` prints every violation of our US Core
profile checks and exits 1 when there is any.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from reportdraft.attest import SigningKey, load_signing_key
from reportdraft.cli.common import reports_errors
from reportdraft.errors import InputError
from reportdraft.io import parse_model, read_json, write_files
from reportdraft.models import Report
from reportdraft.render import check_us_core, render_fhir, render_hl7, render_pdf
from reportdraft.render.fhir import structured_bundle
from reportdraft.render.pades import sign_pdf

FORMATS = ("pdf", "fhir", "hl7", "all")


def load_report(path: str) -> Report:
    """Load and validate a stored report."""
    return parse_model(Report, read_json(path, what="report"), error=InputError, what="report")


def render_files(
    report: Report, fmt: str, *, pades_key: SigningKey | None = None
) -> dict[str, str | bytes]:
    """The files ``render`` writes for ``fmt``, by name.

    With ``pades_key`` the PDF gets a PAdES signature by the report's signer with the FHIR
    JSON (text form) embedded, and the FHIR and HL7 outputs carry that signed PDF.
    """
    current = report.current
    stem = re.sub(
        r"[^A-Za-z0-9\-_.]", "_", f"{current.case.study.accession_number}-v{current.version}"
    )
    wanted = {"pdf", "fhir", "hl7"} if fmt == "all" else {fmt}
    pdf = render_pdf(report)
    if pades_key is not None:
        if current.signer is None:
            raise InputError("the report is not signed: nothing to PAdES-sign")
        embedded = json.dumps(structured_bundle(report), indent=2, ensure_ascii=False)
        pdf = sign_pdf(
            pdf,
            key=pades_key,
            signer=current.signer,
            attachments={f"{stem}.fhir.json": (embedded.encode("utf-8"), "application/fhir+json")},
        )
    files: dict[str, str | bytes] = {}
    if "pdf" in wanted:
        files[f"{stem}.pdf"] = pdf
    if "fhir" in wanted:
        bundle = render_fhir(report, pdf=pdf)
        files[f"{stem}.fhir.json"] = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if "hl7" in wanted:
        files[f"{stem}.hl7"] = render_hl7(report, pdf=pdf).encode("utf-8")
    return files


@click.command("render")
@click.argument("report_file", metavar="REPORT.json", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="all",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--out",
    "-o",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory.",
)
@click.option(
    "--pades-key",
    default=None,
    metavar="PEM|PATH",
    help="Also PAdES-sign the PDF with this key (the report signer's; needs pyhanko).",
)
@reports_errors
def render_command(report_file: str, fmt: str, out_dir: Path, pades_key: str | None) -> None:
    """Render the signed REPORT.json as PDF, FHIR R4 Bundle and/or HL7 v2 ORU^R01."""
    report = load_report(report_file)
    key = load_signing_key(pades_key) if pades_key else None
    for path in write_files(out_dir, render_files(report, fmt, pades_key=key)):
        click.echo(str(path))


@click.group("validate")
def validate_group() -> None:
    """Check rendered documents against the profiles we claim."""


@validate_group.command("fhir")
@click.argument("bundle_file", metavar="FILE.json", type=click.Path(dir_okay=False))
@reports_errors
def validate_fhir(bundle_file: str) -> None:
    """Run the US Core profile checks on a FHIR Bundle; print every violation, exit 1 if any."""
    data = read_json(bundle_file, what="FHIR Bundle")
    if not isinstance(data, dict):
        raise InputError("a FHIR Bundle file must hold a JSON object")
    problems = check_us_core(data)
    for problem in problems:
        click.echo(f"FAIL {problem}")
    if problems:
        raise SystemExit(1)
    click.echo("ok: Bundle conforms to the US Core DiagnosticReport Note checks")


COMMANDS: list[click.Command] = [render_command, validate_group]
