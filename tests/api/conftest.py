"""API test fixtures: an app on SQLite and on PostgreSQL with a key for every role."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reportdraft.api import create_app
from reportdraft.settings import Settings
from reportdraft.store import Database
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey
from tests.api.helpers import seed_keys
from tests.store.dbfixtures import BACKENDS, close_database, open_database


@dataclass
class Api:
    """A running app (TestClient), its database, its KEKs and a bearer header per role."""

    client: TestClient
    db: Database
    keks: KekRing
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
) -> tuple[TestClient, KekRing]:
    """A TestClient around an app on ``db`` with a fresh key-encryption key.

    The app holds no signing key: ``seed_keys(db, keks)`` gives each radiologist their
    own key pair, sealed under the returned KEKs (the same ones the app unseals with).
    The default settings allowlist the webhook host ``hooks.test`` (a reserved name that
    :func:`no_dns` never resolves), so tests can register subscriptions without any
    delivery ever leaving the process.
    """
    keks = KekRing(KeyEncryptionKey.generate())
    kwargs: dict[str, Any] = {"rate_per_s": 0, "workers": 1, "resolver": no_dns, **app_kwargs}
    base = settings or Settings(
        backend="rules", database_url="sqlite://", webhook_allow=("hooks.test",)
    )
    app = create_app(
        dataclasses.replace(base, key_encryption_key=keks.current.encoded()),
        database=db,
        **kwargs,
    )
    return TestClient(app), keks


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The service with drafting workers (rules backend), once per database."""
    db, handle = open_database(request.param, tmp_path)
    client, keks = make_api(db)
    try:
        with client:
            yield Api(client=client, db=db, keks=keks, headers=seed_keys(db, keks))
    finally:
        close_database(db, handle)


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    """The service on SQLite only (for tests whose subject is not the database)."""
    db, handle = open_database("sqlite", tmp_path)
    client, keks = make_api(db)
    try:
        with client:
            yield Api(client=client, db=db, keks=keks, headers=seed_keys(db, keks))
    finally:
        close_database(db, handle)
