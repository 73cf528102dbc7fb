"""Running the app under a real uvicorn server on a free loopback port (in a thread)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on loopback for the block; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


LAUNCH = "import sys; from reportdraft.cli.serve import serve; sys.exit(serve())"
"""``python -c LAUNCH ...`` runs ``reportdraft serve`` with the given arguments."""


@contextmanager
def serve_process(
    url: str, log: Path, *options: str, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """``reportdraft serve`` on ``url``'s database in a process of its own (rules backend,
    ``env`` added to the environment), with ``options``; yields the base URL and the
    process id once ``/health`` answers, and stops it after the block."""
    port = free_port()
    cmd = [sys.executable, "-c", LAUNCH, "--port", str(port), "--database-url", url, *options]
    env = {**os.environ, "REPORTDRAFT_BACKEND": "rules", **(env or {})}
    env.pop("REPORTDRAFT_SIGNING_KEY", None)  # the service ignores it, with a warning
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc): a ``serve --workers N``'s workers."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out
