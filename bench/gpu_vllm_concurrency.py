"""Concurrent drafting against a real vLLM server on a GPU: one draft, eval throughput.

The measurements of ``bench/concurrent_drafting.py`` (whose latency-bound test server
stands in for this one) against vLLM's OpenAI-compatible server with a real model:

* *one draft*: every bundled example drafted with its pieces one at a time (the baseline)
  and ``--concurrency`` at a time (default 8), the slowest single piece timed in the
  sequential run; target: the concurrent draft within 1.5x the slowest piece. Whether the
  two drafts are identical is recorded too: vLLM does not promise that a sequence decodes
  to the same tokens in a different batch, so with a real model this is a measurement,
  not an assumption.
* *eval throughput*: ``run_system`` (the drafting stage of ``reportdraft eval``, no cache)
  at case concurrency ``--levels`` (default 1, 4, 16, 64), cases/minute, speed-up over
  the first level and efficiency; target >= 0.8 of linear up to 16.

Either point it at running servers (``--base-url``, repeat it for replicas: the client
spreads requests over them) or give ``--model`` and it starts ``vllm serve`` itself on a
free loopback port (``python -m vllm.entrypoints.openai.api_server``; extra arguments with
``--vllm-arg``, repeatable) and stops it at the end. The schema constraint is sent in the
``vllm`` dialect. Records the GPU (``nvidia-smi``), the vLLM version and the client
machine's load.

    python bench/gpu_vllm_concurrency.py --model /models/Qwen2.5-7B-Instruct
    python bench/gpu_vllm_concurrency.py --base-url http://127.0.0.1:8000

Writes ``$OUT/gpu_vllm_concurrency.json`` when ``$OUT`` is set, else
``bench/results/gpu_vllm_concurrency.json``. Tested on CPU against the latency-bound test
server (``tests/backends/test_gpu_vllm_bench.py``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from concurrent_drafting import draft_latency, eval_throughput, machine, start_openai_server

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.io import load_case
from reportdraft.resources import data_dir

ROOT = Path(__file__).resolve().parent.parent


def gpu_info() -> list[str]:
    """``nvidia-smi`` name, memory and driver per GPU (empty without one)."""
    if shutil.which("nvidia-smi") is None:
        return []
    query = "--query-gpu=name,memory.total,driver_version"
    done = subprocess.run(
        ["nvidia-smi", query, "--format=csv,noheader"], capture_output=True, text=True, check=False
    )
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def vllm_version() -> str | None:
    try:
        return importlib.metadata.version("vllm")
    except importlib.metadata.PackageNotFoundError:
        return None


def start_vllm(model: str, extra: list[str], log_path: Path, wait_s: float) -> tuple[Any, str]:
    """Start vLLM's OpenAI-compatible server on a free loopback port; wait until it serves."""
    module = "vllm.entrypoints.openai.api_server"
    options = ["--model", model, *extra]
    return start_openai_server(module, options, log_path, wait_s=wait_s, poll_s=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", action="append", default=[], help="a running server")
    parser.add_argument("--model", default=None, help="start vLLM with this model")
    parser.add_argument("--served-model", default=None, help="model name to request")
    parser.add_argument("--vllm-arg", action="append", default=[], help="extra vLLM argument")
    parser.add_argument("--startup-s", type=float, default=900)
    parser.add_argument("--levels", default="1,4,16,64")
    parser.add_argument("--concurrency", type=int, default=8, help="piece concurrency")
    parser.add_argument("--examples", type=int, default=None, help="first N examples only")
    parser.add_argument("--cases", type=int, default=None, help="eval cases at every level")
    args = parser.parse_args()
    if not args.base_url and not args.model:
        parser.error("give --base-url (a running server) or --model (start vLLM)")

    env_out = os.environ.get("OUT")
    out = (
        Path(env_out) / "gpu_vllm_concurrency.json"
        if env_out
        else ROOT / "bench" / "results" / "gpu_vllm_concurrency.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = None
    log_path = out.with_suffix(".vllm.log")
    if args.base_url:
        base_url = ",".join(args.base_url)
    else:
        proc, base_url = start_vllm(args.model, args.vllm_arg, log_path, args.startup_s)
    try:
        examples = sorted(data_dir("examples").glob("*.json"))[: args.examples]
        levels = [int(x) for x in args.levels.split(",")]
        model = args.served_model
        warm = create_backend("vllm", BackendOptions(base_url=base_url, model=model))
        drafting.draft_case(load_case(examples[0]), warm)  # warm both sides up
        warm.close()
        record: dict[str, Any] = {
            "machine_before": machine(),
            "gpus": gpu_info(),
            "vllm": vllm_version(),
            "server": base_url if args.base_url else f"vllm serve {args.model} (started here)",
            "one_draft": draft_latency(
                base_url,
                dialect="vllm",
                model=model,
                examples=examples,
                concurrency=args.concurrency,
            ),
            "eval_throughput": eval_throughput(
                base_url,
                dialect="vllm",
                model=model,
                levels=levels,
                cases_for=lambda c: args.cases or max(16, 4 * c),
            ),
        }
        record["machine_after"] = machine()
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record["eval_throughput"]["levels"], indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
