"""Engines and transactions for SQLite (embedded default) and PostgreSQL (production).

One :class:`Database` wraps an engine and hands out two kinds of transaction:

* :meth:`Database.read` — a plain transaction for queries;
* :meth:`Database.write` — a transaction that will write. On SQLite it starts with
  ``BEGIN IMMEDIATE``, taking the single writer lock up front: a deferred transaction that
  reads and then writes fails with "database is locked" when another writer committed in
  between (WAL cannot upgrade a stale snapshot), while an immediate one simply waits its
  turn (busy timeout). On PostgreSQL writes run at READ COMMITTED and rely on row locks,
  unique constraints and conditional updates (see ``reports`` and ``jobs``).

SQLite runs in WAL mode (readers never block the writer) with ``synchronous=FULL`` (a
committed report survives a power cut, not only a killed process) and foreign keys on.
``schema`` (PostgreSQL only) sets ``search_path``, which is how the tests give every run
its own throw-away schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from reportdraft.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite writer waits for the lock before failing (seconds)."""

_WRITE = "reportdraft_write"
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Database:
    """An engine plus read/write transaction helpers for one database URL."""

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 10) -> None:
        try:
            parsed = make_url(url)
        except Exception as exc:  # sqlalchemy raises ArgumentError with the URL inside
            raise ConfigurationError(f"invalid database URL: {type(exc).__name__}") from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"unsupported database {self.dialect!r}: use sqlite:/// or postgresql+psycopg://"
            )
        if schema is not None and (self.dialect != "postgresql" or not _SCHEMA.match(schema)):
            raise ConfigurationError("schema= needs PostgreSQL and a lower-case identifier")
        self.schema = schema
        self.engine = _make_engine(parsed.render_as_string(hide_password=False), schema, pool_size)
        self._writer = self.engine.execution_options(**{_WRITE: True})
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self._writer, expire_on_commit=False)

    @property
    def writer(self) -> Engine:
        """The engine whose transactions take the write lock first (``BEGIN IMMEDIATE``)."""
        return self._writer

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite database."""
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction for queries (rolled back at the end; nothing is written)."""
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits when the block ends without an exception."""
        with self._write() as session, session.begin():
            yield session

    def sibling(self, *, pool_size: int) -> Database:
        """Another ``Database`` on the same database with a pool of its own.

        For work that may need a connection while the caller's request already holds one
        of the main pool (the rate limiter's leases): drawing both from one pool could
        leave every connection held by a request waiting for a second. An in-memory
        SQLite database exists only on its own connections, so it is shared instead.
        """
        if self.is_sqlite and self.engine.url.database in (None, "", ":memory:"):
            return self
        url = self.engine.url.render_as_string(hide_password=False)
        return Database(url, schema=self.schema, pool_size=pool_size)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _make_engine(url: str, schema: str | None, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
            pool_size=pool_size,
            max_overflow=2 * pool_size,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if schema is not None:
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(
        url,
        connect_args=connect_args,
        pool_size=pool_size,
        max_overflow=2 * pool_size,
        pool_pre_ping=True,
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module: it would otherwise emit a
    # deferred BEGIN itself, and commit silently before DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")
