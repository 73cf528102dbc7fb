"""``vllm`` / ``openai``: a client for OpenAI-compatible chat servers (vLLM, llama.cpp, ...).

The production GPU path: vLLM serves the model, this client sends
``POST {base_url}/v1/chat/completions``. The same client talks to llama.cpp's server
(``python -m llama_cpp.server``, how it is tested here), SGLang or TGI.

**Dialects.** Servers spell the JSON-schema constraint differently, and a server given the
other's spelling does not apply the schema: vLLM ignores it, llama.cpp's server rejects it
(docs/ARCHITECTURE.md#model-runtimes). Ignored, constrained decoding would become free text
without an error. So the spelling is an explicit setting, never guessed:

* ``vllm`` (default): ``response_format={"type": "json_schema", "json_schema": {"name":
  "draft", "schema": ..., "strict": true}}`` -- the OpenAI form, which vLLM enforces.
  llama.cpp's server answers this spelling with HTTP 500 (a validation error).
* ``llamacpp``: ``response_format={"type": "json_object", "schema": ...}``.

**Failures** map onto the exception tree: connection errors and 5xx are retried with
exponential backoff (``retries`` extra attempts), 4xx are not (the request is wrong and
will stay wrong); unreachable after the retries → ``BackendUnavailableError`` naming the
URL; a read timeout → ``BackendTimeoutError`` (not retried: a generation that ran out of
time once will do so again, and retrying multiplies the wait); a body that is not an
OpenAI chat completion → ``BackendError``.

**Replicas.** ``base_url`` may list several servers of one model, comma-separated; each
request goes to the one with the fewest requests in flight, and a replica that refuses the
connection or answers 5xx is taken out for a while (:mod:`.replicas`). The number of
attempts and the backoff are the same as with one server; a retry goes to another replica
when one is in, at once, since the backoff is there to give *the failing* server time.

**Concurrency.** One client is shared by every thread that drafts (the pieces of a draft,
the cases of an evaluation, the API's workers): httpx's client is thread-safe, and a
semaphore bounds the requests open at once (``max_in_flight``) so that a caller with more
threads than that waits for a slot instead of timing out in httpx's connection pool.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from reportdraft.backends.interface import Backend, BackendOptions, Generation, GenerationRequest
from reportdraft.backends.registry import register
from reportdraft.backends.replicas import Replica, ReplicaPool, ReplicaState
from reportdraft.errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigurationError,
)

SCHEMA_NAME = "draft"
"""The ``json_schema.name`` sent in the vLLM dialect (OpenAI requires a name)."""

_BODY_SNIPPET = 300

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"

DEFAULT_CONCURRENCY = 8
"""Pieces of one draft (or evaluation cases) sent at once to a server by default: enough to
overlap the pieces of any bundled template's draft, few enough not to crowd out other
clients of a shared server."""


def api_root(base_url: str) -> str:
    """Normalise ``base_url`` to the server root, accepting it with or without ``/v1``."""
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base URL must start with http:// or https://: {base_url!r}")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url


def api_roots(base_url: str) -> list[str]:
    """The server roots of ``base_url``: one URL, or several replicas separated by commas."""
    roots = [api_root(part) for part in base_url.split(",") if part.strip()]
    if not roots:
        raise ConfigurationError(f"no server URL in {base_url!r}")
    return roots


def backoff_delay(attempt: int, *, base: float, cap: float, retry_after: str | None) -> float:
    """Seconds to wait before retry ``attempt + 1``: ``base * 2**attempt``, at most ``cap``.

    A server's ``Retry-After`` (whole seconds) lengthens the wait, never beyond ``cap``: an
    overloaded vLLM asking for 60 s should not stall a STAT draft that long.
    """
    delay: float = min(base * 2.0**attempt, cap)
    if retry_after is not None and retry_after.strip().isdigit():
        delay = min(max(delay, float(retry_after)), cap)
    return delay


def response_format(dialect: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The ``response_format`` field that makes a server of ``dialect`` enforce ``schema``."""
    if dialect == "vllm":
        return {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "schema": schema, "strict": True},
        }
    if dialect == "llamacpp":
        return {"type": "json_object", "schema": schema}
    raise ConfigurationError(f"unknown dialect {dialect!r}; use 'vllm' or 'llamacpp'")


