"""Alembic environment: run migrations on the connection the caller passes in.

There is no ``alembic.ini``: ``reportdraft.store.migrate.upgrade`` builds the config in
code and hands its open connection over in ``config.attributes["connection"]``, so the
migration runs in the caller's transaction (and on its ``search_path``).
"""

from __future__ import annotations

from alembic import context

from reportdraft.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running alembic by hand
    raise RuntimeError("run migrations through reportdraft.store.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
