"""Time to first byte of the review pages with 1,000 reports in the database.

Starts ``reportdraft serve`` (no drafting workers) as a subprocess on 127.0.0.1 on a
SQLite database holding ``--reports`` drafted reports (default 1,000: the bundled
examples drafted once with the rules backend, then stored under new accession numbers,
one in three STAT), signs in through the sign-in form like a browser (session cookie),
and times, one request at a time, interleaved:

* ``/health``                   — the baseline, measured in the same run;
* ``/worklist``                 — the default view (open reports, first 100 rows);
* ``/worklist?state=all``       — every state;
* ``/worklist/rows``            — the body htmx polls;
* ``/reports/{id}``             — the review page of a report with an AI finding;
* ``/reports/{id}/sign``        — the review page with the sign dialog (a dry-run sign).

TTFB is the time until the response headers arrived (``httpx`` streaming). The target
the issue sets: pages under 100 ms p50 on SQLite. Output: ``bench/results/web_ttfb.json``.

    .venv/bin/python bench/web_ttfb.py [--reports 1000] [--rounds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportdraft import attest, drafting  # noqa: E402
from reportdraft.backends import BackendOptions, create_backend  # noqa: E402
from reportdraft.models import Priority  # noqa: E402
from reportdraft.store import Database, reports, upgrade  # noqa: E402
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey  # noqa: E402
from reportdraft.web.demo_cases import example_cases  # noqa: E402
from tests.api.helpers import FACILITY, seed_keys  # noqa: E402
from tests.api.server import serve_process  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def fill(db: Database, count: int) -> str:
    """Store ``count`` drafted reports; return the id of one with an AI finding."""
    rules = create_backend("rules", BackendOptions())
    now = datetime.now(UTC)
    drafted = []
    for case in example_cases():
        study = case.study.model_copy(
            update={
                "performing_facility": case.study.performing_facility.model_copy(
                    update={"identifier": FACILITY}
                )
            }
        )
        case = case.model_copy(update={"study": study})
        drafted.append((case, drafting.draft_case(case, rules, now=now).draft))
    probe = ""
    for i in range(count):
        case, draft = drafted[i % len(drafted)]
        accession = f"BENCH-{i:05d}"
        priority = Priority.STAT if i % 3 == 0 else Priority.ROUTINE
        study = case.study.model_copy(update={"accession_number": accession, "priority": priority})
        this_case = case.model_copy(update={"study": study})
        this_draft = draft.model_copy(update={"accession_number": accession})
        stored = reports.create(db, case=this_case, created_by="bench", now=now).report
        report = attest.open_report(this_case, this_draft, by="bench", at=now, report_id=stored.id)
        with db.write() as session:
            reports.save(
                session,
                stored.id,
                expected_version=stored.version,
                now=now,
                state=report.status.value,
                draft=this_draft,
                report=report,
                critical_open=False,
            )
        if not probe and this_case.ai_findings:
            probe = stored.id
    return probe


def ttfb(client: httpx.Client, path: str) -> float:
    """Seconds until the response headers of GET ``path`` arrived (status must be 200)."""
    start = time.perf_counter()
    with client.stream("GET", path) as response:
        elapsed = time.perf_counter() - start
        response.read()
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code}")
    return elapsed


def sign_in(client: httpx.Client, key: str) -> None:
    """Sign in through the form, as a browser does (CSRF token, session cookie)."""
    form = client.get("/signin").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    response = client.post("/signin", data={"csrf": token.group(1), "api_key": key})
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")


def main() -> None:
    """Run the benchmark and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        kek = KeyEncryptionKey.generate()
        db = Database(url)
        upgrade(db)
        headers = seed_keys(db, KekRing(kek))
        started = time.perf_counter()
        probe = fill(db, args.reports)
        fill_s = time.perf_counter() - started
        db.dispose()
        env = {"PYTHONPATH": str(ROOT), "REPORTDRAFT_KEY_ENCRYPTION_KEY": kek.encoded()}
        options = ("--no-workers", "--log-level", "warning")
        with serve_process(url, Path(tmp) / "serve.log", *options, env=env) as (base, _pid):
            key = headers["attending"]["Authorization"].removeprefix("Bearer ")
            paths = {
                "health (baseline)": "/health",
                "worklist": "/worklist",
                "worklist state=all": "/worklist?state=all",
                "worklist rows (htmx poll)": "/worklist/rows",
                "report review": f"/reports/{probe}",
                "report review + sign dialog": f"/reports/{probe}/sign",
            }
            times: dict[str, list[float]] = {name: [] for name in paths}
            with httpx.Client(base_url=base, timeout=60) as client:
                sign_in(client, key)
                for path in paths.values():  # warm-up (spaCy for the redline, caches)
                    ttfb(client, path)
                for _ in range(args.rounds):
                    for name, path in paths.items():
                        times[name].append(ttfb(client, path))
    base_p50 = statistics.median(times["health (baseline)"])
    results: dict[str, Any] = {}
    for name, values in times.items():
        p50 = statistics.median(values)
        results[name] = {
            "p50_ms": round(p50 * 1000, 2),
            "p90_ms": round(percentile(values, 0.9) * 1000, 2),
            "max_ms": round(max(values) * 1000, 2),
            "ratio_to_health_p50": round(p50 / base_p50, 2),
            "under_100ms_p50": p50 < 0.1,
        }
    out = {
        "benchmark": "web_ttfb",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "reports_in_database": args.reports,
        "rounds": args.rounds,
        "database": "sqlite (file)",
        "fill_seconds": round(fill_s, 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        },
        "note": "Shared machine (other helpers running builds and tests): absolute figures "
        "are noisy; compare with the /health baseline of the same run.",
        "ttfb": results,
    }
    target = ROOT / "bench" / "results" / "web_ttfb.json"
    target.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
