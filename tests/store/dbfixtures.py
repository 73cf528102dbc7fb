"""Database fixtures shared by the store and API tests: SQLite and PostgreSQL.

Each test gets an empty, migrated database of its own: a fresh SQLite file, or a fresh
PostgreSQL schema with a random name (``search_path`` points at it) that is dropped at the
end. PostgreSQL tests are skipped, with the reason, when 127.0.0.1:5432 does not answer.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from reportdraft.store import Database, upgrade

PG_URL = os.environ.get(
    "REPORTDRAFT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_PG_STATE: dict[str, str | None] = {}


def pg_unavailable() -> str | None:
    """None when the test PostgreSQL answers, else why it is skipped."""
    if "reason" not in _PG_STATE:
        try:
            engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _PG_STATE["reason"] = None
        except (OperationalError, ImportError) as exc:
            _PG_STATE["reason"] = (
                f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); "
                "start it or set REPORTDRAFT_TEST_PG_URL"
            )
    return _PG_STATE["reason"]


class PgSchema:
    """A throw-away PostgreSQL schema; ``url`` plus ``schema`` open it."""

    def __init__(self) -> None:
        self.schema = f"rdtest_{uuid.uuid4().hex[:12]}"
        self._admin = create_engine(PG_URL)
        with self._admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {self.schema}"))

    @property
    def url_with_schema(self) -> str:
        """A libpq URL that selects the schema by itself (for subprocesses)."""
        return f"{PG_URL}?options=-csearch_path%3D{self.schema}"

    def drop(self) -> None:
        """Drop the schema and everything in it."""
        with self._admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
        self._admin.dispose()


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def open_database(kind: str, tmp_path: Path) -> tuple[Database, object]:
    """A migrated database of ``kind`` and the handle its teardown needs."""
    if kind == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'reportdraft.db'}")
        upgrade(db)
        return db, None
    reason = pg_unavailable()
    if reason is not None:
        pytest.skip(reason)
    schema = PgSchema()
    db = Database(PG_URL, schema=schema.schema)
    upgrade(db)
    return db, schema


def close_database(db: Database, handle: object) -> None:
    """Dispose of ``db`` and drop its schema when it had one."""
    db.dispose()
    if isinstance(handle, PgSchema):
        handle.drop()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty migrated database, once on SQLite and once on PostgreSQL."""
    db, handle = open_database(request.param, tmp_path)
    try:
        yield db
    finally:
        close_database(db, handle)
