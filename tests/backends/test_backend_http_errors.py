"""The OpenAI-compatible client against a real scripted HTTP server on loopback.

The server is ``http.server`` in a thread answering from a script (status, body, delay),
and recording what it received -- a real socket and real HTTP, so retries, timeouts and
garbage handling are exercised end to end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reportdraft.backends import BackendOptions, ChatMessage, GenerationRequest, create_backend
from reportdraft.backends.openai_compat import OpenAICompatBackend, backoff_delay
from reportdraft.errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
)

OK_BODY: dict[str, Any] = {
    "id": "x",
    "object": "chat.completion",
    "model": "served",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "{}"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13},
}

SCHEMA: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "integer"}}}


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes | dict[str, Any] = field(default_factory=lambda: dict(OK_BODY))
    delay_s: float = 0.0
    content_type: str = "application/json"


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class ScriptedServer:
    """A loopback HTTP server answering from ``replies`` in order (the last one repeats)."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                with server._lock:
                    server.seen.append(
                        Seen(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            json.loads(raw) if raw else None,
                        )
                    )
                    reply = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                time.sleep(reply.delay_s)
                payload = (
                    reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                )
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def posts(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST"]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ScriptedServer] = []

    def start(*replies: Reply) -> ScriptedServer:
        server = ScriptedServer(list(replies))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The policy is tested through backoff_delay(); real sleeps stay but are short.
    monkeypatch.setattr(OpenAICompatBackend, "backoff_base_s", 0.05)


def _client(url: str, **kw: Any) -> OpenAICompatBackend:
    options: dict[str, Any] = {"base_url": url, "model": "m", "timeout_s": 5.0, "retries": 2} | kw
    made = create_backend("vllm", BackendOptions(**options))
    assert isinstance(made, OpenAICompatBackend)
    return made


def _request(schema: dict[str, Any] | None = None) -> GenerationRequest:
    return GenerationRequest(
        messages=[ChatMessage(role="user", content="hi")], json_schema=schema, max_tokens=16
    )


def test_retries_5xx_with_backoff_then_succeeds(serve: Any) -> None:
    server = serve(Reply(503), Reply(502), Reply())
    with _client(server.url) as client:
        out = client.generate(_request())
    assert len(server.posts()) == 3
    assert (out.text, out.prompt_tokens, out.completion_tokens) == ("{}", 11, 2)
    assert out.finish_reason == "stop"
    assert out.model == "m"


def test_persistent_500_is_a_backend_error_after_the_retries(serve: Any) -> None:
    server = serve(Reply(500, {"error": {"message": "boom inside"}}))
    with _client(server.url, retries=1) as client, pytest.raises(BackendError) as info:
        client.generate(_request())
    assert type(info.value) is BackendError
    assert "HTTP 500" in str(info.value)
    assert "boom inside" in str(info.value)
    assert len(server.posts()) == 2


def test_persistent_503_is_unavailable(serve: Any) -> None:
    server = serve(Reply(503, b"overloaded", content_type="text/plain"))
    with _client(server.url, retries=1) as client, pytest.raises(BackendUnavailableError):
        client.generate(_request())
    assert len(server.posts()) == 2


def test_4xx_is_not_retried(serve: Any) -> None:
    server = serve(Reply(400, {"error": {"message": "max_tokens too large"}}), Reply())
    with _client(server.url) as client, pytest.raises(BackendError, match="max_tokens too large"):
        client.generate(_request())
    assert len(server.posts()) == 1


def test_401_points_at_the_api_key(serve: Any) -> None:
    server = serve(Reply(401, {"error": "unauthorized"}))
    with _client(server.url) as client, pytest.raises(BackendError, match="API_KEY"):
        client.generate(_request())


def test_closed_port_is_unavailable_with_the_url() -> None:
    probe = ScriptedServer([Reply()])
    url = probe.url
    probe.stop()  # nothing listens there any more
    with _client(url, retries=1) as client, pytest.raises(BackendUnavailableError) as info:
        client.generate(_request())
    assert f"{url}/v1/chat/completions" in str(info.value)
    assert "2 attempt" in str(info.value)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(200, b"<html>proxy error</html>", content_type="text/html"), "non-JSON"),
        (Reply(200, {"choices": []}), "no choices"),
        (Reply(200, {"object": "list"}), "no choices"),
        (Reply(200, b"[1, 2]"), "not a JSON object"),
        (Reply(200, {"choices": [{"message": {"content": None}}]}), "no message content"),
    ],
)
def test_garbage_is_a_backend_error(serve: Any, reply: Reply, message: str) -> None:
    server = serve(reply)
    with _client(server.url) as client, pytest.raises(BackendError, match=message) as info:
        client.generate(_request())
    assert type(info.value) is BackendError
    assert len(server.posts()) == 1


