"""API test fixtures: an app on SQLite and on PostgreSQL with a key for every role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reportdraft.api import create_app
from reportdraft.attest import SigningKey, generate_signing_key
from reportdraft.settings import Settings
from reportdraft.store import Database
from tests.api.helpers import seed_keys
from tests.store.dbfixtures import BACKENDS, close_database, open_database


@dataclass
class Api:
    """A running app (TestClient), its database and a bearer header per role."""

    client: TestClient
    db: Database
    key: SigningKey
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_(self, role: str, **extra: str) -> dict[str, str]:
        """Headers authenticating as ``role`` plus ``extra``."""
        return {**self.headers[role], **extra}


def no_dns(host: str, port: int) -> list[str]:
    """The tests' default resolver: no name resolves, and no DNS query leaves the machine.

    A test that needs a name resolved passes its own ``resolver`` mapping it.
    """
    raise OSError(f"tests resolve no names ({host})")


def make_api(
    db: Database, settings: Settings | None = None, **app_kwargs: Any
) -> tuple[TestClient, SigningKey]:
    """A TestClient around an app on ``db`` signing with a fresh key.

    The default settings allowlist the webhook host ``hooks.test`` (a reserved name that
    :func:`no_dns` never resolves), so tests can register subscriptions without any
    delivery ever leaving the process.
    """
    key = generate_signing_key()
    kwargs: dict[str, Any] = {"rate_per_s": 0, "workers": 1, "resolver": no_dns, **app_kwargs}
    app = create_app(
        settings
        or Settings(backend="rules", database_url="sqlite://", webhook_allow=("hooks.test",)),
        database=db,
        signing_keys=[key],
        **kwargs,
    )
    return TestClient(app), key


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The service with drafting workers (rules backend), once per database."""
    db, handle = open_database(request.param, tmp_path)
    client, key = make_api(db)
    try:
        with client:
            yield Api(client=client, db=db, key=key, headers=seed_keys(db, key))
    finally:
        close_database(db, handle)


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    """The service on SQLite only (for tests whose subject is not the database)."""
    db, handle = open_database("sqlite", tmp_path)
    client, key = make_api(db)
    try:
        with client:
            yield Api(client=client, db=db, key=key, headers=seed_keys(db, key))
    finally:
        close_database(db, handle)
