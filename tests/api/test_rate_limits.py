"""Per-key rate limits shared through the database by every process serving the API.

Two apps on one database (each with its own engine, like two processes), the leasing
limiter against a scripted token source, the database lease under concurrent callers,
and a real ``reportdraft serve --workers 2`` whose two processes share one budget.
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from reportdraft.api.limits import RateLimiter
from reportdraft.store import Database, rate_limits, upgrade
from reportdraft.store.rate_limits import Lease
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey
from tests.api.conftest import make_api
from tests.api.helpers import seed_keys
from tests.api.server import children, serve_process
from tests.store.dbfixtures import BACKENDS, PG_URL, PgSchema, close_database, open_database


def _second_engine(db: Database, handle: object) -> Database:
    """Another ``Database`` (own engine and pool) on the same database as ``db``."""
    if isinstance(handle, PgSchema):
        return Database(PG_URL, schema=handle.schema)
    return Database(db.engine.url.render_as_string(hide_password=False))


@pytest.mark.parametrize("kind", BACKENDS)
def test_two_apps_on_one_database_share_each_keys_budget(kind: str, tmp_path: Path) -> None:
    db, handle = open_database(kind, tmp_path)
    other = _second_engine(db, handle)
    first, keks = make_api(db, rate_per_s=0.5, rate_burst=3, start_workers=False)
    second, _ = make_api(other, rate_per_s=0.5, rate_burst=3, start_workers=False)
    try:
        with first, second:
            keys = seed_keys(db, keks)
            qa = keys["qa"]
            codes = [
                first.get("/v1/reports", headers=qa).status_code,
                second.get("/v1/reports", headers=qa).status_code,
                first.get("/v1/reports", headers=qa).status_code,
            ]
            assert codes == [200, 200, 200]
            # The burst of 3 is spent across both apps: each now refuses the key.
            refused = second.get("/v1/reports", headers=qa)
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "rate_limited"
            assert first.get("/v1/reports", headers=qa).status_code == 429
            # Another key has its own bucket, in both apps.
            assert second.get("/v1/reports", headers=keys["admin"]).status_code == 200
            assert first.get("/v1/reports", headers=keys["admin"]).status_code == 200
    finally:
        other.dispose()
        close_database(db, handle)


class ScriptedSource:
    """A token source with one bucket per key, recording every lease."""

    def __init__(self, tokens: int) -> None:
        self.tokens = tokens
        self.calls: list[tuple[int, int]] = []

    def __call__(self, key: str, *, want: int, give_back: int, now: float) -> Lease:
        self.calls.append((want, give_back))
        self.tokens += give_back
        granted = min(want, self.tokens)
        self.tokens -= granted
        return Lease(granted=granted, wait_s=0.0 if granted else 1.5)


def test_limiter_leases_batches_and_hands_back_stale_tokens() -> None:
    now = [100.0]
    source = ScriptedSource(tokens=12)
    limiter = RateLimiter(rate=20, burst=12, source=source, clock=lambda: now[0], hold_s=0.25)
    assert limiter.batch == 5
    assert [limiter.take("k") for _ in range(5)] == [0.0] * 5
    assert source.calls == [(5, 0)]  # one lease for five requests
    assert limiter.take("k") == 0.0
    assert source.calls[-1] == (5, 0)
    now[0] += 1.0  # the four tokens left are stale: handed back with the next lease
    assert limiter.take("k") == 0.0
    assert source.calls[-1] == (5, 4)
    assert source.tokens == 12 - 5 - 5 + 4 - 5 + 0


def test_limiter_answers_the_wait_when_the_shared_bucket_is_empty() -> None:
    source = ScriptedSource(tokens=2)
    limiter = RateLimiter(rate=1, burst=2, source=source, clock=lambda: 0.0)
    assert limiter.batch == 1
    assert [limiter.take("k") for _ in range(3)] == [0.0, 0.0, 1.5]


def test_threads_of_one_process_share_a_lease_instead_of_each_taking_one() -> None:
    source = ScriptedSource(tokens=40)
    limiter = RateLimiter(rate=40, burst=40, source=source, clock=lambda: 5.0)
    assert limiter.batch == 10
    waits: list[float] = []
    lock = threading.Lock()
    gate = threading.Barrier(8)

    def client() -> None:
        gate.wait()
        for _ in range(5):
            wait = limiter.take("k")
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 40 requests, 40 tokens: all admitted, in exactly four leases of ten.
    assert waits == [0.0] * 40
    assert source.calls == [(10, 0)] * 4
    assert limiter.take("k") == 1.5


def test_rate_zero_takes_nothing() -> None:
    source = ScriptedSource(tokens=0)
    limiter = RateLimiter(rate=0, burst=1, source=source)
    assert limiter.take("k") == 0.0
    assert source.calls == []


@pytest.mark.parametrize("kind", BACKENDS)
def test_concurrent_leases_never_grant_more_than_the_bucket(kind: str, tmp_path: Path) -> None:
    db, handle = open_database(kind, tmp_path)
    other = _second_engine(db, handle)
    granted: list[int] = []
    lock = threading.Lock()
    burst = 40

    def worker(database: Database) -> None:
        for _ in range(30):
            # A fixed clock: no refill, so exactly ``burst`` tokens exist in all.
            lease = rate_limits.lease(database, "key-1", want=3, rate=5.0, burst=burst, now=1e9)
            with lock:
                granted.append(lease.granted)

    threads = [threading.Thread(target=worker, args=(d,)) for d in (db, other) * 3]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(granted) == burst
        last = rate_limits.lease(db, "key-1", want=1, rate=5.0, burst=burst, now=1e9)
        assert last.granted == 0
        assert last.wait_s == pytest.approx(0.2)
        refilled = rate_limits.lease(db, "key-1", want=10, rate=5.0, burst=burst, now=1e9 + 1)
        assert refilled.granted == 5
    finally:
        other.dispose()
        close_database(db, handle)


def test_lease_hands_back_at_most_a_full_bucket(tmp_path: Path) -> None:
    db, handle = open_database("sqlite", tmp_path)
    try:
        first = rate_limits.lease(db, "k", want=4, rate=1.0, burst=4, now=10.0)
        assert first.granted == 4
        back = rate_limits.lease(db, "k", want=1, rate=1.0, burst=4, now=10.0, give_back=100)
        assert back.granted == 1
        rest = rate_limits.lease(db, "k", want=10, rate=1.0, burst=4, now=10.0)
        assert rest.granted == 3  # capped at burst: 4 back, one taken
    finally:
        close_database(db, handle)


@pytest.mark.parametrize("kind", BACKENDS)
def test_serve_with_two_workers_shares_one_budget(kind: str, tmp_path: Path) -> None:
    """Two uvicorn worker processes: together they admit the burst and the refill, no more."""
    schema: PgSchema | None = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'workers.db'}"
    else:
        db, handle = open_database(kind, tmp_path)  # skips when PostgreSQL is down
        close_database(db, handle)
        schema = PgSchema()
        url = schema.url_with_schema
    db = Database(url)
    upgrade(db)
    keys = seed_keys(db, KekRing(KeyEncryptionKey.generate()))
    options = ["--workers", "2", "--no-drafting", "--rate", "2", "--rate-burst", "10"]
    options += ["--log-level", "warning"]
    try:
        with serve_process(url, tmp_path / "serve.log", *options) as (base, pid):
            _count_admitted(base, pid, keys["qa"])
    finally:
        db.dispose()
        if schema is not None:
            schema.drop()


def _count_admitted(base: str, pid: int, headers: dict[str, str]) -> None:
    """40 reads over fresh connections: the two workers admit the burst and refill, no more."""
    assert len(children(pid)) >= 2, "expected two worker processes"
    codes: list[int] = []
    lock = threading.Lock()
    started = time.monotonic()

    def client() -> None:
        # Fresh connections, several at once, so the kernel spreads them over both
        # processes (which one serves a connection is not observable from here).
        for _ in range(8):
            response = httpx.get(f"{base}/v1/reports", headers=headers, timeout=10)
            with lock:
                codes.append(response.status_code)

    clients = [threading.Thread(target=client) for _ in range(5)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    elapsed = time.monotonic() - started
    admitted = codes.count(200)
    assert set(codes) <= {200, 429}
    # Burst 10 plus 2/s of refill in all; two per-process buckets would admit up to
    # twice that (20 + 4·t).
    assert 10 <= admitted <= 10 + 2 * elapsed + 1


def test_a_lease_needs_no_connection_of_the_main_pool(tmp_path: Path) -> None:
    """A read holds a connection for its whole transaction while it takes its token.

    Were leases drawn from the same pool, requests holding every connection would wait for
    a lease that waits for a connection (until the pool times out). Here every connection
    of the main pool is held, as by such requests, and a lease still goes through.
    """
    db = Database(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1)  # 1 + 2 overflow
    upgrade(db)
    client, _ = make_api(db, rate_per_s=10, rate_burst=10, start_workers=False)
    limiter = client.app.state.rd.limiter  # type: ignore[attr-defined]
    try:
        with ExitStack() as held:
            for _ in range(3):
                held.enter_context(db.read()).execute(text("SELECT 1"))
            assert limiter.take("key-x") == 0.0
    finally:
        db.dispose()
