"""The API's drafting workers send a draft's pieces with the configured concurrency."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from reportdraft.api.worker import Drafter
from reportdraft.backends import FakeBackend
from reportdraft.backends.fake import keyed
from reportdraft.models import FlagKind
from reportdraft.settings import Settings
from tests.test_drafting_concurrency import GOOD, NOW, InFlight, _case


def _drafter(settings: Settings, tracker: InFlight) -> Drafter:
    state = SimpleNamespace(settings=settings, clock=lambda: NOW)
    return Drafter(state, backend_factory=lambda: FakeBackend(tracker))  # type: ignore[arg-type]


def test_worker_drafts_pieces_concurrently_as_configured() -> None:
    together = InFlight(keyed(GOOD), meet=threading.Barrier(3, timeout=20))
    draft = _drafter(Settings(draft_concurrency=3), together).draft(_case())
    assert together.peak == 3
    assert not [f for f in draft.flags if f.kind is FlagKind.FALLBACK]
    assert draft.provenance.backend == "fake"


def test_worker_default_is_the_backends() -> None:
    one_by_one = InFlight(keyed(GOOD))
    draft = _drafter(Settings(), one_by_one).draft(_case())
    assert one_by_one.peak == 1
    assert draft.provenance.backend == "fake"
