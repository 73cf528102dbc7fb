"""The drafting queue: a ``jobs`` table any number of service processes can share.

Claiming takes the first queued job by priority (STAT = 0 before routine = 1) and then
arrival (id), with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent
workers in several processes never take the same job and never wait on each other. On
SQLite the claim runs in a ``BEGIN IMMEDIATE`` transaction (the single writer), which
gives the same guarantee (SQLAlchemy omits ``FOR UPDATE`` there).

A claimed job carries its worker's id (``host:pid:random``) and a lease. A job whose
lease expired, or whose worker was on this host and its process is gone, is queued again
(:func:`requeue_abandoned`, run at start-up and periodically): a crashed worker never
loses a case. Finishing is conditional on still holding the job, so a worker that lost
its lease cannot overwrite the outcome of the worker that took over.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reportdraft.models import Priority
from reportdraft.store.db import Database
from reportdraft.store.tables import JobRow, ReportRow

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"

PRIORITY_RANK: dict[Priority, int] = {Priority.STAT: 0, Priority.ROUTINE: 1}
"""Claim order: lower first."""

MAX_ATTEMPTS = 3
"""A job that crashed its worker this many times is failed instead of retried forever."""


def worker_id() -> str:
    """A unique id for one worker thread: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, kw_only=True)
class Job:
    """A claimed job."""

    id: int
    report_id: str
    priority: int
    attempts: int
    worker: str


def enqueue(session: Session, *, report_id: str, priority: Priority, now: datetime) -> int:
    """Queue drafting of ``report_id`` in the caller's transaction; return the job id."""
    row = JobRow(
        report_id=report_id,
        priority=PRIORITY_RANK[priority],
        state=QUEUED,
        attempts=0,
        enqueued_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def claim(db: Database, *, worker: str, now: datetime, lease_s: float) -> Job | None:
    """Take the most urgent queued job for ``worker``, or None when the queue is empty.

    The job's report moves from ``queued`` to ``drafting`` in the same transaction.
    """
    with db.write() as session:
        row = session.scalars(
            select(JobRow)
            .where(JobRow.state == QUEUED)
            .order_by(JobRow.priority, JobRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        row.state = RUNNING
        row.worker = worker
        row.attempts += 1
        row.started_at = now
        row.lease_until = now + timedelta(seconds=lease_s)
        session.execute(
            update(ReportRow)
            .where(ReportRow.id == row.report_id, ReportRow.state == QUEUED)
            .values(state="drafting", version=ReportRow.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        session.flush()
        return Job(
            id=row.id,
            report_id=row.report_id,
            priority=row.priority,
            attempts=row.attempts,
            worker=worker,
        )


def finish(
    session: Session, job: Job, *, now: datetime, failed: bool = False, error: str | None = None
) -> bool:
    """Mark ``job`` done (or failed) if ``job.worker`` still holds it; True when it did."""
    result = session.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.state == RUNNING, JobRow.worker == job.worker)
        .values(state=FAILED if failed else DONE, finished_at=now, error=error, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _abandoned_here(worker: str | None) -> bool:
    """True when ``worker`` ran on this host in a process that no longer exists."""
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    return pid != os.getpid() and not _process_alive(pid)


def requeue_abandoned(db: Database, *, now: datetime) -> list[int]:
    """Queue again every running job whose lease expired or whose process died.

    Returns the ids re-queued. A job past :data:`MAX_ATTEMPTS` is failed instead and its
    report marked ``failed`` with the reason, so one poisonous case cannot crash workers
    forever and is still never lost.
    """
    requeued: list[int] = []
    with db.write() as session:
        rows = session.scalars(
            select(JobRow).where(JobRow.state == RUNNING).with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            expired = row.lease_until is not None and row.lease_until < now
            if not (expired or _abandoned_here(row.worker)):
                continue
            if row.attempts >= MAX_ATTEMPTS:
                row.state = FAILED
                row.finished_at = now
                row.error = f"worker died {row.attempts} times while drafting"
                session.execute(
                    update(ReportRow)
                    .where(ReportRow.id == row.report_id, ReportRow.state.in_([QUEUED, "drafting"]))
                    .values(
                        state=FAILED,
                        error_code="drafting_crashed",
                        error=row.error,
                        version=ReportRow.version + 1,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
            else:
                row.state = QUEUED
                requeued.append(row.id)
            row.worker = None
            row.lease_until = None
    return requeued


def counts(session: Session) -> dict[str, int]:
    """Number of jobs per state."""
    rows = session.execute(select(JobRow.state, func.count()).group_by(JobRow.state)).all()
    return {state: int(n) for state, n in rows}


def for_report(session: Session, report_id: str) -> list[JobRow]:
    """A report's jobs, oldest first (tests and diagnostics)."""
    return list(
        session.scalars(select(JobRow).where(JobRow.report_id == report_id).order_by(JobRow.id))
    )
