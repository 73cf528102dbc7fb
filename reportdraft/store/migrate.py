"""Running the Alembic migrations from code (no ``alembic.ini``).

``reportdraft serve`` upgrades the database on start and ``reportdraft db upgrade`` does
it on demand. Several service processes may start at once against one PostgreSQL, so the
upgrade holds a transaction-level advisory lock there (SQLite serialises it with
``BEGIN IMMEDIATE``): the first process migrates, the others find the schema current.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from reportdraft.store.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_ID = 0x5245504F  # arbitrary, constant: "REPO"


def alembic_config() -> Config:
    """An Alembic config pointing at the bundled migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision the bundled scripts define."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migration scripts found")
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Upgrade ``db`` to ``revision`` (default: the newest) and return the revision reached."""
    config = alembic_config()
    with db.writer.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return current_revision(db)
