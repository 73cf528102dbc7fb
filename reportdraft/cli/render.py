"""Render and validate commands: ``reportdraft render`` and ``reportdraft validate fhir``.

``reportdraft render REPORT.json --trust PEM|DIR --format pdf|fhir|hl7|all --out DIR``
verifies every signature and version link of the stored report against the trusted public
keys (``--trust``, repeatable, else ``REPORTDRAFT_TRUSTED_KEYS``), then writes the current
version (as ``reportdraft sign`` wrote it) as ``<accession>-v<n>.pdf``, ``.fhir.json`` and
``.hl7`` (ER7 with ``\\r`` separators, UTF-8), all-or-nothing. A report that fails
verification exits 1 with ``error [signature_invalid]: ...`` and writes nothing; a signed
report with no trusted key configured exits 2 (``no_trusted_keys``). An unsigned draft is
rendered only with ``--preview``, watermarked DRAFT / NOT FOR CLINICAL USE. The HL7
message always passes the fast structural validation; ``--strict`` also runs hl7apy's
strict parse (slow, for conformance checks).
``reportdraft validate fhir FILE.json`` prints every violation of our US Core profile checks
and exits 1 when there is any.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from reportdraft.attest import SigningKey, VerifyKey, load_signing_key, load_trusted_keys
from reportdraft.cli.common import reports_errors
from reportdraft.errors import InputError
from reportdraft.io import read_json, write_files
from reportdraft.models import Report
from reportdraft.render import check_us_core, render_fhir, render_hl7, render_pdf
from reportdraft.render.fhir import structured_bundle
from reportdraft.render.pades import sign_pdf
from reportdraft.render.trust import SignatureInvalidError, is_preview, verified_report
from reportdraft.settings import Settings

FORMATS = ("pdf", "fhir", "hl7", "all")


def render_files(
    report: Report,
    fmt: str,
    *,
    pades_key: SigningKey | None = None,
    preview: bool = False,
    stem: str | None = None,
    strict: bool = False,
) -> dict[str, str | bytes]:
    """The files ``render`` writes for ``fmt``, by name (``<stem>.pdf`` and so on).

    ``report`` must come from :func:`~reportdraft.render.trust.verified_report`. With
    ``pades_key`` (the key that made the current version's signature, nothing else) the
    PDF gets a PAdES signature by the report's signer with the FHIR JSON (text form)
    embedded, and the FHIR and HL7 outputs carry that signed PDF. ``preview`` allows an
    unsigned draft, rendered as a watermarked preview. ``strict`` also parses the HL7
    message with hl7apy's strict validator (slow; the fast structural check always runs).
    """
    current = report.current
    stem = stem or re.sub(
        r"[^A-Za-z0-9\-_.]", "_", f"{current.case.study.accession_number}-v{current.version}"
    )
    wanted = {"pdf", "fhir", "hl7"} if fmt == "all" else {fmt}
    pdf = render_pdf(report, preview=preview)
    if pades_key is not None:
        if current.signer is None or current.signature is None or is_preview(current):
            raise InputError("the report is not signed: nothing to PAdES-sign", code="not_signed")
        if pades_key.key_id != current.signature.key_id:
            raise InputError(
                f"--pades-key {pades_key.key_id} is not the key that signed version "
                f"{current.version} ({current.signature.key_id})",
                code="pades_key_mismatch",
            )
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
        bundle = render_fhir(report, pdf=pdf, preview=preview)
        files[f"{stem}.fhir.json"] = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if "hl7" in wanted:
        message = render_hl7(report, pdf=pdf, preview=preview, strict=strict)
        files[f"{stem}.hl7"] = message.encode("utf-8")
    return files


def render_report_data(
    data: object,
    *,
    keyring: Mapping[str, VerifyKey],
    fmt: str = "all",
    preview: bool = False,
    pades_key: SigningKey | None = None,
    stem: str | None = None,
    strict: bool = False,
) -> dict[str, str | bytes]:
    """The renderings of a stored report file's parsed JSON, once it verifies.

    The one path from a stored report to its renderings (``render`` and ``demo`` both use
    it): verify every signature and version link of ``data`` as stored against
    ``keyring`` (:func:`~reportdraft.render.trust.verified_report`), then render.
    """
    report = verified_report(data, keyring)
    return render_files(report, fmt, pades_key=pades_key, preview=preview, stem=stem, strict=strict)


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
@click.option(
    "--trust",
    multiple=True,
    metavar="PEM|DIR",
    help="Trusted public key: a PEM file, a published key document (JSON) or a directory "
    "of them (repeatable). "
    "Env: REPORTDRAFT_TRUSTED_KEYS (os.pathsep-separated).",
)
@click.option(
    "--preview",
    is_flag=True,
    help="Render an unsigned draft as a preview watermarked DRAFT / NOT FOR CLINICAL USE.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also validate the HL7 message with hl7apy's strict parser (about 150 ms a "
    "message; the fast structural validation always runs).",
)
@reports_errors
def render_command(
    report_file: str,
    fmt: str,
    out_dir: Path,
    pades_key: str | None,
    trust: tuple[str, ...],
    preview: bool,
    strict: bool,
) -> None:
    """Verify the signed REPORT.json, then render it as PDF, FHIR R4 Bundle and/or HL7 v2.

    Exits 1 (``signature_invalid``, nothing written) when a signature or version link does
    not verify against the trusted keys.
    """
    keyring = load_trusted_keys(*(trust or Settings.from_env().trusted_keys))
    data = read_json(report_file, what="report")
    key = load_signing_key(pades_key) if pades_key else None
    try:
        files = render_report_data(
            data, keyring=keyring, fmt=fmt, preview=preview, pades_key=key, strict=strict
        )
    except SignatureInvalidError as exc:
        click.echo(f"error [{exc.code}]: {exc.message}", err=True)
        for problem in exc.problems[1:]:
            click.echo(f"  also [{problem.code}]: {problem.detail}", err=True)
        sys.exit(1)
    for path in write_files(out_dir, files):
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
