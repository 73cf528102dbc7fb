"""Concurrent drafting, measured: one draft's latency and eval throughput, with ratios.

Two servers, each measured with a baseline from the same run:

* **latency-bound test server** (``bench/latency_server.py``, a separate process): every
  request is answered after a delay drawn from a log-normal distribution (median 1.0 s,
  sigma 0.3, clipped to 0.4-3.0 s by default), standing in for a GPU server's per-request
  latency; the answers restate each piece's sources, so the pipeline does its real work
  (prompts, parsing, per-piece verification, critical findings). Measured:

  - *one draft*: every bundled example drafted with its pieces one at a time (concurrency 1,
    the baseline) and all at once (``--concurrency``, default 8), interleaved; the slowest
    single piece is timed in the sequential run (the client-side time of its calls). Target:
    the concurrent draft within 1.5x the slowest piece.
  - *eval throughput*: ``run_system`` (the drafting stage of ``reportdraft eval``, no cache)
    over distinct cases made from the examples at case concurrency 1, 4, 16 and 64, in
    cases/minute, with speed-up over concurrency 1 and efficiency (speed-up / concurrency;
    target >= 0.8 up to 16). The same run measures the client's CPU ceiling: the same levels
    against a second test server with (almost) no delay, i.e. what the pipeline's own
    Python work allows on this machine, whatever the server.

* **llama.cpp's server with the embedded model** (``python -m llama_cpp.server``, real
  generation, CPU-bound): the first ``--llama-cases`` examples drafted at piece concurrency
  1 and 8 (time, and whether the drafts are identical), and optionally eval throughput at
  case concurrency 1 and 4 (``--llama-eval-cases``). The server generates one request at a
  time on the machine's cores, so concurrency can only overlap the client's own work.

Writes ``bench/results/concurrent_drafting.json`` (``--out`` to change), with the machine,
its load average before and after (the machine is shared with other work: say so when you
quote a number) and every figure. ``bench/gpu_vllm_concurrency.py`` runs the same two
measurements against a real vLLM server on a GPU machine.

    python bench/concurrent_drafting.py [--llama-cases 3] [--part both|latency|llama]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from reportdraft import drafting
from reportdraft.backends import (
    Backend,
    BackendOptions,
    Generation,
    GenerationRequest,
    create_backend,
    embedded_model_path,
)
from reportdraft.backends.fake import request_choices
from reportdraft.evaluation.runner import pipeline_factory, run_system
from reportdraft.evaluation.suite import EvalCase, SystemSpec
from reportdraft.io import load_case
from reportdraft.models import Draft
from reportdraft.resources import data_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_throughput import varied_examples
from latency_server import ServerProcess

OUT = Path(__file__).parent / "results" / "concurrent_drafting.json"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

DISTRIBUTION = {"median_s": 1.0, "sigma": 0.3, "min_s": 0.4, "max_s": 3.0}
"""Default delay of the latency-bound test server (log-normal, clipped)."""

STANDS_IN_FOR = (
    "a GPU model server's per-request latency (an 8B model generating a ~50-150 token "
    "answer at 60-100 tokens/s per sequence), with unlimited batch capacity: the test "
    "server does no work while it waits, so only latency and the client's concurrency "
    "and CPU bound the throughput"
)


class Timed(Backend):
    """Delegates to a backend and records each call's piece (schema choices) and time."""

    name = "vllm"

    def __init__(self, inner: Backend) -> None:
        super().__init__(inner.options)
        self.inner = inner
        self.model_id = inner.model_id
        self.calls: list[tuple[tuple[str, ...], float]] = []

    def generate(self, request: GenerationRequest) -> Generation:
        start = time.perf_counter()
        try:
            return self.inner.generate(request)
        finally:
            key = tuple(sorted(request_choices(request)))
            self.calls.append((key, time.perf_counter() - start))  # list.append is atomic

    def close(self) -> None:
        self.inner.close()


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
    }


def comparable(draft: Draft) -> str:
    """A draft as canonical JSON without its wall time (all concurrency may change)."""
    data = draft.model_dump(mode="json")
    data["provenance"]["usage"].pop("seconds")
    return json.dumps(data, sort_keys=True)


def client(base_url: str, *, dialect: str, model: str | None, timeout_s: float) -> Backend:
    """The OpenAI-compatible client the pipeline drafts with."""
    return create_backend(
        "vllm",
        BackendOptions(base_url=base_url, dialect=dialect, model=model, timeout_s=timeout_s),  # type: ignore[arg-type]
    )


