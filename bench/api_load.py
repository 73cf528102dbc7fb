"""Load test of the API on loopback with a load generator that is not the bottleneck.

The earlier version drove the server from Python threads on the same two cores, so it
mostly measured its own client. Here ``wrk`` (compiled, event-driven; Debian package
``wrk``) drives ``GET /health``, ``GET /v1/reports/{id}`` and ``POST /v1/reports``, and
sign + render (two dependent requests per report, which ``wrk`` cannot order) runs from
several client *processes* (threads within each). Every measurement records the client's
CPU seconds (``wait4`` rusage of wrk / of the client processes) and the server's (all its
processes, from ``/proc``), so one can see who used the cores.

For each database (SQLite, and PostgreSQL when 127.0.0.1:5432 answers) and each server
shape (``reportdraft serve --workers 1`` and ``--workers 2``), at 1, 8 and 32 concurrent
connections:

* ``health``      — ``GET /health``: the framework's floor, the **baseline** of the run;
* ``read``        — ``GET /v1/reports/{id}`` of a drafted report (auth, facility scope,
                    the report with its draft);
* ``create``      — ``POST /v1/reports`` (validated case stored, drafting job queued: the
                    measured server runs ``--no-drafting``, so this is the API's cost,
                    not the drafting's);
* ``sign_render`` — ``POST /v1/reports/{id}/sign`` (final) then ``GET .../pdf`` (signatures
                    verified, PDF rendered on request), per prepared report.

Throughput is given as requests/s and as a ratio of ``health`` at the same concurrency,
server and database (``rps_vs_health``), and — since the server shares two cores with
the client, PostgreSQL and other jobs — also as server CPU per request relative to
``health``'s (``server_cpu_vs_health``: the throughput ratio a CPU-bound server would
show with the cores to itself; the database's own CPU is not in it); latency p50/p99
(wrk's histogram; nearest-rank for the Python client). The rate limit is lifted
(``--rate 1000000``) so it never answers 429; the limiter still runs on every request
(in memory, leasing from the database once per 250 000 tokens). Drafted, signable
reports are prepared beforehand by a separate server with drafting on. Output:
``bench/results/api_load.json`` with the machine, load average before and after, and
every figure. The machine is shared with other jobs: absolute numbers are depressed,
ratios within one run are what count.

    python bench/api_load.py [--quick] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportdraft.store import Database, upgrade  # noqa: E402
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey  # noqa: E402
from tests.api.helpers import a_case, make_signable, seed_keys  # noqa: E402
from tests.api.server import free_port  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LAUNCH = "import sys; from reportdraft.cli.serve import serve; sys.exit(serve())"
CLK_TCK = os.sysconf("SC_CLK_TCK")
OUT = ROOT / "bench" / "results" / "api_load.json"

WRK_SCRIPT = r"""
-- wrk script: method, path, bearer token ("-" for none), body template file ("-" for none).
-- "__ACC__" in the body becomes a unique accession number per request.
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  method, path, token, bodyfile = args[1], args[2], args[3], args[4]
  statuses = {}
  counter = 0
  template = nil
  if bodyfile ~= "-" then
    local f = io.open(bodyfile, "r")
    template = f:read("*a")
    f:close()
  end
end

