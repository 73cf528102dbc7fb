"""Model backend faults (fallback, no 5xx) and HMAC-signed webhooks to a real receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reportdraft.api.webhooks import verify_signature
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.errors import BackendUnavailableError
from reportdraft.settings import Settings
from tests.api.conftest import Api, make_api
from tests.api.helpers import FACILITY, a_case, create_drafted, make_signable, seed_keys
from tests.api.server import free_port
from tests.store.dbfixtures import close_database, open_database


def _unavailable() -> Any:
    raise BackendUnavailableError("model server not installed here")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a hung model server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    sock.close()


def _assert_fallback_and_healthy(db: Any, key: Any, client: Any) -> None:
    keys = seed_keys(db, key)
    report = create_drafted(client, keys["workstation"], a_case())
    kinds = [f["kind"] for f in report["draft"]["flags"]]
    assert "fallback" in kinds, kinds
    for path in ("/health", "/v1/reports", f"/v1/reports/{report['id']}"):
        assert client.get(path, headers=keys["qa"]).status_code == 200


def test_backend_that_cannot_start_falls_back_to_rules(tmp_path: Path) -> None:
    db, handle = open_database("sqlite", tmp_path)
    client, key = make_api(db, backend_factory=_unavailable)
    try:
        with client:
            _assert_fallback_and_healthy(db, key, client)
    finally:
        close_database(db, handle)


@pytest.mark.parametrize("fault", ["down", "timeout"])
def test_model_server_down_or_hung_gives_flagged_fallback(
    fault: str, tmp_path: Path, silent_server: int
) -> None:
    port = free_port() if fault == "down" else silent_server
    options = BackendOptions(
        base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout_s=1, retries=0, dialect="vllm"
    )
    db, handle = open_database("sqlite", tmp_path)
    client, key = make_api(db, backend_factory=lambda: create_backend("vllm", options))
    try:
        with client:
            _assert_fallback_and_healthy(db, key, client)
    finally:
        close_database(db, handle)


class _Receiver:
    """A webhook receiver on loopback that records what it gets."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.received]

    def wait_for(self, event: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while event not in self.events():
            assert time.monotonic() < deadline, f"no {event}; got {self.events()}"
            time.sleep(0.1)


LOOPBACK_ALLOWED = Settings(backend="rules", database_url="sqlite://", webhook_allow=("127.0.0.1",))
"""The service with the loopback receiver allowlisted (the egress policy refuses it otherwise)."""


@pytest.fixture
def loopback_api(tmp_path: Path) -> Iterator[Api]:
    """The service on SQLite with ``127.0.0.1`` in ``REPORTDRAFT_WEBHOOK_ALLOW``."""
    db, handle = open_database("sqlite", tmp_path)
    client, key = make_api(db, LOOPBACK_ALLOWED)
    try:
        with client:
            yield Api(client=client, db=db, keks=key, headers=seed_keys(db, key))
    finally:
        close_database(db, handle)


def test_webhooks_are_signed_and_retried(loopback_api: Api) -> None:
    sqlite_api = loopback_api
    receiver = _Receiver(fail_first=1)
    try:
        secret = "s3cret-s3cret-s3cret"
        r = sqlite_api.client.post(
            "/v1/admin/webhooks",
            json={
                "url": receiver.url,
                "events": ["report.drafted", "report.signed", "critical.detected"],
                "secret": secret,
                "facilities": [FACILITY],
            },
            headers=sqlite_api.as_("admin"),
        )
        assert r.status_code == 201, r.text
        listed = sqlite_api.client.get("/v1/admin/webhooks", headers=sqlite_api.as_("admin"))
        assert listed.json()[0]["secret"] is None
        report = create_drafted(sqlite_api.client, sqlite_api.as_("workstation"), a_case())
        receiver.wait_for("report.drafted")
        att = sqlite_api.as_("attending")
        etag = make_signable(sqlite_api.client, att, report)
        signed = sqlite_api.client.post(
            f"/v1/reports/{report['id']}/sign",
            json={"status": "final"},
            headers={**att, "If-Match": etag},
        )
        assert signed.status_code == 200, signed.text
        receiver.wait_for("report.signed")
        for headers, body in receiver.received:
            assert verify_signature(
                secret,
                body,
                headers["X-Reportdraft-Timestamp"],
                headers["X-Reportdraft-Signature"],
            )
            assert not verify_signature(
                "wrong-secret-wrong",
                body,
                headers["X-Reportdraft-Timestamp"],
                headers["X-Reportdraft-Signature"],
            )
            assert not verify_signature(
                secret,
                body + b" ",
                headers["X-Reportdraft-Timestamp"],
                headers["X-Reportdraft-Signature"],
            )
        signed_event = next(
            json.loads(b) for _, b in receiver.received if json.loads(b)["type"] == "report.signed"
        )
        assert signed_event["data"]["report_id"] == report["id"]
        assert signed_event["data"]["status"] == "final"
    finally:
        receiver.server.shutdown()
