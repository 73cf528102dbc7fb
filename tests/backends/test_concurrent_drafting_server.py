"""Concurrency changes no draft: every example drafted at concurrency 1 and 8 gives the same
draft, through the OpenAI-compatible client and a real server process.

The server is the latency-bound test server (``bench/latency_server.py``, answers that
restate each piece's sources, delays seeded by the request so a piece waits as long in both
runs but the pieces finish in a different order); the same check against llama.cpp's server
with the embedded model (greedy decoding) is the ``slow`` test below.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reportdraft import drafting
from reportdraft.backends import Backend, BackendOptions, create_backend
from reportdraft.io import load_case
from reportdraft.models import Draft
from reportdraft.resources import data_dir

EXAMPLES = sorted(data_dir("examples").glob("*.json"))
SERVER_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "latency_server.py"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _load_server_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("latency_server", SERVER_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["latency_server"] = module
    spec.loader.exec_module(module)
    return module


def _comparable(draft: Draft) -> dict[str, Any]:
    data = draft.model_dump(mode="json")
    data["provenance"]["usage"].pop("seconds")
    return data


def _drafts(
    backend: Backend, concurrency: int, paths: list[Path] = EXAMPLES
) -> dict[str, dict[str, Any]]:
    return {
        path.stem: _comparable(
            drafting.draft_case(load_case(path), backend, now=NOW, concurrency=concurrency).draft
        )
        for path in paths
    }


def test_examples_draft_the_same_at_concurrency_1_and_8_test_server() -> None:
    server_module = _load_server_module()
    with (
        server_module.ServerProcess(
            "--median-s", "0.05", "--min-s", "0.01", "--max-s", "0.3", "--sigma", "0.8"
        ) as server,
        create_backend("vllm", BackendOptions(base_url=server.url, model="m")) as backend,
    ):
        sequential = _drafts(backend, 1)
        assert server.stats()["max_in_flight"] == 1
        concurrent = _drafts(backend, 8)
        assert server.stats()["max_in_flight"] > 1
    assert concurrent == sequential
    # the answers were used (not a fallback-only comparison)
    model = sum(
        st["generator"] == "model"
        for draft in sequential.values()
        for section in draft["sections"]
        for st in section["statements"]
    )
    assert model > 50


LLAMA_EXAMPLES = [p for p in EXAMPLES if p.stem in {"xr_chest_normal", "us_abd_cholecystitis"}]
"""Two short multi-piece examples: all eleven, drafted twice by the CPU model, took over ten
minutes of CI; ``bench/concurrent_drafting.py --llama-cases 11`` compares all of them."""


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_examples_draft_the_same_at_concurrency_1_and_8_llama_server(llama_server: str) -> None:
    assert len(LLAMA_EXAMPLES) == 2
    options = BackendOptions(base_url=llama_server, dialect="llamacpp", timeout_s=300)
    with create_backend("vllm", options) as backend:
        assert _drafts(backend, 8, LLAMA_EXAMPLES) == _drafts(backend, 1, LLAMA_EXAMPLES)
