"""Request-size limit (ASGI middleware) and per-key rate limiting (token buckets).

The size limit is checked before the application reads the body: a declared
``Content-Length`` over the limit is refused at once, and a streamed (chunked) body is
buffered up to the limit and refused when it passes it; either way a 413
``payload_too_large`` with the usual JSON error body.

Rate limits are per API key and answer 429 ``rate_limited`` with ``Retry-After``. The
bucket is in the database (``store.rate_limits``), so every process serving the API —
``reportdraft serve --workers N`` or several hosts on one PostgreSQL — draws on the same
budget. A process leases a small batch of tokens (``rate × hold_s``, at least 1, at most
``burst``) and spends it in memory, so the database sees one short write per batch, not
one per request; tokens a process has not spent within ``hold_s`` go back into the shared
bucket with its next lease. Every admitted request spent a token taken from the shared
bucket, so all processes together never exceed the budget; what they may do is refuse a
little early, while another process still holds part of a batch (at most ``batch − 1``
tokens per process, for at most ``hold_s``).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from reportdraft.store.rate_limits import Lease

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY = 1_000_000
"""Largest request body accepted (bytes); a case with a long dictation is ~30 kB."""


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413 ``payload_too_large``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the streamed body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        declared_ok = any(name == b"content-length" for name, _ in scope.get("headers", []))
        if declared_ok:
            await self.app(scope, self._counting(receive), send)
            return
        # A streamed body without a declared length: buffer it (it is at most max_bytes)
        # and refuse as soon as it grows past the limit, before the app sees any of it.
        chunks: list[Message] = []
        received = 0
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)

    def _counting(self, receive: Receive) -> Receive:
        """``receive`` that stops a body longer than its declared length (defence in depth)."""
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    return {"type": "http.disconnect"}
            return message

        return counting_receive

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": {
                    "code": "payload_too_large",
                    "message": f"request body exceeds {self.max_bytes} bytes",
                    "details": {"max_bytes": self.max_bytes},
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class TokenSource(Protocol):
    """Where tokens come from: :func:`reportdraft.store.rate_limits.lease` bound to a database."""

    def __call__(self, key: str, *, want: int, give_back: int, now: float) -> Lease:
        """Return ``give_back`` unspent tokens to ``key``'s bucket and take up to ``want``."""
        ...


DEFAULT_HOLD_S = 0.25
"""How long a process may keep leased tokens before handing the rest back (seconds)."""


class RateLimiter:
    """Per-key token buckets (``rate`` per second, ``burst`` at once) drawn from ``source``.

    Tokens are leased from the shared bucket in batches of ``max(1, min(burst, rate ×
    hold_s))`` and spent here (module docstring). With ``rate`` 0 nothing is limited.
    """

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        source: TokenSource,
        clock: Callable[[], float] = time.time,
        hold_s: float = DEFAULT_HOLD_S,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.hold_s = hold_s
        self.batch = max(1, min(burst, int(rate * hold_s)))
        self._source = source
        self._clock = clock
        self._local: dict[str, tuple[int, float]] = {}
        self._leasing: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0 when allowed, else seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        if self._spend(key, now):
            return 0.0
        # One lease per key at a time in this process: the threads that queue behind it
        # spend what it brought instead of each taking a batch from the shared bucket.
        with self._lease_lock(key):
            if self._spend(key, now):
                return 0.0
            with self._lock:
                stale, _ = self._local.pop(key, (0, 0.0))
            lease = self._source(key, want=self.batch, give_back=stale, now=now)
            if lease.granted == 0:
                return lease.wait_s
            with self._lock:
                self._local[key] = (lease.granted - 1, now + self.hold_s)
            return 0.0

    def _spend(self, key: str, now: float) -> bool:
        """Spend one leased token of ``key`` if a fresh one is left here."""
        with self._lock:
            left, until = self._local.get(key, (0, 0.0))
            if left > 0 and now < until:
                self._local[key] = (left - 1, until)
                return True
            return False

    def _lease_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._leasing.setdefault(key, threading.Lock())

    @staticmethod
    def retry_after(wait_s: float) -> str:
        """The ``Retry-After`` header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait_s)))