function request()
  counter = counter + 1
  local headers = {}
  if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
  local body = nil
  if template then
    body = template:gsub("__ACC__", "W" .. tid .. "-" .. counter)
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do codes[code] = (codes[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, string.format('"%d": %d', code, n)) end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end
"""


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants so far (Linux /proc)."""
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def children_cpu_s() -> float:
    """CPU seconds of this process's reaped children (wrk, client processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    base: str,
    *,
    method: str,
    path: str,
    token: str | None,
    body: Path | None,
    clients: int,
    seconds: float,
    script: Path,
    server_pid: int,
) -> dict[str, Any]:
    """One wrk run; its figures plus the client's and the server's CPU seconds."""
    threads = max(1, min(2, clients))
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(clients),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
    ]
    cmd += ["-s", str(script), base, "--", method, path, token or "-", str(body or "-")]
    client_before, server_before = children_cpu_s(), tree_cpu_s(server_pid)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    client_cpu, server_cpu = (
        children_cpu_s() - client_before,
        tree_cpu_s(server_pid) - server_before,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    raw = json.loads(line[len("WRKJSON ") :])
    duration = raw["duration_us"] / 1e6
    return {
        "tool": "wrk",
        "clients": clients,
        "requests": raw["requests"],
        "seconds": round(duration, 3),
        "rps": round(raw["requests"] / duration, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "statuses": raw["statuses"],
        "socket_errors": raw["errors"],
        "client_cpu_s": round(client_cpu, 2),
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, raw["requests"]), 3),
        "client_cpu_share_of_machine": round(client_cpu / (wall * (os.cpu_count() or 1)), 3),
    }


def _sign_render_client(
    base: str,
    keys: dict[str, dict[str, str]],
    items: list[tuple[str, str]],
    threads: int,
    queue: Any,
) -> None:
    """One client process: ``threads`` threads sign + render ``items``; latencies to queue."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    todo = iter(items)

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            while True:
                with lock:
                    item = next(todo, None)
                if item is None:
                    return
                rid, etag = item
                start = time.perf_counter()
                signed = http.post(
                    f"/v1/reports/{rid}/sign",
                    json={"status": "final"},
                    headers={**keys["attending"], "If-Match": etag},
                )
                response = signed
                if signed.status_code == 200:
                    response = http.get(f"/v1/reports/{rid}/pdf", headers=keys["qa"])
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    key = str(response.status_code)
                    statuses[key] = statuses.get(key, 0) + 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((latencies, statuses))


def run_sign_render(
    base: str,
    keys: dict[str, dict[str, str]],
    items: list[tuple[str, str]],
    clients: int,
    server_pid: int,
) -> dict[str, Any]:
    """Sign + render every item from ``clients`` concurrent clients in up to 4 processes."""
    processes = min(4, clients)
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    chunks = [items[i::processes] for i in range(processes)]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    client_before, server_before = children_cpu_s(), tree_cpu_s(server_pid)
    started = time.perf_counter()
    procs = [
        ctx.Process(target=_sign_render_client, args=(base, keys, chunk, n, queue))
        for chunk, n in zip(chunks, per, strict=True)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    client_cpu, server_cpu = (
        children_cpu_s() - client_before,
        tree_cpu_s(server_pid) - server_before,
    )
    latencies = [x for lat, _ in results for x in lat]
    statuses: dict[str, int] = {}
    for _, st in results:
        for k, v in st.items():
            statuses[k] = statuses.get(k, 0) + v
    return {
        "tool": f"python: {processes} processes, {clients} threads in all",
        "clients": clients,
        "requests": len(latencies),
        "requests_note": "one request = sign + PDF (two HTTP requests)",
        "seconds": round(wall, 3),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 2),
        "statuses": statuses,
        "client_cpu_s": round(client_cpu, 2),
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, len(latencies)), 3),
        "client_cpu_share_of_machine": round(client_cpu / (wall * (os.cpu_count() or 1)), 3),
    }


