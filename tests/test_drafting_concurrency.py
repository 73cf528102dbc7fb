"""The pieces of one draft sent to the model concurrently: same draft, bounded, per piece.

The case is the one of ``tests/test_drafting_paths.py``: three pieces (the pleura
subsection citing D1 and D2, the heart citing D3, the impression citing D4). A scripted
backend answers each piece, with delays that make the pieces finish in the reverse of
their order, and counts the requests in flight; barriers prove that requests really were
open at the same time (they time out, failing the test, when drafting is sequential).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from reportdraft import drafting
from reportdraft.backends import FakeBackend, GenerationRequest
from reportdraft.backends.fake import Answer, Handler, keyed, request_choices
from reportdraft.errors import BackendTimeoutError, ConfigurationError
from reportdraft.models import Case, Draft, FlagKind
from tests.factories import case_dict

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DICTATION = (
    "Small right pneumothorax. No pleural effusion on the left. The heart size is normal. "
    "Impression: Small right pneumothorax."
)
PLEURA, HEART, IMPRESSION = ("D1", "D2"), ("D3",), ("D4",)
PIECES = (PLEURA, HEART, IMPRESSION)


def _case() -> Case:
    data = case_dict()
    data["dictation"] = DICTATION
    return Case.model_validate(data)


def _answer(*sentences: tuple[str, list[str]]) -> str:
    return json.dumps({"sentences": [{"text": t, "sources": s} for t, s in sentences]})


GOOD: dict[str | tuple[str, ...], Answer | list[Answer]] = {
    PLEURA: _answer(("Small right pneumothorax; no pleural effusion on the left.", ["D1", "D2"])),
    HEART: _answer(("Heart size is normal.", ["D3"])),
    IMPRESSION: _answer(("Small right pneumothorax.", ["D4"])),
}

MIXED: dict[str | tuple[str, ...], Answer | list[Answer]] = {
    # pleura: an unparsable answer, then a valid one on the re-ask
    PLEURA: [
        "{not json",
        _answer(("Small right pneumothorax; no pleural effusion on the left.", ["D1", "D2"])),
    ],
    # heart: the model call fails -> fallback
    HEART: BackendTimeoutError("no answer in time"),
    # impression: a word no source uses -> fallback
    IMPRESSION: _answer(("Small right tension pneumothorax.", ["D4"])),
}


class InFlight:
    """Wraps a handler: counts requests in flight, records the peak, delays each answer."""

    def __init__(
        self,
        handler: Handler,
        *,
        delays: dict[tuple[str, ...], float] | None = None,
        meet: threading.Barrier | None = None,
    ) -> None:
        self.handler = handler
        self.delays = delays or {}
        self.meet = meet
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.started: list[tuple[str, ...]] = []

    def __call__(self, request: GenerationRequest) -> Answer:
        key = request_choices(request)
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.started.append(key)
            first_round = self.meet is not None and len(self.started) <= self.meet.parties
        try:
            if first_round and self.meet is not None:
                # BrokenBarrierError (the test fails) unless the first requests of all the
                # pieces are in flight together; re-asks come later and do not wait
                self.meet.wait()
            time.sleep(self.delays.get(tuple(sorted(key)), 0.0))
            return self.handler(request)
        finally:
            with self.lock:
                self.now -= 1


REVERSED = {PLEURA: 0.3, HEART: 0.15, IMPRESSION: 0.0}
"""Delays that make the pieces finish last-first when sent together."""


def _draft(backend: FakeBackend, concurrency: int | None) -> Draft:
    return drafting.draft_case(_case(), backend, now=NOW, concurrency=concurrency).draft


def _comparable(draft: Draft) -> dict[str, Any]:
    """The draft as JSON without the wall time (the one thing concurrency may change)."""
    data = draft.model_dump(mode="json")
    data["provenance"]["usage"].pop("seconds")
    return data


def _run(
    script: dict[str | tuple[str, ...], Answer | list[Answer]],
    concurrency: int | None,
    **wrap: Any,
) -> tuple[Draft, FakeBackend, InFlight]:
    tracker = InFlight(keyed(script), **wrap)
    backend = FakeBackend(tracker)
    return _draft(backend, concurrency), backend, tracker


@pytest.mark.parametrize("script", [GOOD, MIXED], ids=["valid", "mixed"])
def test_concurrent_draft_is_the_sequential_draft(
    script: dict[str | tuple[str, ...], Answer | list[Answer]],
) -> None:
    sequential, seq_backend, seq = _run(script, 1, delays=REVERSED)
    concurrent, con_backend, con = _run(
        script, 8, delays=REVERSED, meet=threading.Barrier(3, timeout=20)
    )
    assert seq.peak == 1
    assert con.peak == 3  # the barrier let nothing through until all three were in flight
    in_order = list(dict.fromkeys(frozenset(k) for k in seq.started))
    assert in_order == [frozenset(p) for p in PIECES]  # sequential: piece after piece
    assert _comparable(concurrent) == _comparable(sequential)
    assert len(con_backend.requests) == len(seq_backend.requests)
    assert sorted(r.model_dump_json() for r in con_backend.requests) == sorted(
        r.model_dump_json() for r in seq_backend.requests
    )


def test_per_piece_fallback_and_reasks_are_unchanged_by_concurrency() -> None:
    draft, backend, _ = _run(MIXED, 8, delays=REVERSED)
    fallback = [f for f in draft.flags if f.kind is FlagKind.FALLBACK]
    assert len(fallback) == 2
    # in the pieces' order: the heart's failed call, then the impression's new word
    assert "model call failed (backend_timeout)" in fallback[0].message
    assert "words its sources do not: tension" in fallback[1].message
    pleura = [st for st in draft.statements() if st.sources == ["D1", "D2"]]
    assert [(st.generator, st.fallback) for st in pleura] == [("model", False)]
    # The re-ask went with its own piece: its history holds that piece's first answer.
    reasks = [r for r in backend.requests if len(r.messages) > 2]
    assert len(reasks) == 1
    assert set(request_choices(reasks[0])) == set(PLEURA)
    assert reasks[0].messages[2].content == "{not json"
    for piece in (HEART, IMPRESSION):
        statements = [st for st in draft.statements() if st.sources == list(piece)]
        assert statements
        assert all(st.fallback and st.generator == "rules" for st in statements)


def test_concurrency_bound_is_respected() -> None:
    """Two at a time: two requests must meet (else the wait times out), a third never joins."""
    two_in = threading.Event()
    answer = keyed(GOOD)
    trackers: list[InFlight] = []

    def waiting(request: GenerationRequest) -> Answer:
        tracker = trackers[0]
        with tracker.lock:
            if tracker.now >= 2:
                two_in.set()
        if not two_in.wait(20):
            raise AssertionError("two pieces were never in flight together")
        time.sleep(0.1)  # time for a third request to arrive, were the bound not kept
        return answer(request)

    trackers.append(InFlight(waiting))
    backend = FakeBackend(trackers[0])
    draft = _draft(backend, 2)
    assert trackers[0].peak == 2
    assert len(backend.requests) == 3
    assert not [f for f in draft.flags if f.kind is FlagKind.FALLBACK]


def test_default_is_the_backends_concurrency() -> None:
    class ServerLike(FakeBackend):
        default_concurrency = 8

    sequential = InFlight(keyed(GOOD))
    _draft(FakeBackend(sequential), None)
    assert sequential.peak == 1  # FakeBackend, like an in-process model: one at a time

    together = InFlight(keyed(GOOD), meet=threading.Barrier(3, timeout=20))
    draft = _draft(ServerLike(together), None)
    assert together.peak == 3
    assert not [f for f in draft.flags if f.kind is FlagKind.FALLBACK]


def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least 1"):
        _draft(FakeBackend(keyed(GOOD)), 0)


def test_draft_concurrency_setting() -> None:
    from reportdraft.settings import Settings

    assert Settings.from_env({}).draft_concurrency is None
    assert Settings.from_env({"REPORTDRAFT_DRAFT_CONCURRENCY": "4"}).draft_concurrency == 4
    for bad in ("0", "-1", "x", "257"):
        with pytest.raises(ConfigurationError, match="REPORTDRAFT_DRAFT_CONCURRENCY"):
            Settings.from_env({"REPORTDRAFT_DRAFT_CONCURRENCY": bad})