@register("vllm")
@register("openai")
class OpenAICompatBackend(Backend):
    """HTTP client for an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    ``model`` may be None: the first model the server lists at ``/v1/models`` is used
    (a vLLM or llama.cpp server usually serves exactly one).
    """

    name = "vllm"
    default_concurrency = DEFAULT_CONCURRENCY
    backoff_base_s = 0.5
    """First retry waits this long, then twice as long each time (capped at 8 s)."""
    backoff_cap_s = 8.0

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        if not options.base_url:
            raise ConfigurationError("the vllm backend needs a base URL (--base-url)")
        if options.timeout_s <= 0 or options.retries < 0:
            raise ConfigurationError("timeout_s must be > 0 and retries >= 0")
        if options.max_in_flight < 1:
            raise ConfigurationError("max_in_flight must be >= 1")
        self.dialect: str = options.dialect or "vllm"
        response_format(self.dialect, {})  # validate the dialect now, not on the first call
        self.pool = ReplicaPool(api_roots(options.base_url), takeout_s=options.replica_takeout_s)
        self.root = self.pool.roots[0]
        headers = {"Accept": "application/json"}
        if options.api_key:
            headers["Authorization"] = f"Bearer {options.api_key}"
        slots = options.max_in_flight
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(options.timeout_s, connect=min(options.timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=slots, max_keepalive_connections=slots),
        )
        self._slots = threading.BoundedSemaphore(slots)
        self._model_lock = threading.Lock()
        self._model: str | None = options.model
        self.model_id = options.model or "(server default)"

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def replicas(self) -> list[ReplicaState]:
        """Each replica's state now (requests sent, in flight, failures, time left out)."""
        return self.pool.snapshot()

    def request_body(self, request: GenerationRequest, model: str) -> dict[str, Any]:
        """The JSON body sent for ``request`` (public so tests and logs can show it)."""
        body: dict[str, Any] = {"model": model, **request.chat_params()}
        if request.json_schema is not None:
            body["response_format"] = response_format(self.dialect, request.json_schema)
        return body

    def generate(self, request: GenerationRequest) -> Generation:
        """Send one chat completion; see the module docstring for errors and retries."""
        start = time.perf_counter()
        model = self._served_model()
        response = self._send("POST", CHAT_PATH, json=self.request_body(request, model))
        seconds = time.perf_counter() - start
        return _parse_completion(response, model=model, seconds=seconds)

    def _served_model(self) -> str:
        with self._model_lock:
            if self._model is None:
                listing = self._send("GET", MODELS_PATH)
                try:
                    self._model = str(listing["data"][0]["id"])
                except (KeyError, IndexError, TypeError) as exc:
                    raise BackendError(f"{MODELS_PATH} lists no model; pass --model") from exc
                self.model_id = self._model
            return self._model

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request with retries over the replicas; returns the decoded JSON body."""
        attempts = self.options.retries + 1
        failed_on: list[str] = []
        for attempt in range(attempts):
            last = attempt == attempts - 1
            with self._slots:
                replica = self.pool.acquire(avoid=failed_on)
                url = f"{replica.root}{path}"
                healthy: bool | None = None
                response: httpx.Response | None = None
                try:
                    response = self._client.request(method, url, **kwargs)
                    healthy = response.status_code < 500
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                    healthy = False
                    if last:
                        raise BackendUnavailableError(
                            f"model server unreachable at {url} after {attempts} attempt(s)"
                            f"{_tried(failed_on, replica)}: {exc}"
                        ) from exc
                except httpx.TimeoutException as exc:
                    raise BackendTimeoutError(
                        f"model server at {url} did not answer within {self.options.timeout_s} s"
                    ) from exc
                except httpx.HTTPError as exc:
                    raise BackendError(f"HTTP error talking to {url}: {exc}") from exc
                finally:
                    self.pool.release(replica, healthy=healthy)
            if response is not None and (response.status_code < 500 or last):
                return self._decode(response, url)
            failed_on.append(replica.root)
            if not self.pool.has_healthy(failed_on):  # no other replica: give this one time
                retry_after = None if response is None else response.headers.get("retry-after")
                self._backoff(attempt, retry_after)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int, retry_after: str | None = None) -> None:
        time.sleep(
            backoff_delay(
                attempt, base=self.backoff_base_s, cap=self.backoff_cap_s, retry_after=retry_after
            )
        )

    def _decode(self, response: httpx.Response, url: str) -> Any:
        status = response.status_code
        if status >= 400:
            detail = _server_message(response)
            hint = ""
            if "response_format" in detail and self.dialect == "vllm":
                hint = " (a llama.cpp server needs dialect 'llamacpp')"
            message = f"model server at {url} answered HTTP {status}: {detail}{hint}"
            if status == 503:
                raise BackendUnavailableError(message)
            if status in (401, 403):
                message += " (check REPORTDRAFT_API_KEY / OPENAI_API_KEY)"
            raise BackendError(message)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BackendError(
                f"model server at {url} returned a non-JSON body: {response.text[:_BODY_SNIPPET]!r}"
            ) from exc


def _tried(failed_on: list[str], replica: Replica) -> str:
    """`` (replicas tried: …)`` when one request went to more than one server."""
    tried = list(dict.fromkeys([*failed_on, replica.root]))
    return f" (replicas tried: {', '.join(tried)})" if len(tried) > 1 else ""


def _server_message(response: httpx.Response) -> str:
    """The server's error message (OpenAI ``{"error": {"message": ...}}``) or the raw body."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:_BODY_SNIPPET]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:_BODY_SNIPPET]
    if isinstance(error, str):
        return error[:_BODY_SNIPPET]
    return json.dumps(body)[:_BODY_SNIPPET]


def _parse_completion(body: Any, *, model: str, seconds: float) -> Generation:
    """Turn an OpenAI chat-completion body into a :class:`Generation` or raise BackendError."""
    if not isinstance(body, dict):
        raise BackendError(f"chat completion is not a JSON object: {str(body)[:_BODY_SNIPPET]}")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise BackendError(f"chat completion has no choices: {json.dumps(body)[:_BODY_SNIPPET]}")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise BackendError(f"chat completion has no message content: {str(choice)[:200]}")
    raw_usage = body.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    finish = choice.get("finish_reason")
    return Generation(
        text=content,
        model=model,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        seconds=seconds,
        finish_reason=finish if isinstance(finish, str) else None,
    )


def _count(value: Any) -> int:
    """A token count from ``usage``; 0 when the server does not report it."""
    return value if isinstance(value, int) and value >= 0 else 0