def test_slow_server_times_out_without_retrying(serve: Any) -> None:
    server = serve(Reply(delay_s=3.0))
    with _client(server.url, timeout_s=0.5) as client, pytest.raises(BackendTimeoutError):
        client.generate(_request())
    assert len(server.posts()) == 1


def test_missing_usage_counts_as_zero(serve: Any) -> None:
    body = {k: v for k, v in OK_BODY.items() if k != "usage"}
    server = serve(Reply(200, body))
    with _client(server.url) as client:
        out = client.generate(_request())
    assert (out.prompt_tokens, out.completion_tokens) == (0, 0)


def test_api_key_is_sent_as_bearer(serve: Any) -> None:
    server = serve(Reply())
    with _client(server.url, api_key="sk-local-123") as client:
        client.generate(_request())
    with _client(server.url) as client:
        client.generate(_request())
    first, second = server.posts()
    assert first.headers["authorization"] == "Bearer sk-local-123"
    assert "authorization" not in second.headers


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            None,
            {
                "type": "json_schema",
                "json_schema": {"name": "draft", "schema": SCHEMA, "strict": True},
            },
        ),
        (
            "vllm",
            {
                "type": "json_schema",
                "json_schema": {"name": "draft", "schema": SCHEMA, "strict": True},
            },
        ),
        ("llamacpp", {"type": "json_object", "schema": SCHEMA}),
    ],
)
def test_dialect_decides_what_goes_on_the_wire(
    serve: Any, dialect: str | None, expected: dict[str, Any]
) -> None:
    server = serve(Reply())
    with _client(server.url + "/v1/", dialect=dialect) as client:
        client.generate(_request(SCHEMA))
        client.generate(_request())
    constrained, free = server.posts()
    assert constrained.path == "/v1/chat/completions"
    assert constrained.body["response_format"] == expected
    assert "response_format" not in free.body
    assert constrained.body["max_tokens"] == 16
    assert constrained.body["temperature"] == 0.0
    assert constrained.body["seed"] == 0
    assert constrained.body["messages"] == [{"role": "user", "content": "hi"}]


def test_model_is_discovered_from_v1_models(serve: Any) -> None:
    server = serve(Reply(200, {"object": "list", "data": [{"id": "Qwen/Qwen2.5-7B"}]}), Reply())
    with _client(server.url, model=None) as client:
        out = client.generate(_request())
        client.generate(_request())
    assert client.model_id == out.model == "Qwen/Qwen2.5-7B"
    paths = [s.path for s in server.seen]
    assert paths == ["/v1/models", "/v1/chat/completions", "/v1/chat/completions"]
    assert server.posts()[0].body["model"] == "Qwen/Qwen2.5-7B"


def test_a_server_listing_no_model_needs_model(serve: Any) -> None:
    server = serve(Reply(200, {"object": "list", "data": []}))
    with _client(server.url, model=None) as client, pytest.raises(BackendError, match="--model"):
        client.generate(_request())


def test_backoff_doubles_and_is_capped() -> None:
    delays = [backoff_delay(a, base=0.5, cap=8.0, retry_after=None) for a in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff_delay(0, base=0.5, cap=8.0, retry_after="3") == 3.0
    assert backoff_delay(0, base=0.5, cap=8.0, retry_after="120") == 8.0
    assert backoff_delay(2, base=0.5, cap=8.0, retry_after="garbage") == 2.0