def draft_latency(
    base_url: str,
    *,
    dialect: str,
    model: str | None,
    examples: Sequence[Path],
    concurrency: int,
    timeout_s: float = 300,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """One draft per example at piece concurrency 1 (baseline) and ``concurrency``."""
    timed = Timed(client(base_url, dialect=dialect, model=model, timeout_s=timeout_s))
    rows: list[dict[str, Any]] = []
    identical = 0
    for path in examples:
        case = load_case(path)
        timed.calls.clear()
        start = time.perf_counter()
        sequential = drafting.draft_case(case, timed, now=NOW, concurrency=1).draft
        t_seq = time.perf_counter() - start
        pieces: dict[tuple[str, ...], float] = {}
        for key, seconds in timed.calls:
            pieces[key] = pieces.get(key, 0.0) + seconds
        start = time.perf_counter()
        concurrent = drafting.draft_case(case, timed, now=NOW, concurrency=concurrency).draft
        t_con = time.perf_counter() - start
        same = comparable(sequential) == comparable(concurrent)
        identical += same
        slowest = max(pieces.values(), default=0.0)
        row = {
            "case": path.stem,
            "pieces": len(pieces),
            "model_calls": sequential.provenance.usage.calls,
            "slowest_piece_s": round(slowest, 3),
            "sum_of_pieces_s": round(sum(pieces.values()), 3),
            "sequential_s": round(t_seq, 3),
            "concurrent_s": round(t_con, 3),
            "speedup": round(t_seq / t_con, 2),
            "concurrent_over_slowest_piece": round(t_con / slowest, 2) if slowest else None,
            "fallback_statements": sum(st.fallback for st in concurrent.statements()),
            "model_statements": sum(st.generator == "model" for st in concurrent.statements()),
            "identical": same,
        }
        rows.append(row)
        log(json.dumps(row))
    timed.close()
    ratios = [
        r["concurrent_over_slowest_piece"] for r in rows if r["concurrent_over_slowest_piece"]
    ]
    return {
        "concurrency": concurrency,
        "baseline": "the same draft with its pieces one at a time (concurrency 1)",
        "cases": rows,
        "median_sequential_s": statistics.median(r["sequential_s"] for r in rows),
        "median_concurrent_s": statistics.median(r["concurrent_s"] for r in rows),
        "median_speedup": statistics.median(r["speedup"] for r in rows),
        "median_concurrent_over_slowest_piece": statistics.median(ratios) if ratios else None,
        "max_concurrent_over_slowest_piece": max(ratios) if ratios else None,
        "target_concurrent_over_slowest_piece": 1.5,
        "within_target": sum(r <= 1.5 for r in ratios),
        "identical_drafts": f"{identical}/{len(rows)}",
    }


def eval_throughput(
    base_url: str,
    *,
    dialect: str,
    model: str | None,
    levels: Sequence[int],
    cases_for: Callable[[int], int],
    timeout_s: float = 300,
    server_stats: Callable[[], dict[str, int]] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """``run_system`` over distinct cases at each case concurrency in ``levels``."""
    spec = SystemSpec.model_validate(
        {
            "name": "server",
            "backend": "vllm",
            "base_url": base_url,
            "model": model,
            "dialect": dialect,
        }
    )
    factory = pipeline_factory()
    rows: list[dict[str, Any]] = []
    for level in levels:
        cases: list[EvalCase] = varied_examples(cases_for(level))
        before = server_stats()["served"] if server_stats else None
        start = time.perf_counter()
        outputs = run_system(
            spec,
            cases,
            factory,
            cache=None,
            prompt_version="bench",
            progress=False,
            concurrency=level,
        )
        seconds = time.perf_counter() - start
        row: dict[str, Any] = {
            "concurrency": level,
            "cases": len(cases),
            "failed": sum(o.draft is None for o in outputs),
            "seconds": round(seconds, 2),
            "cases_per_min": round(60 * len(cases) / seconds, 1),
        }
        if server_stats:
            stats = server_stats()
            row["requests"] = stats["served"] - (before or 0)
        rows.append(row)
        log(json.dumps(row))
    base = rows[0]["cases_per_min"]
    for row in rows:
        row["speedup_vs_first"] = round(row["cases_per_min"] / base, 2)
        row["efficiency"] = round(
            row["speedup_vs_first"] * rows[0]["concurrency"] / row["concurrency"], 2
        )
    return {
        "what": "run_system (the drafting stage of reportdraft eval) without cache, pieces "
        "of each draft at the backend's default concurrency (8)",
        "baseline": f"concurrency {rows[0]['concurrency']} in the same run",
        "levels": rows,
    }


def start_openai_server(
    module: str, options: list[str], log_path: Path, *, wait_s: float, poll_s: float = 0.5
) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m module`` (an OpenAI-compatible server taking ``--host``/``--port``) with
    ``options`` on a free loopback port; returns the process and base URL once
    ``/v1/models`` answers (llama.cpp's here, vLLM's in ``gpu_vllm_concurrency.py``)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", module, *options, "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{module} exited ({proc.returncode}): {log_path.read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(poll_s)
    proc.kill()
    raise RuntimeError(
        f"{module} did not serve within {wait_s:.0f} s: {log_path.read_text()[-3000:]}"
    )


def start_llama_server(log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m llama_cpp.server`` with the embedded model on a free loopback port."""
    options = ["--model", str(embedded_model_path()), "--n_ctx", "2048"]
    return start_openai_server("llama_cpp.server", options, log_path, wait_s=180)


def latency_part(args: argparse.Namespace, examples: list[Path]) -> dict[str, Any]:
    """Both measurements against the latency-bound test server, with the CPU ceiling."""
    levels = [int(x) for x in args.levels.split(",")]
    before = machine()
    distribution = {
        "kind": "log-normal, clipped",
        "median_s": args.median_s,
        "sigma": args.sigma,
        "min_s": args.min_s,
        "max_s": args.max_s,
        "seeded_by": "the request body (same request, same delay in every run)",
        "stands_in_for": STANDS_IN_FOR,
    }
    delay = [
        f"--median-s={args.median_s}",
        f"--sigma={args.sigma}",
        f"--min-s={args.min_s}",
        f"--max-s={args.max_s}",
    ]
    instant = ("--median-s=0.002", "--min-s=0.001", "--max-s=0.005")
    with ServerProcess(*delay) as server, ServerProcess(*instant) as quick:
        warm = client(server.url, dialect="vllm", model="m", timeout_s=60)
        drafting.draft_case(load_case(examples[0]), warm)  # load spaCy, templates, prompts
        warm.close()
        latency = draft_latency(
            server.url,
            dialect="vllm",
            model="m",
            examples=examples,
            concurrency=args.concurrency,
        )
        throughput = eval_throughput(
            server.url,
            dialect="vllm",
            model="m",
            levels=levels,
            cases_for=lambda c: max(12, 3 * c),
            server_stats=server.stats,
        )
        throughput["server_max_in_flight"] = server.stats()["max_in_flight"]
        ceiling = eval_throughput(
            quick.url,
            dialect="vllm",
            model="m",
            levels=levels,
            cases_for=lambda c: max(24, 3 * c),
        )
    best = max(r["cases_per_min"] for r in ceiling["levels"])
    throughput["cpu_ceiling"] = {
        "what": "the same eval against the test server with a 1-5 ms delay, at the same "
        "levels: the client's own work (drafting, per-piece verification, critical "
        "findings; Python under one GIL, on a shared machine) bounds the throughput to "
        "about the best of these, whatever the server",
        "levels": ceiling["levels"],
        "best_cases_per_min": best,
    }
    first = throughput["levels"][0]
    for row in throughput["levels"]:
        linear = first["cases_per_min"] * row["concurrency"] / first["concurrency"]
        row["fraction_of_linear"] = round(row["cases_per_min"] / linear, 2)
        row["fraction_of_min_linear_and_cpu_ceiling"] = round(
            row["cases_per_min"] / min(linear, best), 2
        )
    return {
        "machine_before": before,
        "delay": distribution,
        "one_draft": latency,
        "eval_throughput": throughput,
        "machine_after": machine(),
    }


def llama_part(args: argparse.Namespace, examples: list[Path]) -> dict[str, Any]:
    """One draft (and optionally eval) against llama.cpp's server with the embedded model."""
    before = machine()
    log_path = args.out.with_suffix(".llama_server.log")
    proc, url = start_llama_server(log_path)
    try:
        llama: dict[str, Any] = {
            "machine_before": before,
            "server": "python -m llama_cpp.server, SmolLM2-135M-Instruct Q4_1 (embedded), "
            "n_ctx 2048; it generates one request at a time on all cores",
            "one_draft": draft_latency(
                url,
                dialect="llamacpp",
                model=None,
                examples=examples[: args.llama_cases],
                concurrency=args.concurrency,
            ),
        }
        if args.llama_eval_cases:
            llama["eval_throughput"] = eval_throughput(
                url,
                dialect="llamacpp",
                model=None,
                levels=[1, 4],
                cases_for=lambda c: args.llama_eval_cases,
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log_path.unlink(missing_ok=True)
    llama["machine_after"] = machine()
    return llama


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="1,4,16,64", help="eval case concurrencies")
    parser.add_argument("--concurrency", type=int, default=8, help="piece concurrency")
    parser.add_argument("--median-s", type=float, default=DISTRIBUTION["median_s"])
    parser.add_argument("--sigma", type=float, default=DISTRIBUTION["sigma"])
    parser.add_argument("--min-s", type=float, default=DISTRIBUTION["min_s"])
    parser.add_argument("--max-s", type=float, default=DISTRIBUTION["max_s"])
    parser.add_argument(
        "--part",
        choices=["both", "latency", "llama"],
        default="both",
        help="measure one server only; the other's section is kept from an existing --out",
    )
    parser.add_argument("--llama-cases", type=int, default=3)
    parser.add_argument("--llama-eval-cases", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    examples = sorted(data_dir("examples").glob("*.json"))
    record: dict[str, Any] = {}
    if args.part != "both" and args.out.exists():
        record = json.loads(args.out.read_text(encoding="utf-8"))
    record["note"] = (
        "The machine is shared with other work (see each section's load averages): "
        "absolute times are noisy; ratios are against a baseline measured in the same run."
    )
    if args.part in ("both", "latency"):
        record["latency_bound_server"] = latency_part(args, examples)
    if args.part in ("both", "llama"):
        record["llama_cpp_server"] = llama_part(args, examples)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2)[:6000])


if __name__ == "__main__":
    main()
