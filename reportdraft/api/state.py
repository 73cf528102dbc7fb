"""What the running service holds besides the database: KEKs, limiter, clock, workers.

The service is stateless apart from the database: this object is per process and holds
only configuration and caches (a cache entry is always checked against the database before
it is used), so several ``reportdraft serve`` processes can share one
PostgreSQL behind a load balancer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reportdraft.api.egress import Allowlist, EgressPolicy, Resolver, system_resolver
from reportdraft.api.limits import RateLimiter
from reportdraft.api.read_cache import ReadCache
from reportdraft.attest import VerifyKey
from reportdraft.settings import Settings
from reportdraft.store import Database
from reportdraft.store.signing_keys import KekRing


def utcnow() -> datetime:
    """The current time in UTC (the service clock)."""
    return datetime.now(UTC)


@dataclass(kw_only=True)
class AppState:
    """Per-process service state, reachable as ``request.app.state.rd``.

    ``keks`` are the key-encryption keys that unseal the radiologists' signing keys (None
    when not configured: then no key can be created or used). The service holds no
    signing key of its own: each radiologist signs with theirs, from the database.
    """

    settings: Settings
    db: Database
    limiter: RateLimiter
    keks: KekRing | None = None
    legacy_trust: dict[str, VerifyKey] = field(default_factory=dict)
    """Public keys trusted besides the radiologists' own (``REPORTDRAFT_TRUSTED_KEYS``):
    for reports signed before per-radiologist keys, with the one service key."""
    clock: Callable[[], datetime] = utcnow
    wake: threading.Event = field(default_factory=threading.Event)
    wait_timeout_s: float = 120.0
    resolver: Resolver = system_resolver
    """Name resolution for webhook URLs (tests map names without sending DNS queries)."""
    reads: ReadCache = field(default_factory=ReadCache)
    """Serialised report bodies by (id, version), checked against the database per read."""

    def egress(self) -> EgressPolicy:
        """The webhook egress policy: the configured allowlist and this state's resolver."""
        return EgressPolicy(Allowlist.parse(self.settings.webhook_allow), self.resolver)
