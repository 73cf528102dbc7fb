"""The per-report audit trail, hash-chained so that editing or deleting an entry shows.

Every change to a report (created, drafted, edited, decision, acknowledgement,
communication, signed, addendum, ...) appends one entry in the *same transaction* as the
change. Entry ``n`` stores the hash of entry ``n - 1`` (``prev_hash``; the first entry
uses :data:`GENESIS`) and its own hash over its canonical JSON, so :func:`verify_chain`
finds the first entry that was altered, removed or inserted. ``(report_id, seq)`` is
unique: two writers can never both append position ``n``. Entries carry ids, codes and
hashes, never patient names or report text (that lives in the signed versions).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reportdraft.store.tables import AuditRow

GENESIS = "0" * 64
"""``prev_hash`` of a report's first entry."""


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One audit entry as stored."""

    report_id: str
    seq: int
    event: str
    actor: str
    at: datetime
    data: dict[str, Any]
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict (what the API returns and exports write)."""
        return {
            "report_id": self.report_id,
            "seq": self.seq,
            "event": self.event,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "data": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def entry_hash(
    *,
    report_id: str,
    seq: int,
    event: str,
    actor: str,
    at: datetime,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """The sha256 of an entry's canonical JSON (sorted keys, compact, UTF-8)."""
    body = {
        "report_id": report_id,
        "seq": seq,
        "event": event,
        "actor": actor,
        "at": at.isoformat(),
        "data": data,
        "prev_hash": prev_hash,
    }
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    report_id: str,
    event: str,
    actor: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry to ``report_id``'s chain inside the caller's transaction."""
    last = session.execute(
        select(AuditRow.seq, AuditRow.hash)
        .where(AuditRow.report_id == report_id)
        .order_by(AuditRow.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = at.astimezone(UTC)  # hashed exactly as the UTC column gives it back
    payload = json.loads(json.dumps(data or {}))  # plain JSON types only, as stored
    digest = entry_hash(
        report_id=report_id,
        seq=seq,
        event=event,
        actor=actor,
        at=at,
        data=payload,
        prev_hash=prev,
    )
    row = AuditRow(
        report_id=report_id,
        seq=seq,
        event=event,
        actor=actor,
        at=at,
        data=payload,
        prev_hash=prev,
        hash=digest,
    )
    session.add(row)
    session.flush()
    return _entry(row)


def entries(session: Session, report_id: str) -> list[AuditEntry]:
    """A report's audit entries in order."""
    rows = session.scalars(
        select(AuditRow).where(AuditRow.report_id == report_id).order_by(AuditRow.seq)
    )
    return [_entry(row) for row in rows]


def all_report_ids(session: Session) -> list[str]:
    """Every report id that has audit entries."""
    return list(session.scalars(select(AuditRow.report_id).distinct().order_by(AuditRow.report_id)))


def verify_chain(chain: Sequence[AuditEntry]) -> str | None:
    """None when ``chain`` is intact, else a message naming the first broken entry."""
    prev = GENESIS
    for expected_seq, entry in enumerate(chain, start=1):
        where = f"{entry.report_id} entry {entry.seq}"
        if entry.seq != expected_seq:
            return f"{where}: expected sequence number {expected_seq} (an entry is missing)"
        if entry.prev_hash != prev:
            return f"{where}: prev_hash does not match the previous entry"
        recomputed = entry_hash(
            report_id=entry.report_id,
            seq=entry.seq,
            event=entry.event,
            actor=entry.actor,
            at=entry.at,
            data=entry.data,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            return f"{where}: content does not match its hash (altered)"
        prev = entry.hash
    return None


def verify_all(session: Session) -> dict[str, str]:
    """Verify every report's chain; report id → problem, empty when all verify."""
    problems = {}
    for report_id in all_report_ids(session):
        problem = verify_chain(entries(session, report_id))
        if problem is not None:
            problems[report_id] = problem
    return problems


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        report_id=row.report_id,
        seq=row.seq,
        event=row.event,
        actor=row.actor,
        at=row.at,
        data=dict(row.data),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
