"""Core commands: draft, verify, demo, schema, templates, critical."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from pydantic import BaseModel

from reportdraft import drafting
from reportdraft.backends import Backend, BackendOptions, create_backend
from reportdraft.cli.common import backend_options, reports_errors
from reportdraft.io import dump_json, load_case, load_draft, write_files
from reportdraft.models import Case, Draft, Severity
from reportdraft.resources import data_dir
from reportdraft.settings import Settings
from reportdraft.templates import TemplateLibrary


def make_backend(
    settings: Settings,
    backend: str | None,
    model: str | None,
    base_url: str | None,
    dialect: str | None,
) -> Backend:
    """Create the backend named on the command line or in the environment."""
    options = BackendOptions(
        model=model or settings.model,
        base_url=base_url or settings.base_url,
        api_key=settings.api_key,
        dialect=(dialect or settings.dialect),  # type: ignore[arg-type]
        timeout_s=settings.model_timeout_s,
    )
    return create_backend(backend or settings.backend, options)


def library(settings: Settings) -> TemplateLibrary:
    """Bundled templates with the site's overrides on top."""
    return TemplateLibrary.load(data_dir("templates"), *settings.template_dirs)


@click.command()
@click.argument("case_file", metavar="CASE.json", type=click.Path(dir_okay=False))
@backend_options
@click.option(
    "--out",
    "-o",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Directory for draft.json and draft.txt.",
)
@reports_errors
def draft(
    case_file: str,
    backend: str | None,
    model: str | None,
    base_url: str | None,
    dialect: str | None,
    out_dir: Path,
) -> None:
    """Draft a report for CASE.json; writes draft.json (with flags) and draft.txt."""
    settings = Settings.from_env()
    case = load_case(case_file)
    result = drafting.draft_case(
        case,
        make_backend(settings, backend, model, base_url, dialect),
        library=library(settings),
        concurrency=settings.draft_concurrency,
    )
    written = write_files(
        out_dir,
        {
            "draft.json": dump_json(result.draft),
            "draft.txt": drafting.format_draft(result.draft, result.template),
        },
    )
    high = sum(f.severity is Severity.HIGH for f in result.draft.flags)
    click.echo(
        f"wrote {', '.join(str(p) for p in written)} ({len(result.draft.flags)} flags, {high} high)"
    )


@click.command()
@click.argument("case_file", metavar="CASE.json", type=click.Path(dir_okay=False))
@click.argument("draft_file", metavar="DRAFT.json", type=click.Path(dir_okay=False))
@reports_errors
def verify(case_file: str, draft_file: str) -> None:
    """Check DRAFT.json against CASE.json; print flags as JSON; exit 1 on high severity."""
    settings = Settings.from_env()
    case = load_case(case_file)
    checked = _reannotate(case, load_draft(draft_file), settings)
    click.echo(json.dumps([f.model_dump(mode="json") for f in checked.flags], indent=2))
    sys.exit(1 if any(f.severity is Severity.HIGH for f in checked.flags) else 0)


def _reannotate(case: Case, draft_doc: Draft, settings: Settings) -> Draft:
    dictation, template = drafting.prepare(case, library(settings))
    if draft_doc.accession_number != case.study.accession_number:
        from reportdraft.errors import DraftValidationError

        raise DraftValidationError(
            f"draft is for accession {draft_doc.accession_number}, case is "
            f"{case.study.accession_number}"
        )
    return drafting.annotate(case, dictation, template, draft_doc)


@click.command()
@click.argument("what", type=click.Choice(["case", "draft"]))
@reports_errors
def schema(what: str) -> None:
    """Print the JSON schema of a case or a draft."""
    model: type[BaseModel] = Case if what == "case" else Draft
    click.echo(json.dumps(model.model_json_schema(), indent=2))


@click.command()
@reports_errors
def templates() -> None:
    """List the available templates (bundled plus REPORTDRAFT_TEMPLATES overrides)."""
    for t in library(Settings.from_env()).all():
        codes = ", ".join(c.code for c in t.procedure_codes)
        click.echo(f"{t.id:<24} {t.modality.value:<3} v{t.version:<5} {t.title}  [{codes}]")


@click.command()
@backend_options
@click.option(
    "--out",
    "-o",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
)
@reports_errors
def demo(
    backend: str | None, model: str | None, base_url: str | None, dialect: str | None, out_dir: Path
) -> None:
    """Run every bundled example through the whole workflow and say where it wrote what.

    Per case: draft (default: the embedded model), verify, critical findings, a simulated
    attending's review and signature (reportdraft.demo), the redline of draft vs signed
    report, and the PDF / FHIR / HL7 renderings. The renderings go through the same
    verified path as ``reportdraft render``: the stored report.json is verified against
    the demo's public key, read back from the PEM file the demo wrote (so
    ``reportdraft render demo-out/<case>/report.json --trust demo-out/`` works too).
    """
    from reportdraft import demo as simulated
    from reportdraft.attest import generate_signing_key, load_trusted_keys
    from reportdraft.cli.render import render_report_data
    from reportdraft.redline import redline, render_html
    from reportdraft.render import SignatureInvalidError, check_us_core

    settings = Settings.from_env()
    chosen = make_backend(settings, backend, model, base_url, dialect)
    lib = library(settings)
    key = generate_signing_key()
    examples = sorted(data_dir("examples").glob("*.json"))
    (public_pem,) = write_files(
        out_dir, {"demo-signing-key.pub.pem": key.verify_key.public_pem().decode()}
    )
    keyring = load_trusted_keys(public_pem)
    click.echo(
        f"reportdraft demo: {len(examples)} example cases, backend {chosen.name} "
        f"({chosen.model_id}); signing key {key.key_id} (public key in {public_pem})"
    )
    failed = 0
    for path in examples:
        start = time.perf_counter()
        case = load_case(path)
        result = drafting.draft_case(
            case, chosen, library=lib, concurrency=settings.draft_concurrency
        )
        report = simulated.review_and_sign(result, key=key, at=datetime.now(UTC))
        signed = report.versions[-1]
        stored = dump_json(report)
        target = out_dir / path.stem
        files: dict[str, str | bytes] = {
            "draft.json": dump_json(result.draft),
            "draft.txt": drafting.format_draft(result.draft, result.template),
            "report.json": stored,
            "redline.html": render_html(redline(result.draft, signed)),
        }
        try:
            renderings = render_report_data(json.loads(stored), keyring=keyring, stem="report")
        except SignatureInvalidError as exc:
            failed += 1
            status, violations = f"SIGNATURE PROBLEMS: {exc.details['problems']}", ["skipped"]
        else:
            files.update(renderings)
            bundle = json.loads(renderings["report.fhir.json"])
            status, violations = "signature ok", check_us_core(bundle)
        write_files(target, files)
        alerts = sorted({m.label for m in result.draft.critical if m.alert})
        fallback = sum(st.fallback for st in result.draft.statements())
        click.echo(
            f"  {path.stem:<22} {result.template.id:<18} {time.perf_counter() - start:5.1f}s  "
            f"{len(result.draft.flags):2d} flags  {fallback:2d} fallback stmts  "
            f"{signed.status.value} ({status}; US Core: {len(violations)} violations)  "
            f"alerts: {', '.join(alerts) or '-'}  -> {target}/"
        )
    click.echo(f"done: drafts, signed reports, redlines, PDF/FHIR/HL7 under {out_dir}/")
    if failed:
        click.echo(f"error [signature_invalid]: {failed} report(s) did not verify", err=True)
        sys.exit(1)


COMMANDS = [draft, verify, demo, schema, templates]
