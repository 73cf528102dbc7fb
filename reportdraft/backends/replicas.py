"""Spreading requests over several replicas of one model server (data parallelism).

A deployment that serves one model from several vLLM processes (one per GPU, say) lists
every replica's base URL; the OpenAI-compatible client (:mod:`.openai_compat`) asks a
:class:`ReplicaPool` which one to send each request to, and tells it how the request went.

**Selection: least outstanding requests.** Each request goes to the healthy replica with
the fewest requests in flight from this client, ties broken round-robin (so a sequential
caller, whose replicas all have zero outstanding, still alternates). Generation time varies
a lot with the answer's length; counting outstanding requests adapts to that where plain
round-robin would pile requests onto a replica busy with long answers.

**Failure: taken out for a while.** A replica that refuses the connection or answers 5xx is
*taken out* for ``takeout_s`` seconds: no request is sent to it while another replica is
healthy, and the client's retry of the failed request goes to another replica. When every
replica is out, the one that comes back first is tried anyway -- failing without trying
would turn a short outage of all replicas into lost drafts -- and a success there puts it
back at once. A timeout or a 4xx says nothing about the replica's health (a long generation,
a wrong request) and leaves it in.

The pool knows nothing about HTTP; it is a small thread-safe counter so its policy can be
tested exactly, and the client keeps the retry and backoff rules.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from reportdraft.errors import ConfigurationError

DEFAULT_TAKEOUT_S = 30.0
"""How long a failed replica is left out: long enough not to hammer a restarting server
with every request, short enough that a recovered one is back within a minute."""


@dataclass
class Replica:
    """One replica's state; mutated only under the pool's lock."""

    root: str
    index: int
    outstanding: int = 0
    out_until: float = 0.0
    """Monotonic time before which the replica is out (0: never failed)."""
    sent: int = 0
    failures: int = 0


@dataclass(frozen=True, kw_only=True)
class ReplicaState:
    """A snapshot of one replica, for logs, tests and benchmarks."""

    root: str
    outstanding: int
    sent: int
    failures: int
    out_for_s: float
    """Seconds until the replica is back in (0 when it is in)."""


class ReplicaPool:
    """Thread-safe choice of a replica per request (see the module docstring)."""

    def __init__(
        self,
        roots: Sequence[str],
        *,
        takeout_s: float = DEFAULT_TAKEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not roots:
            raise ConfigurationError("a replica pool needs at least one server URL")
        if len(set(roots)) != len(roots):
            raise ConfigurationError(f"a server URL is listed twice: {', '.join(roots)}")
        if takeout_s < 0:
            raise ConfigurationError("takeout_s must be >= 0")
        self.takeout_s = takeout_s
        self._clock = clock
        self._replicas = [Replica(root=root, index=i) for i, root in enumerate(roots)]
        self._lock = threading.Lock()
        self._next = 0

    @property
    def roots(self) -> list[str]:
        """The replicas' server roots, in the order given."""
        return [r.root for r in self._replicas]

    def acquire(self, avoid: Collection[str] = ()) -> Replica:
        """Choose the replica for one request and count it as outstanding.

        ``avoid`` holds the roots this request already failed on: another replica is
        preferred, one of them is used only when nothing else is left. Every call must be
        paired with :meth:`release`.
        """
        with self._lock:
            now = self._clock()
            fresh = [r for r in self._replicas if r.root not in avoid] or self._replicas
            healthy = [r for r in fresh if r.out_until <= now]
            if healthy:
                least = min(r.outstanding for r in healthy)
                tied = [r for r in healthy if r.outstanding == least]
                chosen = min(tied, key=self._rotation)
            else:  # all out: the one back first, then round-robin
                chosen = min(fresh, key=lambda r: (r.out_until, self._rotation(r)))
            self._next = (chosen.index + 1) % len(self._replicas)
            chosen.outstanding += 1
            chosen.sent += 1
            return chosen

    def release(self, replica: Replica, *, healthy: bool | None) -> None:
        """End one request: ``healthy`` True puts the replica back in, False takes it out
        for ``takeout_s``, None (timeout, 4xx, unparsable body) leaves its state alone."""
        with self._lock:
            replica.outstanding -= 1
            if healthy is True:
                replica.out_until = 0.0
            elif healthy is False:
                replica.failures += 1
                replica.out_until = self._clock() + self.takeout_s

    def has_healthy(self, avoid: Collection[str]) -> bool:
        """True when a replica outside ``avoid`` is in (a retry can go there at once)."""
        with self._lock:
            now = self._clock()
            return any(r.root not in avoid and r.out_until <= now for r in self._replicas)

    def snapshot(self) -> list[ReplicaState]:
        """Every replica's state now, in the order given."""
        with self._lock:
            now = self._clock()
            return [
                ReplicaState(
                    root=r.root,
                    outstanding=r.outstanding,
                    sent=r.sent,
                    failures=r.failures,
                    out_for_s=max(0.0, r.out_until - now),
                )
                for r in self._replicas
            ]

    def _rotation(self, replica: Replica) -> int:
        """Distance from the round-robin cursor: ties go to the next replica in turn."""
        return (replica.index - self._next) % len(self._replicas)
