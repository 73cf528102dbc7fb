"""``bench/gpu_vllm_concurrency.py`` run end to end against the latency-bound test server
(standing in for vLLM): it drafts, measures both things and writes a sane result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.backends.test_replicas import FAST

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_gpu_vllm_script_against_two_test_server_replicas(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        from latency_server import ServerProcess
    finally:
        sys.path.remove(str(BENCH))
    with ServerProcess(*FAST) as one, ServerProcess(*FAST) as two:
        done = subprocess.run(
            [
                sys.executable,
                str(BENCH / "gpu_vllm_concurrency.py"),
                "--base-url",
                one.url,
                "--base-url",
                two.url,
                "--served-model",
                "m",
                "--levels",
                "1,3",
                "--examples",
                "2",
                "--cases",
                "6",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "OUT": str(tmp_path)},
            check=False,
        )
        served = one.stats()["served"] + two.stats()["served"]
        both = min(one.stats()["served"], two.stats()["served"])
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((tmp_path / "gpu_vllm_concurrency.json").read_text())
    draft = record["one_draft"]
    assert [row["case"] for row in draft["cases"]] == ["ct_abd_free_air", "ct_chest_nodule"]
    assert draft["identical_drafts"] == "2/2"
    assert all(row["model_statements"] > 0 for row in draft["cases"])
    assert all(row["slowest_piece_s"] > 0 for row in draft["cases"])
    levels = record["eval_throughput"]["levels"]
    assert [(row["concurrency"], row["cases"], row["failed"]) for row in levels] == [
        (1, 6, 0),
        (3, 6, 0),
    ]
    assert record["gpus"] == [] or all(isinstance(g, str) for g in record["gpus"])
    assert served > 2 * 20  # the drafts really went to the servers
    assert both > 0  # and to both replicas
