"""Fixtures of the review pages' browser tests: one ``reportdraft serve`` per module (a
subprocess on SQLite, on a free loopback port, rules backend) and one Chromium per session.

The database is prepared before the server starts: migrated, one key per role
(``tests.api.helpers.seed_keys``, facility ``FAC-API``) sealed under a KEK the server is
given in its environment. Cases are created through the JSON API, as a workstation would.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reportdraft.store import Database, upgrade
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey
from tests.api.helpers import seed_keys
from tests.api.server import serve_process
from tests.store.dbfixtures import database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "out" / "screenshots"
"""Test artefacts (git-ignored): a screenshot of each page the tests visit."""


@dataclass
class Server:
    """A running ``reportdraft serve``: its URL, bearer headers and raw API keys per role."""

    url: str
    headers: dict[str, dict[str, str]]
    log: Path
    reports: dict[str, str] = field(default_factory=dict)

    def key(self, role: str) -> str:
        """The raw API key of ``role`` (what a radiologist types into the sign-in form)."""
        return self.headers[role]["Authorization"].removeprefix("Bearer ")

    def api(self) -> httpx.Client:
        """A JSON API client (loopback only)."""
        return httpx.Client(base_url=self.url, timeout=60)

    def create(self, case: dict[str, Any], role: str = "workstation") -> str:
        """Create a report through the API and wait for its draft; returns the report id."""
        with self.api() as client:
            response = client.post("/v1/reports?wait=true", json=case, headers=self.headers[role])
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``reportdraft serve`` on SQLite in a subprocess, with a key per role."""
    root = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{root / 'reportdraft.db'}"
    kek = KeyEncryptionKey.generate()
    db = Database(url)
    upgrade(db)
    headers = seed_keys(db, KekRing(kek))
    db.dispose()
    env = {"PYTHONPATH": str(REPO), "REPORTDRAFT_KEY_ENCRYPTION_KEY": kek.encoded()}
    log = root / "serve.log"
    options = ("--draft-threads", "1", "--log-level", "warning")
    with serve_process(url, log, *options, env=env) as (base, _pid):
        yield Server(url=base, headers=headers, log=log)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium per browser-test module (never a downloaded browser).

    Module scope, not session: Playwright's sync API keeps an asyncio loop running in the
    main thread while it is open, and later tests in the same process that call
    ``asyncio.run`` would fail with "cannot be called from a running event loop".
    """
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed (make's dev install adds it)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


__all__ = ["database"]
