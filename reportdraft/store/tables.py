"""The service's tables as SQLAlchemy 2 typed ORM classes.

Payloads (the case, the model's draft, the attested report chain) are JSON columns: the
domain models in ``reportdraft.models`` are the schema, validated by pydantic whenever a
row is written or read (``reportdraft.store.reports``), so the tables only carry what the
database must index, order, lock or constrain. The migration in
``migrations/versions/`` create exactly these tables; a test compares the
two so they cannot drift apart.

Timestamps are stored timezone-aware in UTC (:class:`UTCDateTime` re-attaches UTC on
SQLite, which keeps none).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC on every backend.

    PostgreSQL keeps the offset (``timestamptz``); SQLite stores text without one, so
    values are converted to UTC on the way in and UTC is attached on the way out. A naive
    datetime is refused: every timestamp in reportdraft carries an offset.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (refusing naive values)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC where the backend dropped it."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDoc = JSON()
"""Plain JSON (not JSONB on PostgreSQL): the stored text is kept as written."""


class Base(DeclarativeBase):
    """Declarative base of the service tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class ReportRow(Base):
    """One report: its case, the model's draft, the attested chain and the ETag counter.

    ``state`` is where the report stands for the workstation: ``queued`` / ``drafting``
    (no draft yet), ``failed`` (drafting failed with ``error``), or the attested report's
    lifecycle status (``draft``, ``preliminary``, ``final``, ...). ``version`` is the ETag
    counter: every write bumps it with a conditional ``UPDATE ... WHERE version = ?``.
    """

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    accession: Mapped[str] = mapped_column(String(32), index=True)
    facility: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    priority: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    case_doc: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    draft_doc: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    report_doc: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    critical_open: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdempotencyRow(Base):
    """One (API key, Idempotency-Key) pair, written in the same transaction as its report.

    ``request_sha256`` is the hash of the request body, so a retry with a different body
    under the same key is refused instead of silently answered with the first report.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    api_key_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobRow(Base):
    """A drafting job. Claimed by priority (STAT = 0 first), then arrival (id).

    ``state``: ``queued`` → ``running`` (with ``worker`` and ``lease_until``) → ``done`` or
    ``failed``. A job left ``running`` by a dead worker is queued again once its lease
    expires or its worker process is gone (see ``reportdraft.store.jobs``).
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "state", "priority", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditRow(Base):
    """One audit entry of a report, hash-chained to the report's previous entry.

    ``seq`` counts from 1 per report and is unique with ``report_id``: two writers racing
    to append the same position cannot both succeed, so the chain never forks.
    """

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("report_id", "seq", name="uq_audit_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RadiologistRow(Base):
    """A radiologist profile (``reportdraft.models.report.Radiologist`` as JSON)."""

    __tablename__ = "radiologists"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKeyRow(Base):
    """An API key: only its SHA-256 is stored; the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    radiologist_id: Mapped[str | None] = mapped_column(ForeignKey("radiologists.id"), nullable=True)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    facilities: Mapped[list[str]] = mapped_column(JSONDoc, default=list, server_default="[]")
    all_facilities: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class RadiologistKeyRow(Base):
    """One Ed25519 key of a radiologist.

    ``public_key`` is the raw key, base64; ``private_key_enc`` is the private key sealed
    under the key-encryption key ``kek_id`` (None for a key whose private half the
    service does not hold). A key revoked at ``revoked_at`` still verifies signatures made
    before that time and signs nothing after it.
    """

    __tablename__ = "radiologist_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    radiologist_id: Mapped[str] = mapped_column(ForeignKey("radiologists.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(64))
    private_key_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    kek_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class WebhookRow(Base):
    """A webhook subscription: where to POST which events, and the HMAC secret."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSONDoc)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    facilities: Mapped[list[str]] = mapped_column(JSONDoc, default=list, server_default="[]")
    all_facilities: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DeliveryRow(Base):
    """One event for one subscription: the exact body sent, and its retry state.

    Written in the same transaction as the change that caused the event (an outbox), so
    an event is never lost when the process dies between the change and the POST.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RateBucketRow(Base):
    """One API key's token bucket, shared by every service process (``store.rate_limits``).

    ``tokens`` is what was left at ``at_s`` (seconds since the epoch, the wall clock of the
    process that last wrote it); the refill since then is computed when the row is next
    taken under its lock, so the row is only written when a process leases tokens.
    """

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at_s: Mapped[float] = mapped_column(Float)


class WebSessionRow(Base):
    """A review-page session, shared by every service process (``store.web_sessions``).

    Keyed by the SHA-256 of the session id the browser holds, and naming the signed-in
    API key by its SHA-256 (``api_keys.key_sha256``): neither secret is stored, so a
    leaked database opens no session and yields no key. Times are seconds since the
    epoch (the processes share no monotonic clock).
    """

    __tablename__ = "web_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf: Mapped[str] = mapped_column(String(64))
    key_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_s: Mapped[float] = mapped_column(Float)
    seen_s: Mapped[float] = mapped_column(Float, index=True)
    flash: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
