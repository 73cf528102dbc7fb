"""Persistence for the service: SQLAlchemy 2 on SQLite (default) or PostgreSQL.

Public API::

    from reportdraft.store import Database, upgrade
    db = Database("sqlite:///reportdraft.db")     # or postgresql+psycopg://...
    upgrade(db)                                   # Alembic migrations, programmatic

    reports.create(db, case=..., created_by=key_id, now=..., idempotency_key=..., body_sha256=...)
    with db.read() as s:  reports.get(s, report_id) / reports.list_reports(s, ...)
    with db.write() as s: reports.save(s, report_id, expected_version=n, now=..., report=...)
                          audit_trail.append(s, report_id=..., event=..., actor=..., at=...)
    jobs.claim(db, worker=..., now=..., lease_s=...) / jobs.finish(s, job, now=...)

Modules: ``db`` (engines, transactions), ``tables`` (ORM), ``migrate`` (Alembic),
``reports``, ``jobs`` (queue), ``audit_trail`` (hash chain), ``principals`` (API keys,
radiologists), ``signing_keys`` (radiologists' sealed signing keys), ``outbox`` (webhooks),
``rate_limits`` (API keys' token buckets, shared by every process), ``web_sessions``
(review-page sessions, shared by every process).
"""

from reportdraft.store import (
    audit_trail,
    jobs,
    outbox,
    principals,
    rate_limits,
    reports,
    signing_keys,
    web_sessions,
)
from reportdraft.store.db import Database
from reportdraft.store.migrate import current_revision, head_revision, upgrade

__all__ = [
    "Database",
    "audit_trail",
    "current_revision",
    "head_revision",
    "jobs",
    "outbox",
    "principals",
    "rate_limits",
    "reports",
    "signing_keys",
    "upgrade",
    "web_sessions",
]
