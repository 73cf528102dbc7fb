"""Token buckets in the database: one per API key, shared by every service process.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second. A
process does not take one token per request here (that would be a write transaction per
request): it *leases* a small batch with :func:`lease` and spends it locally
(``reportdraft.api.limits.RateLimiter``), handing back what it did not spend the next
time it leases. Every admitted request therefore spent a token that was taken from the
one shared bucket, so N processes together never admit more than the configured budget.

The lease is atomic: the row is created if missing (``INSERT ... ON CONFLICT DO
NOTHING``), then read ``FOR UPDATE`` and rewritten in the same transaction. On
PostgreSQL the row lock serialises concurrent leases of one key (at READ COMMITTED the
second transaction reads the first one's committed row once the lock is free); on SQLite
the write transaction starts with ``BEGIN IMMEDIATE`` (``store.db``), which serialises
every writer. Times are wall-clock seconds (several hosts may share the bucket); a clock
that goes backwards refills nothing rather than a negative amount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from reportdraft.store.db import Database
from reportdraft.store.tables import RateBucketRow


@dataclass(frozen=True)
class Lease:
    """The outcome of one lease: whole tokens granted, and the wait when none were."""

    granted: int
    wait_s: float
    """Seconds until one token is available (0 when ``granted`` > 0)."""


def lease(
    db: Database,
    key: str,
    *,
    want: int,
    rate: float,
    burst: int,
    now: float,
    give_back: int = 0,
) -> Lease:
    """Refill ``key``'s bucket to ``now``, return ``give_back`` tokens, take up to ``want``.

    ``give_back`` is what the caller leased earlier and did not spend (it goes back into
    the bucket, capped at ``burst``). Grants whole tokens only, at most ``want``.
    """
    if want < 1 or rate <= 0 or burst < 1:
        raise ValueError("lease needs want >= 1, rate > 0 and burst >= 1")
    dialect_insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
    with db.write() as session:
        session.execute(
            dialect_insert(RateBucketRow)
            .values(key=key, tokens=float(burst), at_s=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        tokens, at_s = session.execute(
            select(RateBucketRow.tokens, RateBucketRow.at_s)
            .where(RateBucketRow.key == key)
            .with_for_update()
        ).one()
        elapsed = max(0.0, now - at_s)
        available = min(float(burst), tokens + elapsed * rate + max(0, give_back))
        granted = min(want, math.floor(available))
        session.execute(
            update(RateBucketRow)
            .where(RateBucketRow.key == key)
            .values(tokens=available - granted, at_s=max(now, at_s))
        )
    wait = 0.0 if granted > 0 else (1.0 - available) / rate
    return Lease(granted=granted, wait_s=wait)
