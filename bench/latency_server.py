"""A latency-bound OpenAI-compatible test server: a stand-in for a GPU model server.

It answers ``POST /v1/chat/completions`` after a delay drawn from a stated distribution and
does no other work, so a client's throughput against it is bounded by latency and by the
client's own concurrency -- the regime of a vLLM server on a GPU, where one request takes
about a second of generation and many run at once in one batch. It is *not* a model: the
answer is built from the request, deterministically.

**Delay.** Log-normal with median ``--median-s`` (default 1.0 s) and shape ``--sigma``
(default 0.3), clipped to ``[--min-s, --max-s]`` (default 0.4 to 3.0 s): roughly the time a
8B model on one GPU takes to generate a drafting answer of ~50-150 tokens at 60-100
tokens/s per sequence. The draw is seeded with ``--seed`` and the request body, so the same
request waits the same time in every run and at every concurrency (a sequential and a
concurrent run face the same delays). Requests are served on their own threads and wait
independently: the server has no capacity limit, as if the GPU batch never filled.

**Answer.** For a drafting request (a JSON schema whose source ids are an enum, and a user
prompt with a ``SOURCES:`` block of ``<source id="…">text</source>`` lines, as the bundled
``prompts/rewrite.j2`` writes it) the answer restates each allowed source as one sentence
citing it -- the source's own words, so the drafting pipeline's checks (every source cited,
no new words, the verifier) run on a plausible answer and mostly accept it. Sources beyond
the schema's ``maxItems`` are joined into the last sentence. Both dialects' spellings of
the schema are read. A request without a schema is answered with ``ok``.

**Endpoints.** ``GET /v1/models`` lists ``--model``; ``GET /stats`` gives the requests
served, the requests in flight now and the most ever in flight (what a benchmark checks to
know its concurrency reached the server). ``--fail-status N`` answers every chat request
with HTTP N instead (a broken replica for failure tests).

It listens on loopback only and prints ``listening on http://127.0.0.1:PORT`` once ready
(``--port 0``: a free port)::

    python bench/latency_server.py --port 0 [--median-s 1.0] [--sigma 0.3]

Benchmarks and tests start it as a separate process with :class:`ServerProcess` (a real
socket, and none of the client's threads or GIL shared with it).
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import ipaddress
import json
import math
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reportdraft.backends.fake import schema_choices
from reportdraft.drafting.model_rewrite import MAX_SENTENCE_CHARS

SOURCE = re.compile(r'<source id="([^"]+)">(.*?)</source>', re.DOTALL)


def schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of a request in either dialect's spelling, or None."""
    fmt = body.get("response_format")
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_schema" and isinstance(fmt.get("json_schema"), dict):
        schema = fmt["json_schema"].get("schema")
    else:
        schema = fmt.get("schema")
    return schema if isinstance(schema, dict) else None


def max_items(schema: dict[str, Any]) -> int:
    """``maxItems`` of the answer's ``sentences`` array (8 when absent)."""
    sentences = schema.get("properties", {}).get("sentences", {})
    value = sentences.get("maxItems") if isinstance(sentences, dict) else None
    return value if isinstance(value, int) and value >= 1 else 8


def prompt_sources(body: dict[str, Any]) -> dict[str, str]:
    """Source id → text from the last user message's ``SOURCES:`` block (not the examples)."""
    users = [m for m in body.get("messages", []) if isinstance(m, dict) and m.get("role") == "user"]
    text = str(users[-1].get("content", "")) if users else ""
    block = text.rsplit("SOURCES:", 1)[-1] if "SOURCES:" in text else ""
    return {sid: src.strip() for sid, src in SOURCE.findall(block)}


def sentence(text: str) -> str:
    """``text`` as one sentence of at most MAX_SENTENCE_CHARS: capitalised, full stop."""
    text = " ".join(text.split()).rstrip(" .;,")
    if len(text) > MAX_SENTENCE_CHARS - 1:
        text = text[: MAX_SENTENCE_CHARS - 1].rsplit(" ", 1)[0]
    return (text[:1].upper() + text[1:] + ".") if text else "See sources."


