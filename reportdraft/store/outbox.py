"""Webhook subscriptions and the delivery outbox.

An event is written as one delivery row per interested subscription *in the same
transaction* as the change that caused it, with the exact body that will be signed and
sent. A dispatcher (``reportdraft.api.webhooks``) claims due deliveries the way workers
claim jobs (``FOR UPDATE SKIP LOCKED``), posts them, and records the outcome with a
backoff for retries; so an event is neither lost in a crash nor sent by two processes.

Events carry patient context (report ids, accession numbers), so each subscription has a
facility scope like an API key (``principals.FacilityScope``): an event about a report
is queued only for subscriptions that cover the report's facility.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reportdraft.errors import NotFoundError
from reportdraft.store.db import Database
from reportdraft.store.principals import FacilityScope
from reportdraft.store.tables import DeliveryRow, WebhookRow

EVENTS = ("report.drafted", "critical.detected", "critical.overdue", "report.signed")
"""Event names a subscription may ask for."""

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
FAILED = "failed"
MAX_ATTEMPTS = 8
"""Deliveries given up after this many failed attempts (state ``failed``)."""


@dataclass(frozen=True, kw_only=True)
class Webhook:
    """A subscription (``secret`` is returned to the admin only when it is created)."""

    id: str
    url: str
    events: list[str]
    active: bool
    secret: str
    scope: FacilityScope


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """A claimed delivery: what to send where, signed with which secret."""

    id: int
    url: str
    secret: str
    event: str
    event_id: str
    body: str
    attempts: int


def create_webhook(
    session: Session,
    *,
    url: str,
    events: list[str],
    scope: FacilityScope,
    now: datetime,
    secret: str | None = None,
) -> Webhook:
    """Subscribe ``url`` to ``events`` of the facilities in ``scope``.

    A secret is generated when none is given. ``scope`` comes from
    ``principals.facility_scope``, which refuses an empty one.
    """
    row = WebhookRow(
        id=f"wh-{uuid.uuid4().hex[:16]}",
        url=url,
        secret=secret or secrets.token_urlsafe(32),
        events=sorted(set(events)),
        active=True,
        created_at=now,
        facilities=sorted(scope.facilities),
        all_facilities=scope.all_facilities,
    )
    session.add(row)
    session.flush()
    return _hook(row)


def list_webhooks(session: Session) -> list[Webhook]:
    """Every subscription, oldest first."""
    return [_hook(r) for r in session.scalars(select(WebhookRow).order_by(WebhookRow.created_at))]


def deactivate_webhook(session: Session, webhook_id: str) -> None:
    """Stop sending to a subscription (pending deliveries are dropped by the dispatcher)."""
    row = session.get(WebhookRow, webhook_id)
    if row is None:
        raise NotFoundError(f"no webhook {webhook_id}")
    row.active = False


def emit(
    session: Session, *, event: str, data: dict[str, Any], facility: str | None, now: datetime
) -> int:
    """Queue ``event`` for every active subscription that wants it; return how many.

    ``facility`` is the facility of the report the event is about (None: its case named
    none); only subscriptions whose scope covers it get the event.
    """
    event_id = f"ev-{uuid.uuid4().hex}"
    body = json.dumps(
        {"id": event_id, "type": event, "created_at": now.isoformat(), "data": data},
        sort_keys=True,
        separators=(",", ":"),
    )
    hooks = session.scalars(select(WebhookRow).where(WebhookRow.active.is_(True))).all()
    queued = 0
    for hook in hooks:
        if event not in hook.events or not _scope(hook).covers(facility):
            continue
        session.add(
            DeliveryRow(
                webhook_id=hook.id,
                event_id=event_id,
                event=event,
                body=body,
                state=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        queued += 1
    session.flush()
    return queued


def claim_due(db: Database, *, now: datetime, limit: int, lease_s: float) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries (their retry time is pushed by ``lease_s``)."""
    with db.write() as session:
        rows = session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.state == PENDING, DeliveryRow.next_attempt_at <= now)
            .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in rows:
            hook = session.get(WebhookRow, row.webhook_id)
            if hook is None or not hook.active:
                row.state = FAILED
                row.last_error = "subscription inactive"
                continue
            row.attempts += 1
            row.next_attempt_at = now + timedelta(seconds=lease_s)
            claimed.append(
                Delivery(
                    id=row.id,
                    url=hook.url,
                    secret=hook.secret,
                    event=row.event,
                    event_id=row.event_id,
                    body=row.body,
                    attempts=row.attempts,
                )
            )
        return claimed


def record(
    session: Session,
    delivery: Delivery,
    *,
    now: datetime,
    ok: bool,
    status: int | None,
    error: str | None,
    backoff_s: float,
) -> None:
    """Record one attempt: delivered, retried after ``backoff_s``, or failed for good."""
    row = session.get(DeliveryRow, delivery.id)
    if row is None:
        return
    row.last_status = status
    row.last_error = error
    if ok:
        row.state = DELIVERED
    elif row.attempts >= MAX_ATTEMPTS:
        row.state = FAILED
    else:
        row.state = PENDING
        row.next_attempt_at = now + timedelta(seconds=backoff_s)


def _scope(row: WebhookRow) -> FacilityScope:
    return FacilityScope(
        facilities=frozenset(row.facilities or ()), all_facilities=bool(row.all_facilities)
    )


def _hook(row: WebhookRow) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        events=list(row.events),
        active=row.active,
        secret=row.secret,
        scope=_scope(row),
    )
