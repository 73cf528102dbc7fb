"""Requests spread over replicas of a model server, and a failed replica taken out.

The policy (:class:`ReplicaPool`) is tested exactly with a hand-driven clock; the client is
tested against real server processes on loopback (``bench/latency_server.py``): two
replicas, one of them answering 500, or killed while requests are running.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reportdraft.backends import BackendOptions, ChatMessage, GenerationRequest, create_backend
from reportdraft.backends.openai_compat import OpenAICompatBackend, api_roots
from reportdraft.backends.replicas import ReplicaPool
from reportdraft.errors import BackendUnavailableError, ConfigurationError

SERVER_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "latency_server.py"
FAST = ("--median-s", "0.05", "--min-s", "0.02", "--max-s", "0.2", "--sigma", "0.2")
"""Test-server delays: 20-200 ms, so requests overlap without making the tests slow."""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_least_outstanding_then_round_robin() -> None:
    pool = ReplicaPool(["a", "b", "c"], clock=Clock())
    first = pool.acquire()
    second = pool.acquire()
    third = pool.acquire()
    assert [first.root, second.root, third.root] == ["a", "b", "c"]
    pool.release(second, healthy=True)
    again = pool.acquire()
    assert again.root == "b"  # the only one with nothing outstanding
    for replica in (first, third, again):
        pool.release(replica, healthy=True)
    # a sequential caller (nothing outstanding anywhere) still alternates
    seen = []
    for _ in range(6):
        replica = pool.acquire()
        seen.append(replica.root)
        pool.release(replica, healthy=True)
    assert seen == ["c", "a", "b", "c", "a", "b"]
    assert [s.sent for s in pool.snapshot()] == [3, 4, 3]
    assert [s.outstanding for s in pool.snapshot()] == [0, 0, 0]


def test_failed_replica_is_out_for_a_while_then_back() -> None:
    clock = Clock()
    pool = ReplicaPool(["a", "b"], takeout_s=30, clock=clock)
    a = pool.acquire()
    assert a.root == "a"
    pool.release(a, healthy=False)
    assert [pool.acquire().root for _ in range(3)] == ["b", "b", "b"]  # a is out
    assert pool.snapshot()[0].out_for_s == pytest.approx(30)
    clock.now += 31
    chosen = {pool.acquire().root for _ in range(4)}
    assert "a" in chosen  # back in after the takeout (b has three outstanding)


def test_a_retry_avoids_the_replica_that_failed_unless_nothing_else_is_left() -> None:
    clock = Clock()
    pool = ReplicaPool(["a", "b"], clock=clock)
    assert pool.acquire(avoid=["a"]).root == "b"
    assert pool.acquire(avoid=["a", "b"]).root in {"a", "b"}
    # every replica out: the one back first is tried anyway
    for root, at in (("a", 0.0), ("b", 5.0)):
        replica = next(r for r in pool._replicas if r.root == root)
        clock.now = 100.0 + at
        pool.release(replica, healthy=False)
    clock.now = 101.0
    assert not pool.has_healthy(())
    back_first = pool.acquire()
    assert back_first.root == "a"
    pool.release(back_first, healthy=True)  # a success puts it back at once
    assert pool.snapshot()[0].out_for_s == 0
    assert pool.has_healthy(["b"])


def test_timeouts_and_4xx_leave_the_replica_in() -> None:
    pool = ReplicaPool(["a", "b"], clock=Clock())
    a = pool.acquire()
    pool.release(a, healthy=None)
    assert [s.out_for_s for s in pool.snapshot()] == [0, 0]
    assert [s.outstanding for s in pool.snapshot()] == [0, 0]


def test_pool_and_url_list_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="twice"):
        ReplicaPool(["a", "a"])
    with pytest.raises(ConfigurationError, match="at least one"):
        ReplicaPool([])
    assert api_roots("http://h1:8000/v1, http://h2:8000/") == ["http://h1:8000", "http://h2:8000"]
    with pytest.raises(ConfigurationError, match="no server URL"):
        api_roots(" , ")
    with pytest.raises(ConfigurationError, match="twice"):
        create_backend("vllm", BackendOptions(base_url="http://h:1,http://h:1/v1"))


# --- against real server processes -------------------------------------------------------


@pytest.fixture(scope="module")
def latency_server() -> ModuleType:
    spec = importlib.util.spec_from_file_location("latency_server", SERVER_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["latency_server"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def start(latency_server: ModuleType) -> Iterator[Any]:
    started: list[Any] = []

    def run(*options: str) -> Any:
        server = latency_server.ServerProcess(*FAST, *options)
        started.append(server)
        return server

    yield run
    for server in started:
        server.kill()


def _client(*urls: str, **kw: Any) -> OpenAICompatBackend:
    options: dict[str, Any] = {
        "base_url": ",".join(urls),
        "model": "m",
        "timeout_s": 10.0,
        "retries": 2,
    } | kw
    made = create_backend("vllm", BackendOptions(**options))
    assert isinstance(made, OpenAICompatBackend)
    return made


def _request(n: int) -> GenerationRequest:
    return GenerationRequest(
        messages=[ChatMessage(role="user", content=f"request {n}")], max_tokens=8
    )


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OpenAICompatBackend, "backoff_base_s", 0.05)


def _parallel(client: OpenAICompatBackend, count: int, threads: int) -> list[str]:
    with ThreadPoolExecutor(threads) as pool:
        return [g.text for g in pool.map(client.generate, map(_request, range(count)))]


def test_requests_are_spread_over_two_replicas(start: Any) -> None:
    one, two = start(), start()
    with _client(one.url, two.url) as client:
        for n in range(6):  # sequential: they alternate
            client.generate(_request(n))
        assert [one.stats()["served"], two.stats()["served"]] == [3, 3]
        assert _parallel(client, 40, 8) == ["ok"] * 40
        states = client.replicas()
    served = [one.stats()["served"], two.stats()["served"]]
    assert sum(served) == 46
    assert min(served) >= 15  # least outstanding keeps both busy
    assert [s.sent for s in states] == served
    assert [s.failures for s in states] == [0, 0]


def test_a_replica_answering_500_is_taken_out_and_requests_go_elsewhere(start: Any) -> None:
    good, broken = start(), start("--fail-status", "500")
    with _client(broken.url, good.url, replica_takeout_s=60) as client:
        assert _parallel(client, 20, 4) == ["ok"] * 20
        broken_state, good_state = client.replicas()
    assert good.stats()["served"] == 20
    # out after its first failure (up to one per thread already on the way), never retried
    assert 1 <= broken.stats()["served"] <= 4
    assert broken_state.failures == broken.stats()["served"]
    assert broken_state.out_for_s > 50
    assert good_state.failures == 0


def test_a_killed_replica_is_taken_out_and_comes_back_after_the_takeout(start: Any) -> None:
    first, second = start(), start()
    with _client(first.url, second.url, replica_takeout_s=1.0) as client:
        assert _parallel(client, 10, 4) == ["ok"] * 10
        first.kill()
        assert _parallel(client, 20, 4) == ["ok"] * 20  # every request lands on the survivor
        dead = client.replicas()[0]
        assert dead.failures >= 1
        threading.Event().wait(1.2)  # the takeout ends: the dead one is tried again
        client.generate(_request(99))
        client.generate(_request(100))
        assert client.replicas()[0].failures > dead.failures
    assert second.stats()["served"] >= 22


def test_all_replicas_down_is_unavailable_after_the_same_attempts(start: Any) -> None:
    first, second = start(), start()
    urls = (first.url, second.url)
    first.kill()
    second.kill()
    with _client(*urls, retries=2) as client, pytest.raises(BackendUnavailableError) as info:
        client.generate(_request(0))
    message = str(info.value)
    assert "after 3 attempt(s)" in message
    assert "replicas tried" in message
    assert urls[0] in message
    assert urls[1] in message


def test_requests_in_flight_are_bounded_per_client(start: Any) -> None:
    server = start("--median-s", "0.1", "--min-s", "0.1")
    with _client(server.url, max_in_flight=3) as client:
        assert _parallel(client, 12, 12) == ["ok"] * 12
    stats = server.stats()
    assert stats["served"] == 12
    assert stats["max_in_flight"] == 3
