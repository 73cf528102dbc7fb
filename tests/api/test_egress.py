"""Webhooks cannot reach internal addresses (issue 13, point 5).

Nothing here sends a packet anywhere but loopback: registrations run on an app without
the dispatcher, names are resolved by stub resolvers (never DNS; only reserved ``.test``
names are used), every delivery test patches ``socket.socket.connect`` so that a
connection to any non-loopback address fails the test before it is made, and the one
non-loopback address used for pinning goes to an in-memory ``httpx.MockTransport``.

On the base commit (473b706) every internal URL below was registered (201) and delivered
to; probe: ``POST /v1/admin/webhooks {"url": "http://169.254.169.254/latest", ...}``
answered 201.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reportdraft.api import create_app
from reportdraft.api.egress import (
    FORBIDDEN,
    UNRESOLVABLE,
    Allowlist,
    EgressPolicy,
    EgressRefused,
    forbidden_reason,
    literal_address,
)
from reportdraft.api.state import AppState
from reportdraft.api.webhooks import Dispatcher
from reportdraft.errors import ConfigurationError
from reportdraft.settings import Settings
from reportdraft.store import Database, outbox
from reportdraft.store.principals import UNRESTRICTED
from reportdraft.store.tables import DeliveryRow
from tests.api.conftest import make_api
from tests.api.helpers import seed_keys
from tests.store.dbfixtures import close_database, open_database

PUBLIC = "93.184.215.14"
"""A globally routable address: only ever handed to stub resolvers and a MockTransport."""


class StubResolver:
    """Maps names to addresses from a dict (no DNS); records every lookup."""

    def __init__(self, names: dict[str, list[str]] | None = None) -> None:
        self.names = dict(names or {})
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host not in self.names:
            raise OSError(f"stub: {host} does not resolve")
        return self.names[host]


class Service:
    """An app without background threads, its state and an admin header."""

    def __init__(self, client: TestClient, db: Database, admin: dict[str, str]) -> None:
        self.client = client
        self.db = db
        self.admin = admin

    @property
    def state(self) -> AppState:
        state: AppState = self.client.app.state.rd  # type: ignore[attr-defined]
        return state

    def register(self, url: str) -> httpx.Response:
        return self.client.post(
            "/v1/admin/webhooks",
            json={"url": url, "events": ["report.drafted"], "all_facilities": True},
            headers=self.admin,
        )


@pytest.fixture
def resolver() -> StubResolver:
    return StubResolver()


@pytest.fixture
def allow() -> tuple[str, ...]:
    """``REPORTDRAFT_WEBHOOK_ALLOW`` of the service (tests parametrize ``allow`` to set it)."""
    return ()


@pytest.fixture
def service(tmp_path: Path, resolver: StubResolver, allow: tuple[str, ...]) -> Iterator[Service]:
    """The API on SQLite without workers or dispatcher, allowlisting ``allow``."""
    db, handle = open_database("sqlite", tmp_path)
    settings = Settings(backend="rules", database_url="sqlite://", webhook_allow=allow)
    client, key = make_api(db, settings, start_workers=False, resolver=resolver)
    try:
        with client:
            yield Service(client, db, seed_keys(db, key)["admin"])
    finally:
        close_database(db, handle)


class Connections:
    """Every outgoing ``connect`` of the test; any non-loopback one is refused and kept.

    Name lookups through ``socket.getaddrinfo`` are refused and kept too (``lookups``), so
    not even a DNS query leaves the machine if the code under test asked the system.
    """

    def __init__(self) -> None:
        self.refused: list[Any] = []
        self.loopback: list[Any] = []
        self.lookups: list[Any] = []


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    """Patch ``socket.socket.connect``: loopback passes, anything else is never sent."""
    seen = Connections()
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else None
        try:
            loopback = host is not None and ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            seen.refused.append(address)
            raise ConnectionRefusedError(f"test guard: no connection to {address!r}")
        seen.loopback.append(address)
        real_connect(sock, address)

    real_getaddrinfo = socket.getaddrinfo

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host))
        except ValueError:
            seen.lookups.append(host)
            raise socket.gaierror(f"test guard: no DNS lookup of {host!r}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return seen


class NeverCalled(httpx.BaseTransport):
    """A transport that fails the test if a request reaches it."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        pytest.fail(f"a request was sent to {request.url}")


def _emit(db: Database) -> None:
    with db.write() as session:
        outbox.emit(
            session,
            event="report.drafted",
            data={"report_id": "r-1"},
            facility=None,
            now=datetime.now(UTC),
        )


