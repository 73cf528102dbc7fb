"""Attestation commands: sign, addendum, report verify, keys generate/rewrap, audit verify.

Input files (JSON; each validated strictly, unknown keys are errors):

* ``--case CASE.json``: a ``Case`` (``reportdraft schema case``).
* ``--draft DRAFT.json``: the model's ``Draft`` as ``reportdraft draft`` wrote it.
* ``--signoff SIGNOFF.json``: the radiologist's edits, AI-finding decisions, flag
  acknowledgements and critical-result communications; the format is documented in
  :mod:`reportdraft.attest.changes` (``statement_edits`` or ``content``, ``decisions``
  as ``{"A1": "confirmed"}``, ``acknowledgements`` as ``[{"flag_id", "reason"}]``,
  ``communications`` as ``CommunicationRecord`` objects, optional ``reason``).
* ``--signer SIGNER.json``: a ``Radiologist`` profile (id, name, credentials, role,
  NPI, licenses with region/number/expiry, key_id).
* ``--key``: the signer's Ed25519 private key, a PEM file path or the PEM text; default
  ``REPORTDRAFT_SIGNING_KEY``.
* ``--trust``: trusted public keys (repeatable): a PEM file, a key-document JSON (one or a
  list, as ``GET /v1/radiologists/{id}/keys`` returns them), or a directory of those
  (:func:`reportdraft.attest.load_trusted_keys`). Earlier versions must verify against
  them and, for ``sign``/``addendum``, the key used must be among them, be the signer's
  own (the document's ``owner`` is the signer's id) and not be revoked at ``--at``
  (refusals ``signer_key_untrusted``, ``key_not_signers``, ``key_revoked``). The
  profile's ``key_id`` must name the key in any case (``signer_key_mismatch``).
* ``--report REPORT.json``: a signed report this command continues (the attending's final
  over a prelim, an amendment or correction).

The output is the whole report (every version) as JSON, written only when every rule
passed; a refusal prints each reason code and exits with status 2, writing nothing. An
existing file at ``--out`` is not replaced unless ``--force`` is given (``output_exists``).
With ``--audit`` the report and the log's new entries are committed together: the report
is staged, the entries appended, then the report renamed into place; if that rename
fails the entries are taken back, so neither file changes.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import click

from reportdraft.attest import (
    AuditLog,
    SigningKey,
    SigningPolicy,
    SignOff,
    VerifyKey,
    add_addendum,
    events_for,
    generate_signing_key,
    load_signing_key,
    load_trusted_keys,
    open_report,
    read_log,
    sign,
    verify_chain,
    verify_report_data,
    write_key_files,
)
from reportdraft.cli.common import reports_errors
from reportdraft.cli.serve import database_option
from reportdraft.errors import ConfigurationError, InputError
from reportdraft.io import dump_json, load_case, load_draft, parse_model, read_json, stage_files
from reportdraft.models.report import Radiologist, Report, ReportStatus
from reportdraft.settings import Settings
from reportdraft.store import Database, signing_keys, upgrade
from reportdraft.store.signing_keys import kek_ring, require_keks

SIGN_STATUSES = [
    s.value for s in ReportStatus if s not in (ReportStatus.DRAFT, ReportStatus.APPENDED)
]


def _at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--at {value!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise InputError("--at needs a UTC offset, e.g. 2026-11-27T15:00:00Z")
    return parsed


def _key(value: str | None) -> SigningKey:
    value = value or Settings.from_env().signing_key
    if not value:
        raise ConfigurationError("no signing key: pass --key or set REPORTDRAFT_SIGNING_KEY")
    return load_signing_key(value)


def _keyring(paths: tuple[str, ...]) -> dict[str, VerifyKey] | None:
    return load_trusted_keys(*paths) if paths else None


def load_signer(path: str) -> Radiologist:
    """Load and validate a radiologist profile."""
    return parse_model(
        Radiologist, read_json(path, what="signer profile"), error=InputError, what="signer profile"
    )


def load_report(path: str) -> Report:
    """Load and validate a stored report."""
    return parse_model(Report, read_json(path, what="report"), error=InputError, what="report")


def _commit(
    out: Path,
    report: Report,
    *,
    audit: Path | None,
    before: Report | None,
    actor: str,
    at: datetime,
    force: bool,
) -> tuple[Path, int]:
    """Write ``report`` to ``out`` and its audit entries to ``audit``: both or neither.

    Returns the report's path and the number of audit entries appended.
    """
    with stage_files(out.parent, {out.name: dump_json(report)}, overwrite=force) as staged:
        if audit is None:
            return staged.commit()[0], 0
        events = events_for(before, report, actor=actor, at=at)
        with AuditLog(audit).appending(events) as entries:
            path = staged.commit()[0]
        return path, len(entries)


force_option = click.option(
    "--force", is_flag=True, help="Replace an existing file at --out (a signed report)."
)


@click.command("sign")
@click.option("--case", "case_file", type=click.Path(dir_okay=False), help="Case JSON.")
@click.option("--draft", "draft_file", type=click.Path(dir_okay=False), help="Draft JSON.")
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False),
    help="Existing signed report to continue (instead of --case/--draft).",
)
@click.option(
    "--signoff",
    "signoff_file",
    type=click.Path(dir_okay=False),
    help="Edits, decisions, acknowledgements, communications (JSON).",
)
@click.option(
    "--signer",
    "signer_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Radiologist profile JSON.",
)
@click.option(
    "--key",
    "key_value",
    default=None,
    metavar="PEM|PATH",
    help="Signing key (default: REPORTDRAFT_SIGNING_KEY).",
)
@click.option("--status", type=click.Choice(SIGN_STATUSES), default="final", show_default=True)
@click.option("--reason", default=None, help="Why (required for amended/corrected).")
@click.option("--at", "at_value", default=None, help="Signing time, ISO-8601 (default: now).")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Site signing policy YAML (default: bundled).",
)
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(),
    help="Trusted public keys: PEM, key-document JSON or a directory (repeatable). The "
    "signing key must be among them and be the signer's, unrevoked at --at.",
)
@click.option(
    "--audit",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Audit log (JSONL) to append this step's entries to.",
)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signed report JSON (not replaced unless --force).",
)
@force_option
@reports_errors
def sign_command(
    case_file: str | None,
    draft_file: str | None,
    report_file: str | None,
    signoff_file: str | None,
    signer_file: str,
    key_value: str | None,
    status: str,
    reason: str | None,
    at_value: str | None,
    policy_file: Path | None,
    trust: tuple[str, ...],
    audit: Path | None,
    out: Path,
    force: bool,
) -> None:
    """Sign a draft (or continue a signed report) after every sign-off rule passes."""
    at = _at(at_value)
    signer = load_signer(signer_file)
    key = _key(key_value)
    policy = SigningPolicy.load(policy_file) if policy_file else None
    signoff = None
    if signoff_file:
        signoff = parse_model(
            SignOff, read_json(signoff_file, what="signoff"), error=InputError, what="signoff"
        )
    if report_file:
        if case_file or draft_file:
            raise InputError("give either --report or --case/--draft, not both")
        report = load_report(report_file)
        before: Report | None = report
    elif case_file and draft_file:
        report = open_report(load_case(case_file), load_draft(draft_file), by=signer.id, at=at)
        before = None
    else:
        raise InputError("give --case and --draft (a new report) or --report (a signed one)")
    signed = sign(
        report,
        to_status=ReportStatus(status),
        signer=signer,
        key=key,
        at=at,
        signoff=signoff,
        reason=reason,
        policy=policy,
        keyring=_keyring(trust),
    )
    path, logged = _commit(
        out, signed, audit=audit, before=before, actor=signer.id, at=at, force=force
    )
    current = signed.current
    click.echo(
        f"signed {signed.id} v{current.version} {current.status.value} by "
        f"{signer.display()} (key {key.key_id}) -> {path}"
        + (f"; {logged} audit entries" if audit else "")
    )


@click.command("addendum")
@click.argument("report_file", metavar="REPORT.json", type=click.Path(dir_okay=False))
@click.option("--text", required=True, help="Addendum text.")
@click.option("--signer", "signer_file", required=True, type=click.Path(dir_okay=False))
@click.option("--key", "key_value", default=None, metavar="PEM|PATH")
@click.option("--reason", default=None)
@click.option("--at", "at_value", default=None)
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(),
    help="Trusted public keys (PEM, key documents, directory); see sign --help.",
)
@click.option("--audit", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path))
@force_option
@reports_errors
def addendum_command(
    report_file: str,
    text: str,
    signer_file: str,
    key_value: str | None,
    reason: str | None,
    at_value: str | None,
    trust: tuple[str, ...],
    audit: Path | None,
    out: Path,
    force: bool,
) -> None:
    """Append a signed addendum to a signed report (new version, status appended)."""
    at = _at(at_value)
    signer = load_signer(signer_file)
    report = load_report(report_file)
    appended = add_addendum(
        report,
        text=text,
        author=signer,
        key=_key(key_value),
        at=at,
        reason=reason,
        keyring=_keyring(trust),
    )
    path, _ = _commit(
        out, appended, audit=audit, before=report, actor=signer.id, at=at, force=force
    )
    click.echo(
        f"appended {appended.current.addenda[-1].id} to {appended.id} "
        f"(v{appended.current.version}) -> {path}"
    )


@click.group("report")
def report_group() -> None:
    """Signed report files."""


@report_group.command("verify")
@click.argument("report_file", metavar="REPORT.json", type=click.Path(dir_okay=False))
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(),
    help="Trusted public keys: PEM, key-document JSON or a directory (repeatable); "
    "without it keys are checked only against the signer profiles (which anyone can "
    "write), with key documents also against each key's owner and revocation.",
)
@reports_errors
def report_verify(report_file: str, trust: tuple[str, ...]) -> None:
    """Verify every signature and version link of REPORT.json as stored; exit 1 if any fails."""
    data = read_json(report_file, what="report")
    if not isinstance(data, dict):
        raise InputError("report file must hold a JSON object")
    problems = verify_report_data(data, keyring=_keyring(trust))
    if problems:
        for problem in problems:
            click.echo(f"FAIL [{problem.code}] {problem.detail}")
        raise SystemExit(1)
    versions = data.get("versions")
    click.echo(f"ok: {len(versions) if isinstance(versions, list) else 0} version(s) verified")


@click.group("keys")
def keys_group() -> None:
    """Signing keys."""


@keys_group.command("generate")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace existing key files.")
@reports_errors
def keys_generate(out_dir: Path, force: bool) -> None:
    """Write a development Ed25519 key pair and its key id into --out."""
    key = generate_signing_key()
    written = write_key_files(key, out_dir, overwrite=force)
    click.echo(f"key id {key.key_id}: wrote {', '.join(str(p) for p in written)}")


@keys_group.command("rewrap")
@database_option
@reports_errors
def keys_rewrap(database_url: str | None) -> None:
    """Re-seal every radiologist private key under the current key-encryption key.

    Reads REPORTDRAFT_KEY_ENCRYPTION_KEY(_FILE) and the previous KEKs
    (REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS(_FILE)); one transaction, all keys or none.
    """
    settings = Settings.from_env()
    if database_url:
        settings = dataclasses.replace(settings, database_url=database_url)
    keks = require_keks(kek_ring(settings))
    database = Database(settings.database_url)
    try:
        upgrade(database)
        with database.write() as session:
            changed = signing_keys.rewrap(session, keks)
    finally:
        database.dispose()
    click.echo(f"rewrapped {changed} key(s) under key-encryption key {keks.current.kek_id}")


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@click.argument("log_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@reports_errors
def audit_verify(log_file: Path) -> None:
    """Check the chain of an audit log; exit 1 naming the first broken entry."""
    check = verify_chain(read_log(log_file))
    if not check.ok:
        click.echo(f"FAIL: entry {check.first_broken} of {check.count}: {check.problem}")
        raise SystemExit(1)
    click.echo(f"ok: {check.count} entries, chain intact")


COMMANDS: list[click.Command] = [
    sign_command,
    addendum_command,
    report_group,
    keys_group,
    audit_group,
]