def answer(body: dict[str, Any]) -> str:
    """The deterministic answer to one chat request (see the module docstring)."""
    schema = schema_of(body)
    if schema is None:
        return "ok"
    ids = list(schema_choices(schema))
    texts = prompt_sources(body)
    limit = max_items(schema)
    groups: list[list[str]] = [[i] for i in ids[: limit - 1]]
    rest = ids[limit - 1 :]
    if rest:
        groups.append(rest)
    sentences = [
        {
            "text": sentence("; ".join(texts.get(i, i) for i in group)),
            "sources": group,
        }
        for group in groups
    ]
    return json.dumps({"sentences": sentences})


def delay_for(
    raw: bytes, *, seed: int, median: float, sigma: float, low: float, high: float
) -> float:
    """The request's delay: log-normal(median, sigma) clipped, seeded by ``seed`` and body."""
    digest = hashlib.sha256(seed.to_bytes(8, "big") + raw).digest()
    draw = random.Random(int.from_bytes(digest[:8], "big")).lognormvariate(math.log(median), sigma)
    return min(max(draw, low), high)


class Stats:
    """Requests served and in flight, under a lock (``GET /stats``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.served = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1
            self.served += 1

    def as_dict(self) -> dict[str, int]:
        with self.lock:
            return {
                "served": self.served,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
            }


def make_server(args: argparse.Namespace) -> ThreadingHTTPServer:
    """The HTTP server for ``args`` (not started)."""
    stats = Stats()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as vLLM's server

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": args.model, "object": "model"}]})
            elif self.path.rstrip("/") == "/stats":
                self._send(200, stats.as_dict())
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            stats.enter()
            try:
                if args.fail_status:
                    self._send(args.fail_status, {"error": {"message": "failing on purpose"}})
                    return
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "body is not JSON"}})
                    return
                wait = delay_for(
                    raw,
                    seed=args.seed,
                    median=args.median_s,
                    sigma=args.sigma,
                    low=args.min_s,
                    high=args.max_s,
                )
                time.sleep(wait)
                text = answer(body)
                prompt_words = sum(
                    len(str(m.get("content", "")).split()) for m in body.get("messages", [])
                )
                self._send(
                    200,
                    {
                        "id": "cmpl-latency",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model") or args.model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt_words,
                            "completion_tokens": len(text.split()),
                            "total_tokens": prompt_words + len(text.split()),
                        },
                        "latency_s": wait,
                    },
                )
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up
            finally:
                stats.leave()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # a benchmark opens hundreds of connections at once

    return Server((args.host, args.port), Handler)


class ServerProcess:
    """This server run as a child process on a free loopback port (``url``)."""

    def __init__(self, *options: str, startup_s: float = 30.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--port", "0", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )
        timer = threading.Timer(startup_s, self.proc.kill)
        timer.start()
        try:
            line = self.proc.stdout.readline() if self.proc.stdout else ""
        finally:
            timer.cancel()
        if not line.startswith("listening on "):
            self.kill()
            errors = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"latency server did not start: {line!r} {errors[-2000:]}")
        self.url = line.split()[-1]

    def stats(self) -> dict[str, int]:
        """``GET /stats``: requests served, in flight now, most in flight at once."""
        with urllib.request.urlopen(f"{self.url}/stats", timeout=5) as response:
            stats: dict[str, int] = json.load(response)
            return stats

    def kill(self) -> None:
        """Stop the process at once (a replica that dies)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=15)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()


def _die_with_parent() -> None:
    """In the child: have Linux stop the server when its parent dies (no orphans)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--median-s", type=float, default=1.0)
    parser.add_argument("--sigma", type=float, default=0.3)
    parser.add_argument("--min-s", type=float, default=0.4)
    parser.add_argument("--max-s", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="latency-test-server")
    parser.add_argument("--fail-status", type=int, default=0)
    args = parser.parse_args(argv)
    if not ipaddress.ip_address(args.host).is_loopback:
        parser.error("the test server listens on loopback only")
    if not 0 < args.min_s <= args.median_s <= args.max_s:
        parser.error("need 0 < min-s <= median-s <= max-s")
    server = make_server(args)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