def start_server(
    url: str, kek: str, log: Path, *, workers: int, drafting: bool
) -> tuple[subprocess.Popen[bytes], str]:
    """``reportdraft serve`` on a free loopback port; returns the process and base URL."""
    port = free_port()
    env = {**os.environ, "REPORTDRAFT_KEY_ENCRYPTION_KEY": kek, "REPORTDRAFT_BACKEND": "rules"}
    cmd = [sys.executable, "-c", LAUNCH, "--port", str(port), "--database-url", url]
    cmd += ["--workers", str(workers), "--log-level", "warning"]
    cmd += ["--rate", "1000000", "--rate-burst", "1000000"]
    cmd += [] if drafting else ["--no-drafting"]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start; see {log}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server (SIGTERM, then wait)."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def prepare(
    url: str, kek: str, keys: dict[str, dict[str, str]], n: int, log: Path
) -> tuple[str, list[tuple[str, str]]]:
    """A drafted report to read and ``n`` signable reports (id, ETag), made by the API."""
    proc, base = start_server(url, kek, log, workers=1, drafting=True)
    out: list[tuple[str, str]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            r = http.post(
                "/v1/reports?wait=true",
                json=a_case(f"ACC-S{uuid.uuid4().hex[:8]}{i}"),
                headers=keys["workstation"],
            )
            report = r.json()
            etag = make_signable(http, keys["attending"], report)
            with lock:
                out.append((report["id"], etag))

    try:
        with httpx.Client(base_url=base, timeout=300) as http:
            seed = http.post(
                "/v1/reports?wait=true", json=a_case("ACC-READ"), headers=keys["workstation"]
            ).json()["id"]
        for start in range(0, n, 4):
            batch = [
                threading.Thread(target=one, args=(i,)) for i in range(start, min(n, start + 4))
            ]
            for t in batch:
                t.start()
            for t in batch:
                t.join()
    finally:
        stop(proc)
    return seed, out


def run_database(label: str, url: str, db: Database, args: argparse.Namespace) -> dict[str, Any]:
    """Every workload at every concurrency, for each server shape, on one database."""
    keks = KekRing(KeyEncryptionKey.generate())
    kek = keks.current.encoded()
    upgrade(db)
    keys = seed_keys(db, keks)
    log = Path(tempfile.gettempdir()) / f"api_load_{label}.log"
    per_shape = sum(args.sign_counts.values())
    started = time.perf_counter()
    seed, ready = prepare(url, kek, keys, per_shape * len(args.workers), log)
    prepare_s = time.perf_counter() - started
    body = Path(tempfile.gettempdir()) / f"api_load_case_{label}.json"
    body.write_text(json.dumps(a_case("__ACC__")))
    script = Path(tempfile.gettempdir()) / "api_load.lua"
    script.write_text(WRK_SCRIPT)
    results: dict[str, Any] = {"prepare_s": round(prepare_s, 1)}
    token = {role: h["Authorization"].split(" ", 1)[1] for role, h in keys.items()}
    for shape, workers in enumerate(args.workers):
        proc, base = start_server(url, kek, log, workers=workers, drafting=False)
        shape_items = ready[shape * per_shape : (shape + 1) * per_shape]
        levels: dict[str, Any] = {}
        try:
            for clients in args.clients:
                common = {"clients": clients, "seconds": args.seconds, "script": script}
                common["server_pid"] = proc.pid
                level: dict[str, Any] = {}
                level["health"] = run_wrk(
                    base, method="GET", path="/health", token=None, body=None, **common
                )
                level["read"] = run_wrk(
                    base,
                    method="GET",
                    path=f"/v1/reports/{seed}",
                    token=token["qa"],
                    body=None,
                    **common,
                )
                level["create"] = run_wrk(
                    base,
                    method="POST",
                    path="/v1/reports",
                    token=token["workstation"],
                    body=body,
                    **common,
                )
                items, shape_items = (
                    shape_items[: args.sign_counts[clients]],
                    shape_items[args.sign_counts[clients] :],
                )
                level["sign_render"] = run_sign_render(base, keys, items, clients, proc.pid)
                base_rps = level["health"]["rps"] or 1.0
                base_cpu = level["health"]["server_cpu_ms_per_request"] or 1.0
                for name in ("read", "create", "sign_render"):
                    level[name]["rps_vs_health"] = round(level[name]["rps"] / base_rps, 3)
                    # What the ratio would be if the server had the cores to itself.
                    level[name]["server_cpu_vs_health"] = round(
                        base_cpu / (level[name]["server_cpu_ms_per_request"] or 1.0), 3
                    )
                levels[str(clients)] = level
                print(
                    label,
                    f"workers={workers}",
                    clients,
                    {
                        k: (v["rps"], v["p50_ms"], v["p99_ms"], v.get("rps_vs_health"))
                        for k, v in level.items()
                    },
                    flush=True,
                )
        finally:
            stop(proc)
        results[f"workers_{workers}"] = levels
    return results


def summary(out: dict[str, Any]) -> dict[str, Any]:
    """The ratios the issue asks for, at 32 clients, per database and server shape."""
    rows: dict[str, Any] = {}
    for db_name, shapes in out["databases"].items():
        for shape, levels in shapes.items():
            if not shape.startswith("workers_") or "32" not in levels:
                continue
            level = levels["32"]
            rows[f"{db_name}/{shape}"] = {
                "health_rps": level["health"]["rps"],
                **{
                    f"{name}_vs_health": level[name]["rps_vs_health"]
                    for name in ("read", "create", "sign_render")
                },
                **{
                    f"{name}_server_cpu_vs_health": level[name]["server_cpu_vs_health"]
                    for name in ("read", "create", "sign_render")
                },
                **{f"{name}_p99_ms": level[name]["p99_ms"] for name in level},
            }
    return rows


def main() -> None:
    """Run the benchmark and write the JSON results."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer levels and reports")
    parser.add_argument("--seconds", type=float, default=5.0, help="per wrk run")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", type=Path, default=OUT, help="result file")
    args = parser.parse_args()
    args.clients = [1, 8, 32]
    args.workers = [1, 2]
    args.sign_counts = {1: 3, 8: 8, 32: 32} if args.quick else {1: 8, 8: 24, 32: 48}
    out: dict[str, Any] = {
        "benchmark": "api_load",
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cores": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
            "note": "shared 2-core machine with other jobs running; client, server and "
            "database share the cores, so absolute numbers are depressed; ratios to "
            "health in the same run are what count",
        },
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.strip()[:80],
        "seconds_per_wrk_run": args.seconds,
        "databases": {},
    }
    if args.sqlite:
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
    out["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out["summary_at_32_clients"] = summary(out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out["summary_at_32_clients"], indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
