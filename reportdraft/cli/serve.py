"""Service commands: ``serve``, ``db upgrade``, ``db verify-audit``, ``apikey ...``.

``reportdraft serve`` works with no setup: SQLite in ``./reportdraft.db``, migrated on
start. For production point ``--database-url`` (or ``REPORTDRAFT_DATABASE_URL``) at
PostgreSQL and run as many ``serve`` processes as you like behind a load balancer: they
share the database queue (``FOR UPDATE SKIP LOCKED``) and hold no other state.

API keys other than admin keys are scoped to facilities: ``apikey create`` needs
``--facility ID`` (repeatable) or ``--all-facilities``; ``apikey scope`` assigns the scope
of an existing key (keys created before scoping read nothing until then), and
``apikey list`` shows which keys still need one.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from reportdraft.cli.common import reports_errors
from reportdraft.errors import InputError
from reportdraft.models.report import Radiologist
from reportdraft.settings import Settings
from reportdraft.store import Database, audit_trail, principals, signing_keys, upgrade
from reportdraft.store.principals import Role
from reportdraft.store.signing_keys import kek_ring


def _settings(database_url: str | None) -> Settings:
    settings = Settings.from_env()
    if database_url:
        settings = dataclasses.replace(settings, database_url=database_url)
    return settings


database_option = click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="sqlite:///reportdraft.db (default) or postgresql+psycopg://user@host/db. "
    "Env: REPORTDRAFT_DATABASE_URL.",
)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@database_option
@click.option("--backend", "-b", default=None, metavar="NAME", help="Model backend.")
@click.option("--workers", default=None, type=int, help="Drafting threads (default: max calls).")
@click.option("--no-workers", is_flag=True, help="Serve the API only; another process drafts.")
@click.option("--log-level", default="info", show_default=True)
@click.option(
    "--seed-demo",
    is_flag=True,
    help="Load the bundled example cases and print a new demo attending API key for the "
    "review pages (needs REPORTDRAFT_KEY_ENCRYPTION_KEY).",
)
@reports_errors
def serve(
    host: str,
    port: int,
    database_url: str | None,
    backend: str | None,
    workers: int | None,
    no_workers: bool,
    log_level: str,
    seed_demo: bool,
) -> None:
    """Run the HTTP API, the review pages (http://HOST:PORT/) and the drafting workers."""
    import uvicorn

    from reportdraft.web import create_app

    settings = _settings(database_url)
    if backend:
        settings = dataclasses.replace(settings, backend=backend)
    if seed_demo:
        _seed_demo(settings)
    app = create_app(settings, start_workers=not no_workers, workers=workers)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def _seed_demo(settings: Settings) -> None:
    from reportdraft.web.demo_cases import seed_demo

    keks = kek_ring(settings)
    if keks is None:
        raise InputError(
            "--seed-demo needs REPORTDRAFT_KEY_ENCRYPTION_KEY (e.g. `openssl rand -base64 32`) "
            "to seal the demo attending's signing key"
        )
    database = Database(settings.database_url)
    try:
        upgrade(database)
        seeded = seed_demo(database, keks, datetime.now(UTC))
    finally:
        database.dispose()
    click.echo(
        f"demo: {len(seeded.queued)} example case(s) queued for drafting, "
        f"{len(seeded.skipped)} already there; sign in at the review pages with the demo "
        f"attending's new API key (key id {seeded.key_id}, shown once):",
        err=True,
    )
    click.echo(seeded.api_key)


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@database_option
@reports_errors
def db_upgrade(database_url: str | None) -> None:
    """Apply the migrations (serve does this on start too)."""
    database = Database(_settings(database_url).database_url)
    click.echo(f"database at revision {upgrade(database)}")
    database.dispose()


@db.command("verify-audit")
@database_option
@reports_errors
def db_verify_audit(database_url: str | None) -> None:
    """Verify every report's audit hash chain; exit 1 naming the first broken entries."""
    database = Database(_settings(database_url).database_url)
    with database.read() as session:
        ids = audit_trail.all_report_ids(session)
        problems = audit_trail.verify_all(session)
    database.dispose()
    for report_id, problem in problems.items():
        click.echo(f"BROKEN {report_id}: {problem}")
    click.echo(f"{len(ids) - len(problems)}/{len(ids)} audit chains verify")
    sys.exit(1 if problems else 0)


@click.group()
def apikey() -> None:
    """API keys."""


facility_options = [
    click.option(
        "--facility",
        "facilities",
        multiple=True,
        metavar="ID",
        help="A facility identifier (study.performing_facility.identifier) whose reports "
        "the key may see; repeat for several.",
    ),
    click.option(
        "--all-facilities",
        is_flag=True,
        help="The key sees every facility (explicitly, e.g. an enterprise QA key).",
    ),
]


def _with_facility_options(func: Any) -> Any:
    for option in reversed(facility_options):
        func = option(func)
    return func


@apikey.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option(
    "--radiologist",
    "profile_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Radiologist profile JSON (required for radiologist/attending keys); stored or "
    "replaced, with the radiologist's own signing key made (sealed under "
    "REPORTDRAFT_KEY_ENCRYPTION_KEY) when they have none.",
)
@click.option("--label", default=None)
@_with_facility_options
@database_option
@reports_errors
def apikey_create(
    role: str,
    profile_file: Path | None,
    label: str | None,
    facilities: tuple[str, ...],
    all_facilities: bool,
    database_url: str | None,
) -> None:
    """Create an API key and print it once (only its SHA-256 is stored).

    Every role but admin needs --facility ID (repeatable) or --all-facilities.
    """
    settings = _settings(database_url)
    now = datetime.now(UTC)
    radiologist_id = None
    database = Database(settings.database_url)
    upgrade(database)
    with database.write() as session:
        if profile_file is not None:
            profile = signing_keys.register_profile(
                session, _load_profile(profile_file), keks=kek_ring(settings), now=now
            )
            radiologist_id = profile.id
        key, secret = principals.create_api_key(
            session,
            role=Role(role),
            radiologist_id=radiologist_id,
            label=label,
            facilities=facilities,
            all_facilities=all_facilities,
            now=now,
        )
    database.dispose()
    click.echo(secret)
    click.echo(
        f"key id {key.id}, role {key.role.value}, {_scope_text(key)}; "
        "store the key now: it is not kept",
        err=True,
    )


@apikey.command("scope")
@click.argument("key_id")
@_with_facility_options
@database_option
@reports_errors
def apikey_scope(
    key_id: str, facilities: tuple[str, ...], all_facilities: bool, database_url: str | None
) -> None:
    """Replace the facility scope of key KEY_ID (--facility ID ... or --all-facilities)."""
    database = Database(_settings(database_url).database_url)
    upgrade(database)
    try:
        with database.write() as session:
            key = principals.set_key_scope(
                session, key_id, facilities=facilities, all_facilities=all_facilities
            )
    finally:
        database.dispose()
    click.echo(f"key id {key.id}, role {key.role.value}, {_scope_text(key)}")


@apikey.command("list")
@database_option
@reports_errors
def apikey_list(database_url: str | None) -> None:
    """Every key (no secrets) with its role and facility scope, oldest first."""
    database = Database(_settings(database_url).database_url)
    upgrade(database)
    try:
        with database.read() as session:
            keys = principals.list_api_keys(session)
    finally:
        database.dispose()
    for key in keys:
        state = " (revoked)" if key.revoked else ""
        click.echo(f"{key.id}\t{key.role.value}\t{_scope_text(key)}{state}\t{key.label or ''}")


def _scope_text(key: principals.ApiKey) -> str:
    if key.role is Role.ADMIN or key.all_facilities:
        return "all facilities"
    if key.facilities:
        return "facilities " + ",".join(sorted(key.facilities))
    return "NOT SCOPED (reads nothing; run 'reportdraft apikey scope')"


def _load_profile(path: Path) -> Radiologist:
    try:
        return Radiologist.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a valid radiologist profile: {exc}") from None


COMMANDS = [serve, db, apikey]
