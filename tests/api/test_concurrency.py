"""Concurrency through real HTTP (uvicorn on loopback), on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from reportdraft.store import jobs, reports
from tests.api.conftest import make_api
from tests.api.helpers import a_case, create_drafted, make_signable, seed_keys
from tests.api.server import serving
from tests.store.dbfixtures import BACKENDS, close_database, open_database


@pytest.mark.parametrize("kind", BACKENDS)
def test_50_concurrent_creates_with_one_key_make_one_report(kind: str, tmp_path: Path) -> None:
    db, handle = open_database(kind, tmp_path)
    client, key = make_api(db, start_workers=False)
    try:
        headers = {**seed_keys(db, key)["workstation"], "Idempotency-Key": "burst-1"}
        with serving(client.app) as base, httpx.Client(base_url=base, timeout=60) as http:  # type: ignore[arg-type]

            def create(_: int) -> httpx.Response:
                return http.post("/v1/reports", json=a_case("ACC-BURST"), headers=headers)

            with ThreadPoolExecutor(50) as pool:
                responses = list(pool.map(create, range(50)))
        codes = sorted(r.status_code for r in responses)
        assert set(codes) <= {200, 202}, codes
        assert codes.count(202) == 1
        assert len({r.json()["id"] for r in responses}) == 1
        with db.read() as session:
            assert reports.count(session) == 1
            assert sum(jobs.counts(session).values()) == 1
    finally:
        close_database(db, handle)


@pytest.mark.parametrize("kind", BACKENDS)
def test_two_concurrent_signs_exactly_one_succeeds(kind: str, tmp_path: Path) -> None:
    db, handle = open_database(kind, tmp_path)
    client, key = make_api(db)
    try:
        keys = seed_keys(db, key)
        with serving(client.app) as base, httpx.Client(base_url=base, timeout=60) as http:  # type: ignore[arg-type]
            report = create_drafted(http, keys["workstation"], a_case())
            etag = make_signable(http, keys["attending"], report)
            url = f"/v1/reports/{report['id']}/sign"
            headers = {**keys["attending"], "If-Match": etag}

            def sign(_: int) -> httpx.Response:
                return http.post(url, json={"status": "final"}, headers=headers)

            with ThreadPoolExecutor(2) as pool:
                results = list(pool.map(sign, range(2)))
            final = http.get(f"/v1/reports/{report['id']}", headers=keys["qa"]).json()
        assert sorted(r.status_code for r in results) == [200, 412]
        assert final["state"] == "final"
        assert final["versions"] == 1
        trail = [e for e in (final["current"]["transitions"]) if e["to_status"] == "final"]
        assert len(trail) == 1
    finally:
        close_database(db, handle)


def test_stat_jobs_overtake_routine_ones_in_a_loaded_queue(tmp_path: Path) -> None:
    db, handle = open_database("sqlite", tmp_path)
    client, key = make_api(db, start_workers=False)
    try:
        with client:
            ws = seed_keys(db, key)["workstation"]
            arrivals = ["routine"] * 6 + ["stat"] * 3 + ["routine"] * 2 + ["stat"]
            ids = []
            for n, priority in enumerate(arrivals):
                r = client.post(
                    "/v1/reports", json=a_case(f"ACC-P{n}", priority=priority), headers=ws
                )
                ids.append((r.json()["id"], priority))
            from reportdraft.api.worker import Drafter, WorkerPool

            state = client.app.state.rd  # type: ignore[attr-defined]
            pool = WorkerPool(state, Drafter(state), threads=1, lease_s=60)
            while pool.run_once("w:1:test"):
                pass
        with db.read() as session:
            started = sorted(
                (
                    jobs.for_report(session, rid)[0].id,
                    jobs.for_report(session, rid)[0].started_at,
                    priority,
                )
                for rid, priority in ids
            )
        order = [p for _, _, p in sorted(started, key=lambda t: t[1])]
        assert order == ["stat"] * 4 + ["routine"] * 8
        with db.read() as session:
            assert all(reports.get(session, rid).state == "draft" for rid, _ in ids)
    finally:
        close_database(db, handle)
