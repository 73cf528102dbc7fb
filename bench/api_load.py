"""Load test of the API on loopback: requests/s and p50/p99 latency.

Starts ``reportdraft serve`` (rules backend) as a subprocess on 127.0.0.1 and drives it
from this process with 1, 8 and 32 concurrent clients, on SQLite and (when reachable)
PostgreSQL, for three workloads:

* ``read``  — GET /v1/reports/{id} of a drafted report;
* ``create`` — POST /v1/reports (202; drafting continues in the server's workers);
* ``sign_render`` — POST /v1/reports/{id}/sign (final) then GET /v1/reports/{id}/pdf
  (the PDF is rendered on request).

The baseline, measured in the same run, is GET /health at the same concurrency: results
are also given as ratios of its requests/s. Every workload is bounded in requests and in
seconds. Output: ``bench/results/api_load.json``.

    .venv/bin/python bench/api_load.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportdraft.attest import generate_signing_key  # noqa: E402
from reportdraft.store import Database, upgrade  # noqa: E402
from tests.api.helpers import a_case, seed_keys  # noqa: E402
from tests.api.server import free_port  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LAUNCH = "import sys; from reportdraft.cli.serve import serve; sys.exit(serve())"
Request = Callable[[httpx.Client, int], httpx.Response]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def drive(
    base: str, request: Request, *, clients: int, count: int, seconds: float
) -> dict[str, Any]:
    """Run ``count`` requests (at most ``seconds``) from ``clients`` threads."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(count))
    deadline = time.monotonic() + seconds

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while time.monotonic() < deadline:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                start = time.perf_counter()
                response = request(http, n)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    key = str(response.status_code)
                    statuses[key] = statuses.get(key, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "seconds": round(wall, 3),
        "rps": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(1000 * statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(1000 * percentile(latencies, 0.99), 2) if latencies else None,
        "statuses": statuses,
    }


def start_server(url: str, pem: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``reportdraft serve`` on a free loopback port; returns the process and base URL."""
    port = free_port()
    env = {**os.environ, "REPORTDRAFT_SIGNING_KEY": pem, "REPORTDRAFT_BACKEND": "rules"}
    cmd = [
        sys.executable,
        "-c",
        LAUNCH,
        "--port",
        str(port),
        "--database-url",
        url,
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start; see {log}")
        time.sleep(0.2)


def prepare_signable(base: str, keys: dict[str, dict[str, str]], n: int) -> list[tuple[str, str]]:
    """``n`` drafted reports with every AI finding decided and high flags acknowledged."""
    out = []
    with httpx.Client(base_url=base, timeout=120) as http:
        for i in range(n):
            r = http.post(
                "/v1/reports?wait=true",
                json=a_case(f"ACC-S{uuid.uuid4().hex[:8]}{i}"),
                headers=keys["workstation"],
            )
            report = r.json()
            rid = report["id"]
            att = keys["attending"]
            r = http.post(
                f"/v1/reports/{rid}/decisions", json={"decisions": {"A1": "confirmed"}}, headers=att
            )
            for flag in report["draft"]["flags"]:
                if flag["severity"] == "high":
                    r = http.post(
                        f"/v1/reports/{rid}/flags/{flag['id']}/ack",
                        json={"reason": "Reviewed."},
                        headers=att,
                    )
            for code in sorted(
                {m["finding_code"] for m in report["current"]["critical"] if m["alert"]}
            ):
                r = http.post(
                    f"/v1/reports/{rid}/communications",
                    json={
                        "finding_code": code,
                        "recipient": {"name": "Dr. A"},
                        "method": "phone",
                        "notified_at": datetime.now(UTC).isoformat(),
                    },
                    headers=att,
                )
            out.append((rid, r.headers["ETag"]))
    return out


def run_database(label: str, url: str, db: Database, args: argparse.Namespace) -> dict[str, Any]:
    """All workloads at every concurrency on one database."""
    key = generate_signing_key()
    upgrade(db)
    keys = seed_keys(db, key)
    log = Path(tempfile.gettempdir()) / f"api_load_{label}.log"
    proc, base = start_server(url, key.private_pem().decode(), log)
    results: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=base, timeout=120) as http:
            seed = http.post(
                "/v1/reports?wait=true", json=a_case("ACC-READ"), headers=keys["workstation"]
            ).json()["id"]
        for clients in args.clients:
            level: dict[str, Any] = {}
            level["health"] = drive(
                base,
                lambda h, n: h.get("/health"),
                clients=clients,
                count=args.count,
                seconds=args.seconds,
            )
            level["read"] = drive(
                base,
                lambda h, n: h.get(f"/v1/reports/{seed}", headers=keys["qa"]),
                clients=clients,
                count=args.count,
                seconds=args.seconds,
            )
            level["create"] = drive(
                base,
                lambda h, n, clients=clients: h.post(
                    "/v1/reports", json=a_case(f"ACC-C{clients}-{n}"), headers=keys["workstation"]
                ),
                clients=clients,
                count=args.count,
                seconds=args.seconds,
            )
            ready = prepare_signable(base, keys, args.sign_count)

            def sign_render(
                h: httpx.Client, n: int, ready: list[tuple[str, str]] = ready
            ) -> httpx.Response:
                rid, etag = ready[n]
                signed = h.post(
                    f"/v1/reports/{rid}/sign",
                    json={"status": "final"},
                    headers={**keys["attending"], "If-Match": etag},
                )
                if signed.status_code != 200:
                    return signed
                return h.get(f"/v1/reports/{rid}/pdf", headers=keys["qa"])

            level["sign_render"] = drive(
                base, sign_render, clients=clients, count=len(ready), seconds=args.seconds
            )
            base_rps = level["health"]["rps"] or 1.0
            for name in ("read", "create", "sign_render"):
                level[name]["rps_vs_health"] = round(level[name]["rps"] / base_rps, 3)
            results[str(clients)] = level
            print(
                label,
                clients,
                {k: (v["rps"], v["p50_ms"], v["p99_ms"]) for k, v in level.items()},
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait(20)
    return results


def main() -> None:
    """Run the benchmark and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests (smoke run)")
    args = parser.parse_args()
    args.clients = [1, 8, 32]
    args.count = 60 if args.quick else 300
    args.sign_count = 10 if args.quick else 40
    args.seconds = 10.0 if args.quick else 20.0
    out: dict[str, Any] = {"machine_cores": os.cpu_count(), "databases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = Database(url)
        out["databases"]["sqlite"] = run_database("sqlite", url, db, args)
        db.dispose()
    try:
        admin = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        schema = f"rdbench_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        out["databases"]["postgresql"] = {"skipped": f"{type(exc).__name__}: not reachable"}
    else:
        try:
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
            db = Database(url)
            out["databases"]["postgresql"] = run_database("postgresql", url, db, args)
            db.dispose()
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()
    target = ROOT / "bench" / "results" / "api_load.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
