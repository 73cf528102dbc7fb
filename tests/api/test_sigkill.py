"""The server killed with SIGKILL during a burst of creates and signs, then restarted.

Every acknowledged request must be in the database exactly once, no report may be half
signed, every signed version must verify, and every audit chain must verify.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from reportdraft.attest import verify_report
from reportdraft.models.report import SIGNED_STATUSES
from reportdraft.store import Database, audit_trail, reports, signing_keys, upgrade
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey
from tests.api.helpers import a_case, create_drafted, make_signable, seed_keys
from tests.api.server import free_port
from tests.store.dbfixtures import PgSchema, pg_unavailable

LAUNCH = "import sys; from reportdraft.cli.serve import serve; sys.exit(serve())"


def _start(url: str, port: int, kek: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REPORTDRAFT_KEY_ENCRYPTION_KEY": kek, "REPORTDRAFT_BACKEND": "rules"}
    cmd = [sys.executable, "-c", LAUNCH, "--port", str(port), "--database-url", url]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_sigkill_during_burst_loses_nothing(kind: str, tmp_path: Path) -> None:
    schema: PgSchema | None = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'kill.db'}"
        db = Database(url)
    else:
        reason = pg_unavailable()
        if reason:
            pytest.skip(reason)
        schema = PgSchema()
        url = schema.url_with_schema
        db = Database(url)
    keks = KekRing(KeyEncryptionKey.generate())
    kek = keks.current.encoded()
    upgrade(db)
    keys = seed_keys(db, keks)
    log = tmp_path / "server.log"
    port = free_port()
    proc = _start(url, port, kek, log)
    base = f"http://127.0.0.1:{port}"
    acked_creates: dict[str, str] = {}
    acked_signs: set[str] = set()
    lock = threading.Lock()
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            ready = []
            for n in range(6):
                report = create_drafted(http, keys["workstation"], a_case(f"ACC-K{n}"))
                ready.append((report["id"], make_signable(http, keys["attending"], report)))

        def creator(worker: int) -> None:
            with httpx.Client(base_url=base, timeout=10) as http:
                for n in range(1000):
                    idem = f"w{worker}-{n}"
                    try:
                        r = http.post(
                            "/v1/reports",
                            json=_burst_case(worker, n),
                            headers={**keys["workstation"], "Idempotency-Key": idem},
                        )
                    except httpx.HTTPError:
                        return
                    if r.status_code in (200, 201, 202):
                        with lock:
                            acked_creates[idem] = r.json()["id"]

        def signer() -> None:
            with httpx.Client(base_url=base, timeout=10) as http:
                for rid, etag in ready:
                    try:
                        r = http.post(
                            f"/v1/reports/{rid}/sign",
                            json={"status": "final"},
                            headers={**keys["attending"], "If-Match": etag},
                        )
                    except httpx.HTTPError:
                        return
                    if r.status_code == 200:
                        with lock:
                            acked_signs.add(rid)
                    time.sleep(0.05)

        threads = [threading.Thread(target=creator, args=(w,)) for w in range(4)]
        threads.append(threading.Thread(target=signer))
        for t in threads:
            t.start()
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        for t in threads:
            t.join(30)
        assert acked_creates, "the burst acknowledged nothing before the kill"

        proc = _start(url, port, kek, log)
        with httpx.Client(base_url=base, timeout=30) as http:
            for idem, rid in acked_creates.items():
                worker, n = (int(x) for x in idem[1:].split("-"))
                r = http.post(
                    "/v1/reports",
                    json=_burst_case(worker, n),
                    headers={**keys["workstation"], "Idempotency-Key": idem},
                )
                assert r.status_code == 200, r.text
                assert r.json()["id"] == rid
            deadline = time.monotonic() + 120
            while True:
                pending = http.get("/v1/reports?status=queued&limit=1", headers=keys["qa"]).json()
                drafting = http.get("/v1/reports?status=drafting&limit=1", headers=keys["qa"])
                if not pending["items"] and not drafting.json()["items"]:
                    break
                assert time.monotonic() < deadline, "queue did not drain after restart"
                time.sleep(0.5)
        _check_database(db, acked_creates, acked_signs)
        check = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from reportdraft.cli.serve import db; sys.exit(db())",
                "verify-audit",
                "--database-url",
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        proc.kill()
        proc.wait(10)
        db.dispose()
        if schema is not None:
            schema.drop()


def _burst_case(worker: int, n: int) -> dict[str, Any]:
    return a_case(f"ACC-B{worker}-{n}", priority="stat" if n % 3 else "routine")


def _check_database(db: Database, acked_creates: dict[str, str], acked_signs: set[str]) -> None:
    with db.read() as session:
        published = signing_keys.keyring(session)
        ids = list(acked_creates.values())
        for rid in ids:
            stored = reports.get(session, rid)
            assert stored.state != "queued"
        page = reports.list_reports(session, limit=200)
        all_reports = list(page.items)
        while page.next_cursor:
            page = reports.list_reports(session, limit=200, cursor=page.next_cursor)
            all_reports += page.items
        by_accession: dict[str, int] = {}
        for stored in all_reports:
            by_accession[stored.accession] = by_accession.get(stored.accession, 0) + 1
            if stored.report is not None:
                assert stored.state == stored.report.status.value
                current = stored.report.current
                if current.status in SIGNED_STATUSES:
                    assert current.signature is not None
                    assert verify_report(stored.report, keyring=published) == []
        assert max(by_accession.values()) == 1, "a report was created twice"
        for rid in acked_signs:
            stored = reports.get(session, rid)
            assert stored.state == "final"
            assert stored.report is not None
            finals = [t for t in stored.report.transitions() if t.to_status.value == "final"]
            assert len(finals) == 1
        assert audit_trail.verify_all(session) == {}
