"""What the running service holds besides the database: keys, limiter, clock, workers.

The service is stateless apart from the database: this object is per process and holds
only configuration and caches, so several ``reportdraft serve`` processes can share one
PostgreSQL behind a load balancer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reportdraft.api.egress import Allowlist, EgressPolicy, Resolver, system_resolver
from reportdraft.api.limits import RateLimiter
from reportdraft.attest import SigningKey
from reportdraft.settings import Settings
from reportdraft.store import Database


def utcnow() -> datetime:
    """The current time in UTC (the service clock)."""
    return datetime.now(UTC)


@dataclass(kw_only=True)
class AppState:
    """Per-process service state, reachable as ``request.app.state.rd``."""

    settings: Settings
    db: Database
    limiter: RateLimiter
    signing_keys: dict[str, SigningKey] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    wake: threading.Event = field(default_factory=threading.Event)
    wait_timeout_s: float = 120.0
    resolver: Resolver = system_resolver
    """Name resolution for webhook URLs (tests map names without sending DNS queries)."""

    def egress(self) -> EgressPolicy:
        """The webhook egress policy: the configured allowlist and this state's resolver."""
        return EgressPolicy(Allowlist.parse(self.settings.webhook_allow), self.resolver)

    def signing_key_for(self, key_id: str | None) -> SigningKey | None:
        """The service-held signing key with ``key_id`` (None when not held here)."""
        return self.signing_keys.get(key_id) if key_id else None

    def default_key(self) -> SigningKey | None:
        """The first configured signing key (profiles without a key id are bound to it)."""
        return next(iter(self.signing_keys.values()), None)