def _deliveries(db: Database) -> list[DeliveryRow]:
    with db.read() as session:
        rows = list(session.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))
        session.expunge_all()
    return rows


# --- registration -------------------------------------------------------------------

REFUSED_URLS = [
    ("http://127.0.0.1/hook", "loopback"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://127.8.9.10/", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link_local"),
    ("https://169.254.169.254/latest/meta-data/", "link_local"),
    ("https://10.0.0.5/hook", "private"),
    ("https://172.16.0.1/hook", "private"),
    ("https://172.31.255.254/hook", "private"),
    ("https://192.168.1.1/hook", "private"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("https://0/hook", "unspecified"),
    ("https://[::1]/hook", "loopback"),
    ("https://[::]/hook", "unspecified"),
    ("https://localhost/hook", "localhost"),
    ("http://localhost:8080/hook", "localhost"),
    ("https://LOCALHOST./hook", "localhost"),
    ("https://api.localhost/hook", "localhost"),
    ("https://2130706433/hook", "loopback"),
    ("https://0x7f.1/hook", "loopback"),
    ("https://0x7f000001/hook", "loopback"),
    ("https://0177.0.0.1/hook", "loopback"),
    ("https://127.1/hook", "loopback"),
    ("https://3232235777/hook", "private"),
    ("https://[::ffff:127.0.0.1]/hook", "loopback"),
    ("https://[::ffff:a9fe:a9fe]/hook", "link_local"),
    ("https://[0:0:0:0:0:ffff:10.0.0.5]/hook", "private"),
    ("https://[::10.0.0.5]/hook", "private"),
    ("https://[2002:a00:5::1]/hook", "private"),
    ("https://[64:ff9b::a9fe:a9fe]/hook", "link_local"),
    ("https://[fc00::1]/hook", "private"),
    ("https://[fd12:3456::1]/hook", "private"),
    ("https://[fec0::1]/hook", "private"),
    ("https://[fe80::1]/hook", "link_local"),
    ("https://100.64.0.1/hook", "shared"),
    ("https://100.127.255.254/hook", "shared"),
    ("https://224.0.0.1/hook", "multicast"),
    ("https://[ff02::1]/hook", "multicast"),
    ("https://240.0.0.1/hook", "reserved"),
    ("https://255.255.255.255/hook", "reserved"),
    ("https://192.0.2.10/hook", "not_global"),
    ("https://198.18.0.1/hook", "not_global"),
    ("http://hooks.example.test/hook", "https_required"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS)
def test_internal_urls_are_refused_at_registration(
    service: Service, resolver: StubResolver, url: str, reason: str
) -> None:
    """Reproduce on the base commit: the same POST answered 201 for every URL."""
    response = service.register(url)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == FORBIDDEN
    assert error["details"]["reason"] == reason
    assert resolver.calls == []  # refused on the URL alone: no lookup was needed
    listed = service.client.get("/v1/admin/webhooks", headers=service.admin)
    assert listed.json() == []


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://2130706433/", "127.0.0.1"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://127.1/", "127.0.0.1"),
        ("http://10.1/", "10.0.0.1"),
        ("http://0x0a.0.0x01/", "10.0.0.1"),
        ("http://169.254.43518/", "169.254.169.254"),
        ("http://[::ffff:7f00:1]/", "::ffff:7f00:1"),
    ],
)
def test_numeric_spellings_are_read_as_addresses(url: str, address: str) -> None:
    """A stored URL is read the way ``getaddrinfo`` reads it, not only in pydantic's form.

    (Registration stores pydantic's normalised URL; these are rows written any other
    way.) Base commit: no such check existed (``reportdraft.api.egress`` is new).
    """
    host = urlsplit(url).hostname or ""
    parsed = literal_address(host)
    assert str(parsed) == address
    with pytest.raises(EgressRefused) as refused:
        EgressPolicy().destination(url)
    # httpx itself rejects some spellings (0177.0.0.1): refused as an invalid URL then.
    assert parsed is not None
    assert refused.value.reason in {forbidden_reason(parsed), "invalid_url"}


@pytest.mark.parametrize("host", ["08.1", "1.2.3.4.5", "256.1.1.1", "0x1.0x100000000"])
def test_numeric_hosts_that_are_not_addresses_are_refused(host: str) -> None:
    """A host made of numbers that no resolver reads as one address is not sent to DNS."""
    with pytest.raises(EgressRefused) as refused:
        literal_address(host)
    assert refused.value.reason == "invalid_address"


def test_a_name_resolving_inside_is_refused_at_registration(
    service: Service, resolver: StubResolver
) -> None:
    """Base commit: names were never resolved at registration (201 for any name)."""
    resolver.names["intranet.example.test"] = ["10.0.0.5"]
    resolver.names["mixed.example.test"] = [PUBLIC, "169.254.169.254"]
    resolver.names["hooks.example.test"] = [PUBLIC]
    for name, reason in (("intranet", "private"), ("mixed", "link_local")):
        response = service.register(f"https://{name}.example.test/hook")
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"]["reason"] == reason
    missing = service.register("https://missing.example.test/hook")
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == UNRESOLVABLE
    ok = service.register("https://hooks.example.test/hook")
    assert ok.status_code == 201, ok.text
    assert ("hooks.example.test", 443) in resolver.calls


@pytest.mark.parametrize(
    "allow",
    [
        (
            "hooks.test",
            "127.0.0.1:8080",
            "[::1]:9000",
        )
    ],
)
def test_allowlisted_internal_hosts_may_be_registered(
    service: Service, resolver: StubResolver
) -> None:
    """``REPORTDRAFT_WEBHOOK_ALLOW`` permits exactly the named hosts (http allowed for them)."""
    for url in (
        "http://hooks.test/hook",
        "http://HOOKS.test.:8081/hook",
        "http://127.0.0.1:8080/hook",
        "http://2130706433:8080/hook",
        "http://[::1]:9000/hook",
    ):
        response = service.register(url)
        assert response.status_code == 201, (url, response.text)
    for url in ("http://127.0.0.1:8081/hook", "http://[::1]:9001/", "http://sub.hooks.test/"):
        response = service.register(url)
        assert response.status_code == 422, (url, response.text)
    assert resolver.calls == []  # allowlisted hosts need no lookup at registration


def test_allowlist_setting_is_read_and_checked() -> None:
    """``REPORTDRAFT_WEBHOOK_ALLOW`` is a comma-separated list; a URL in it is an error."""
    settings = Settings.from_env({"REPORTDRAFT_WEBHOOK_ALLOW": " hooks.test, 127.0.0.1:8080 ,,"})
    assert settings.webhook_allow == ("hooks.test", "127.0.0.1:8080")
    allow = Allowlist.parse(settings.webhook_allow)
    assert allow.permits("hooks.test", 443)
    assert allow.permits("127.0.0.1", 8080)
    assert not allow.permits("127.0.0.1", 80)
    for bad in ("http://hooks.test/", "hooks.test:http", "a b"):
        with pytest.raises(ConfigurationError):
            Allowlist.parse([bad])
    with pytest.raises(ConfigurationError):
        create_app(Settings(database_url="sqlite://", webhook_allow=("https://x.test/",)))


def test_public_addresses_pass_and_embedded_forms_are_judged_by_their_ipv4() -> None:
    """The policy is not a blanket refusal: global addresses (and their IPv6 forms) pass."""
    for text in (PUBLIC, "2606:4700:4700::1111", f"::ffff:{PUBLIC}", "2002:5db8:d70e::1"):
        assert forbidden_reason(ipaddress.ip_address(text)) is None, text


# --- delivery -------------------------------------------------------------------------


@pytest.mark.parametrize("internal", ["10.0.0.5", "169.254.169.254", "::ffff:10.0.0.5"])
def test_rebinding_name_is_not_delivered_and_nothing_connects(
    service: Service, resolver: StubResolver, connections: Connections, internal: str
) -> None:
    """Public at registration, internal at delivery: refused before any connection.

    Base commit: the dispatcher posted to whatever the URL named (no check after
    registration, none at all before it).
    """
    resolver.names["rebind.example.test"] = [PUBLIC]
    assert service.register("https://rebind.example.test/hook").status_code == 201
    resolver.names["rebind.example.test"] = [internal]
    _emit(service.db)
    transport = NeverCalled()
    dispatcher = Dispatcher(service.state, transport=transport)
    try:
        assert dispatcher.deliver_due() == 1
    finally:
        dispatcher.stop()
    assert transport.requests == []
    assert connections.refused == []
    assert connections.lookups == []
    assert connections.loopback == []
    (row,) = _deliveries(service.db)
    assert row.state == outbox.PENDING  # retried on the usual backoff, checked afresh
    assert row.attempts == 1
    assert row.last_status is None
    assert row.last_error is not None
    assert row.last_error.startswith(FORBIDDEN)
    assert str(ipaddress.ip_address(internal)) in row.last_error
    assert resolver.calls[-1] == ("rebind.example.test", 443)


def test_rows_from_before_the_policy_are_refused_at_delivery(
    service: Service, connections: Connections
) -> None:
    """A subscription stored before the upgrade (metadata URL) is never posted to."""
    with service.db.write() as session:
        outbox.create_webhook(
            session,
            url="http://169.254.169.254/latest/meta-data/",
            events=["report.drafted"],
            scope=UNRESTRICTED,
            now=datetime.now(UTC),
        )
    _emit(service.db)
    dispatcher = Dispatcher(service.state, transport=NeverCalled())
    try:
        dispatcher.deliver_due()
    finally:
        dispatcher.stop()
    (row,) = _deliveries(service.db)
    assert row.last_error is not None
    assert "link-local" in row.last_error
    assert connections.refused == []
    assert connections.lookups == []


def test_delivery_connects_to_the_checked_address_with_the_name_for_host_and_tls(
    service: Service, resolver: StubResolver, connections: Connections
) -> None:
    """Pinned: the URL sent on names the checked address; Host and SNI keep the name."""
    resolver.names["hooks.example.test"] = [PUBLIC]
    assert service.register("https://hooks.example.test:8443/hook?x=1").status_code == 201
    _emit(service.db)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    dispatcher = Dispatcher(service.state, transport=httpx.MockTransport(handler))
    try:
        dispatcher.deliver_due()
    finally:
        dispatcher.stop()
    (request,) = seen
    assert request.url.host == PUBLIC
    assert request.url.port == 8443
    assert request.url.path == "/hook"
    assert request.url.query == b"x=1"
    assert request.headers["host"] == "hooks.example.test:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.test"
    assert json.loads(request.content)["type"] == "report.drafted"
    (row,) = _deliveries(service.db)
    assert row.state == outbox.DELIVERED
    assert connections.refused == []
    assert connections.lookups == []
    assert connections.loopback == []


class Receiver:
    """A loopback HTTP server recording the Host header of each POST."""

    def __init__(self, status: int = 204, location: str | None = None) -> None:
        self.hosts: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hosts.append(self.headers["Host"])
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("allow", [("hooks.test",)])
def test_allowlisted_name_is_pinned_to_its_resolved_loopback_address(
    service: Service, resolver: StubResolver, connections: Connections
) -> None:
    """``hooks.test`` -> 127.0.0.1 by the stub: the receiver gets it with Host hooks.test.

    The name exists nowhere but in the stub, so the delivery can only have arrived by
    connecting to the address the policy resolved.
    """
    receiver = Receiver()
    try:
        resolver.names["hooks.test"] = ["127.0.0.1"]
        url = f"http://hooks.test:{receiver.port}/hook"
        assert service.register(url).status_code == 201
        _emit(service.db)
        dispatcher = Dispatcher(service.state)
        try:
            dispatcher.deliver_due()
        finally:
            dispatcher.stop()
    finally:
        receiver.close()
    assert receiver.hosts == [f"hooks.test:{receiver.port}"]
    assert connections.loopback == [("127.0.0.1", receiver.port)]
    assert connections.lookups == []
    assert resolver.calls == [("hooks.test", receiver.port)]  # once, at delivery
    (row,) = _deliveries(service.db)
    assert row.state == outbox.DELIVERED


@pytest.mark.parametrize("allow", [("127.0.0.1",)])
def test_redirects_are_not_followed(service: Service, connections: Connections) -> None:
    """A 302 (here to another loopback server) is a failed attempt; the target gets nothing."""
    target = Receiver()
    redirecting = Receiver(status=302, location=f"http://127.0.0.1:{target.port}/hook")
    try:
        assert service.register(f"http://127.0.0.1:{redirecting.port}/hook").status_code == 201
        _emit(service.db)
        dispatcher = Dispatcher(service.state)
        try:
            dispatcher.deliver_due()
        finally:
            dispatcher.stop()
    finally:
        target.close()
        redirecting.close()
    assert len(redirecting.hosts) == 1
    assert target.hosts == []
    (row,) = _deliveries(service.db)
    assert row.state == outbox.PENDING
    assert row.last_status == 302
    assert row.last_error == "HTTP 302 (redirects are not followed)"
