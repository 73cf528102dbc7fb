"""Core commands: draft, verify, recommend, demo, schema, templates."""

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
from reportdraft.models import Case, Draft, Modality, Severity
from reportdraft.resources import data_dir
from reportdraft.settings import Settings
from reportdraft.templates import TemplateLibrary, site_library


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
    return site_library(settings.template_dirs)


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
@click.option(
    "--strict-template",
    is_flag=True,
    help="Refuse (template_not_found) a study no specific template fits, instead of "
    "drafting it on the generic template.",
)
@reports_errors
def draft(
    case_file: str,
    backend: str | None,
    model: str | None,
    base_url: str | None,
    dialect: str | None,
    out_dir: Path,
    strict_template: bool,
) -> None:
    """Draft a report for CASE.json; writes draft.json (with flags) and draft.txt.

    A study no specific template fits is drafted on the generic template (no normal
    defaults, a low generic_template flag) unless --strict-template is given.
    """
    settings = Settings.from_env()
    case = load_case(case_file)
    result = drafting.draft_case(
        case,
        make_backend(settings, backend, model, base_url, dialect),
        library=library(settings),
        concurrency=settings.draft_concurrency,
        strict_template=strict_template,
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
@click.argument("case_file", metavar="CASE.json", type=click.Path(dir_okay=False, allow_dash=True))
@reports_errors
def recommend(case_file: str) -> None:
    """Print the guideline follow-up recommendations for CASE.json (or - for stdin) as JSON.

    Fleischner 2017, Lung-RADS v2022, ACR TI-RADS, ACR incidental adrenal 2017, Bosniak
    2019 and BI-RADS 2013, each recommendation citing the case facts it rests on; guidelines
    that matched but do not apply, with the reason; dictated recommendations that contradict
    the guideline.
    """
    from reportdraft import guidelines

    click.echo(dump_json(guidelines.recommend(load_case(case_file))), nl=False)


@click.command()
@click.argument("what", type=click.Choice(["case", "draft"]))
@reports_errors
def schema(what: str) -> None:
    """Print the JSON schema of a case or a draft."""
    model: type[BaseModel] = Case if what == "case" else Draft
    click.echo(json.dumps(model.model_json_schema(), indent=2))


@click.group(invoke_without_command=True)
@click.pass_context
@reports_errors
def templates(ctx: click.Context) -> None:
    """List the available templates (bundled plus REPORTDRAFT_TEMPLATES overrides)."""
    if ctx.invoked_subcommand is not None:
        return
    for t in library(Settings.from_env()).all():
        codes = ", ".join(c.code for c in t.procedure_codes)
        modality = t.modality.value if t.modality is not None else "any"
        click.echo(f"{t.id:<24} {modality:<3} v{t.version:<5} {t.title}  [{codes}]")


@templates.command("explain")
@click.argument("case_file", metavar="CASE.json", type=click.Path(dir_okay=False))
@reports_errors
def templates_explain(case_file: str) -> None:
    """Say which rule picks which template for CASE.json, or why none does."""
    case = load_case(case_file)
    selection = library(Settings.from_env()).explain(case.study)
    for step in selection.steps:
        click.echo(f"  {step}")
    chosen = selection.template_id or "none (drafting refuses: template_not_found)"
    click.echo(f"template: {chosen} (rule: {selection.rule})")


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


@templates.command("import")
@click.argument("source", metavar="FILE.html|DIR", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "-o",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write the templates to (e.g. templates/site/).",
)
@click.option(
    "--modality",
    type=click.Choice([m.value for m in Modality]),
    default=None,
    help="Modality of the template(s), when their codes and title do not say.",
)
@click.option("--overwrite", is_flag=True, help="Replace templates that already exist.")
@reports_errors
def templates_import(source: Path, out_dir: Path, modality: str | None, overwrite: bool) -> None:
    """Import IHE MRRT (RadReport HTML) templates; print what could not be mapped.

    Exit 1 when any file could not be imported (the others are still written).
    """
    from reportdraft.templates.mrrt import import_path

    chosen = Modality(modality) if modality else None
    existing = library(Settings.from_env())
    results = import_path(source, out_dir, modality=chosen, overwrite=overwrite, existing=existing)
    for item in results:
        if item.written is None:
            click.echo(f"{item.source}: NOT IMPORTED: {item.error}")
            continue
        click.echo(f"{item.source}: wrote {item.written}")
        for line in item.unmapped:
            click.echo(f"  not mapped: {line}")
    failed = sum(item.written is None for item in results)
    click.echo(f"{len(results) - failed} imported, {failed} not imported")
    if failed:
        sys.exit(1)


COMMANDS = [draft, verify, recommend, demo, schema, templates]
