"""Webhook delivery with HMAC signatures, retries, and the critical-overdue sweep.

Each delivery is a POST of the stored JSON body with headers::

    X-Reportdraft-Event: report.signed
    X-Reportdraft-Delivery: ev-...            (the event id: receivers de-duplicate on it)
    X-Reportdraft-Timestamp: 1795792800       (unix seconds)
    X-Reportdraft-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

Signing the timestamp with the raw body lets a receiver reject replays (check the
timestamp is recent, then :func:`verify_signature`). A non-2xx answer or a network error is
retried with exponential backoff (up to ``outbox.MAX_ATTEMPTS``); deliveries are at least
once, so receivers de-duplicate on the delivery id.

Every attempt goes through the egress policy (``reportdraft.api.egress``): the URL's host
is resolved and every address checked *at delivery time*, and the request is sent to the
checked address (pinned), so a name re-pointed at an internal address after registration
is not delivered to. Such an attempt is recorded as failed with the policy's reason and
retried on the usual backoff: each retry checks afresh and still connects nowhere
internal. Redirects are never followed (a 3xx is a failed attempt), and the client takes
no proxy from the environment and keeps no connection alive between deliveries (a pooled
TLS connection must not carry a request for another name).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import threading
import time

import httpx

from reportdraft.api.egress import EgressRefused, pin
from reportdraft.api.service import communication_state, pending_records, placeholder_record
from reportdraft.api.state import AppState
from reportdraft.models import CommunicationState
from reportdraft.store import audit_trail, outbox, reports

log = logging.getLogger("reportdraft.api.webhooks")

SIGNATURE_HEADER = "X-Reportdraft-Signature"
TIMESTAMP_HEADER = "X-Reportdraft-Timestamp"
EVENT_HEADER = "X-Reportdraft-Event"
DELIVERY_HEADER = "X-Reportdraft-Delivery"
LATE = frozenset({CommunicationState.OVERDUE, CommunicationState.ESCALATED})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver runs: a fresh timestamp and a matching HMAC (constant-time)."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff_s(attempts: int) -> float:
    """Seconds before retry ``attempts + 1``: 1, 2, 4, ... capped at 5 minutes."""
    return float(min(300, 2 ** max(0, attempts - 1)))


class Dispatcher:
    """A thread that sends due deliveries and sweeps for overdue critical results."""

    def __init__(
        self,
        state: AppState,
        *,
        poll_s: float = 0.5,
        sweep_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.state = state
        self.poll_s = poll_s
        self.sweep_s = sweep_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rd-webhooks", daemon=True)
        self._client = httpx.Client(
            timeout=5.0,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
            transport=transport,
        )

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current batch (also closes a dispatcher never started)."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        self._client.close()

    def deliver_due(self) -> int:
        """Send every due delivery once; return how many were attempted."""
        due = outbox.claim_due(self.state.db, now=self.state.clock(), limit=20, lease_s=30)
        policy = self.state.egress()
        for delivery in due:
            body = delivery.body.encode("utf-8")
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                EVENT_HEADER: delivery.event,
                DELIVERY_HEADER: delivery.event_id,
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: sign(delivery.secret, stamp, body),
            }
            status: int | None = None
            error: str | None = None
            try:
                destination, address = policy.check_delivery(delivery.url)
                request = self._client.build_request(
                    "POST", destination.url, content=body, headers=headers
                )
                response = self._client.send(pin(request, destination, address))
                status = response.status_code
                ok = 200 <= status < 300
                if 300 <= status < 400:
                    error = f"HTTP {status} (redirects are not followed)"
                elif not ok:
                    error = f"HTTP {status}"
            except EgressRefused as exc:
                ok = False
                error = f"{exc.code}: {exc.message}"[:2000]
                log.warning("webhook delivery %d refused: %s", delivery.id, exc.reason)
            except httpx.HTTPError as exc:
                ok = False
                error = type(exc).__name__
            with self.state.db.write() as session:
                outbox.record(
                    session,
                    delivery,
                    now=self.state.clock(),
                    ok=ok,
                    status=status,
                    error=error,
                    backoff_s=backoff_s(delivery.attempts),
                )
        return len(due)

    def sweep_overdue(self) -> int:
        """Emit ``critical.overdue`` once per late finding; return how many were emitted."""
        now = self.state.clock()
        with self.state.db.read() as session:
            page = reports.list_reports(session, critical_open=True, limit=500)
        emitted = 0
        for stored in page.items:
            if stored.report is None:
                continue
            for mention, record in pending_records(stored.report):
                record = record or placeholder_record(stored.report, mention)
                if communication_state(record, now) not in LATE:
                    continue
                with self.state.db.write() as session:
                    done = {
                        e.data.get("finding_code")
                        for e in audit_trail.entries(session, stored.id)
                        if e.event == "critical.overdue"
                    }
                    if mention.finding_code in done:
                        continue
                    audit_trail.append(
                        session,
                        report_id=stored.id,
                        event="critical.overdue",
                        actor="reportdraft",
                        at=now,
                        data={"finding_code": mention.finding_code},
                    )
                    outbox.emit(
                        session,
                        event="critical.overdue",
                        data={
                            "report_id": stored.id,
                            "accession_number": stored.accession,
                            "finding_code": mention.finding_code,
                            "category": mention.category,
                        },
                        facility=stored.facility,
                        now=now,
                    )
                    emitted += 1
        return emitted

    def _run(self) -> None:
        last_sweep = 0.0
        while not self._stop.is_set():
            try:
                sent = self.deliver_due()
                if time.monotonic() - last_sweep >= self.sweep_s:
                    last_sweep = time.monotonic()
                    self.sweep_overdue()
            except Exception as exc:  # keep delivering; the outbox keeps the events
                log.error("webhook dispatcher error: %s", type(exc).__name__)
                sent = 0
            if not sent:
                with contextlib.suppress(Exception):
                    self._stop.wait(self.poll_s)
