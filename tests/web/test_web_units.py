"""The review pages without a browser: clocks, the worklist query on both databases,
sessions and CSRF, the sign dialog's dry run, the demo seed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from reportdraft.api import service
from reportdraft.api.auth import authenticate_key
from reportdraft.models import Priority
from reportdraft.models.report import ReportStatus
from reportdraft.store import Database, principals, reports
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey
from reportdraft.web import views
from reportdraft.web.demo_cases import example_cases, seed_demo
from reportdraft.web.pages import install
from reportdraft.web.sessions import SessionStore, csrf_ok
from tests.api.conftest import make_api
from tests.api.helpers import CRITICAL_DICTATION, a_case, create_drafted, seed_keys
from tests.store.dbfixtures import BACKENDS, close_database, open_database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes", "priority", "level", "word"),
    [
        (5, Priority.STAT, "ok", "on time"),
        (22, Priority.STAT, "ok", "on time"),
        (23, Priority.STAT, "near", "due soon"),
        (30, Priority.STAT, "over", "overdue"),
        (60, Priority.ROUTINE, "ok", "on time"),
        (1080, Priority.ROUTINE, "near", "due soon"),
        (1440, Priority.ROUTINE, "over", "overdue"),
    ],
)
def test_clock_levels(minutes: int, priority: Priority, level: str, word: str) -> None:
    clock = views.clock(NOW - timedelta(minutes=minutes), priority, NOW, 1440)
    assert (clock.level, clock.word, clock.minutes) == (level, word, minutes)


def test_clock_text() -> None:
    assert views.clock(NOW - timedelta(minutes=65), Priority.STAT, NOW, 1440).text == (
        "1 h 05 min / 30 min"
    )


def test_parse_notified() -> None:
    assert views.parse_notified("2026-12-01 11:40", NOW) == datetime(
        2026, 12, 1, 11, 40, tzinfo=UTC
    )
    assert views.parse_notified("11:50", NOW) == datetime(2026, 12, 1, 11, 50, tzinfo=UTC)
    assert views.parse_notified("23:50", NOW) == datetime(2026, 11, 30, 23, 50, tzinfo=UTC)
    with pytest.raises(ValueError):
        views.parse_notified("yesterday", NOW)


def test_dictation_segments_cover_the_raw_text() -> None:
    raw = "Findings colon the lungs are clear period impression colon normal period"
    segments = views.dictation_segments(raw)
    assert "".join(s.text for s in segments) == raw
    assert [s.sentence for s in segments if s.sentence] == ["D1", "D2"]


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_session_store_rotation_idle_age_and_csrf(database: Database) -> None:
    clock = _Clock()
    store = SessionStore(database, idle_s=60.0, max_age_s=600.0, clock=clock)
    anonymous = store.new()
    assert csrf_ok(anonymous, anonymous.csrf)
    other = "y" if anonymous.csrf.startswith("x") else "x"  # a token one character off
    assert not csrf_ok(anonymous, other + anonymous.csrf[1:])
    assert not csrf_ok(anonymous, None)
    assert not csrf_ok(None, anonymous.csrf)
    signed = store.new(key_sha256=principals.key_hash("rdk_secret"))
    assert signed.id != anonymous.id
    assert signed.csrf != anonymous.csrf
    clock.now += 59
    found = store.get(signed.id)
    assert found is not None
    assert found.key_sha256 == signed.key_sha256
    clock.now += 59  # used 59 s ago: still live, and its use was recorded
    assert store.get(signed.id) is not None
    clock.now += 61  # idle longer than a minute: ended
    assert store.get(signed.id) is None
    assert store.get(signed.id) is None
    aging = store.new(key_sha256="0" * 64)
    for _ in range(11):  # used every 55 s, but no session outlives max_age_s
        clock.now += 55
        last = store.get(aging.id)
    assert last is None
    store.drop(anonymous.id)
    assert store.get(anonymous.id) is None
    assert store.get("") is None
    assert store.get(None) is None


def test_a_flood_of_anonymous_sessions_signs_nobody_out(database: Database) -> None:
    store = SessionStore(database, max_sessions=3)
    signed = store.new(key_sha256="a" * 64)
    anonymous = [store.new() for _ in range(6)]
    assert store.get(signed.id) is not None
    assert sum(store.get(s.id) is not None for s in anonymous) == 2
    assert store.get(anonymous[-1].id) is not None  # the newest anonymous one is kept


def test_sessions_are_shared_by_processes_and_hold_no_secret(database: Database) -> None:
    """Two stores on one database are two ``serve`` workers: a browser signed in on one
    is signed in on the other, its flash line follows it, and sign-out ends it for both.
    The rows hold neither the session id nor the API key."""
    first, second = SessionStore(database), SessionStore(database)
    secret = "rdk_" + "s" * 40
    session = first.new(key_sha256=principals.key_hash(secret))
    seen = second.get(session.id)
    assert seen is not None
    assert (seen.csrf, seen.key_sha256) == (session.csrf, principals.key_hash(secret))
    first.flash(session, "Signed preliminary.")
    again = second.get(session.id)
    assert again is not None
    assert second.take_flash(again) == ["Signed preliminary."]
    later = first.get(session.id)
    assert later is not None
    assert later.flash == []
    with database.read() as tx:
        rows = tx.execute(text("SELECT * FROM web_sessions")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert session.id not in stored
    assert secret not in stored
    second.drop(session.id)
    assert first.get(session.id) is None


@pytest.fixture(params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestClient, Database, dict[str, dict[str, str]]]]:
    db, handle = open_database(request.param, tmp_path)
    client, keks = make_api(db)
    install(client.app)  # type: ignore[arg-type]
    try:
        with client:
            yield client, db, seed_keys(db, keks)
    finally:
        close_database(db, handle)


def test_worklist_query_on_both_databases(
    served: tuple[TestClient, Database, dict[str, dict[str, str]]],
) -> None:
    client, db, headers = served
    routine = create_drafted(client, headers["workstation"], a_case("ACC-W-1"))
    stat_case = a_case("ACC-W-2", priority="stat")
    stat_case["dictation"] = CRITICAL_DICTATION
    stat = create_drafted(client, headers["workstation"], stat_case)
    other = a_case("ACC-W-3")
    other["study"]["performing_facility"]["identifier"] = "FAC-ELSEWHERE"
    create_drafted(client, headers["admin"], other)
    with db.read() as session:
        entries = reports.worklist(session, facilities=frozenset({"FAC-API"}))
        everything = reports.worklist(session, facilities=None)
        signed_only = reports.worklist(
            session, facilities=frozenset({"FAC-API"}), states=reports.SIGNED_STATES
        )
    assert [e.accession for e in entries] == ["ACC-W-2", "ACC-W-1"]  # STAT first
    assert len(everything) == 3
    assert signed_only == []
    first = entries[0]
    assert first.id == stat["id"]
    assert first.priority is Priority.STAT
    assert first.modality == "XR"
    assert first.procedure == "XR Chest 2 Views"
    assert first.patient == "Doe, Jan"
    assert first.acquired_at == datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    assert first.alerts >= 1
    assert first.critical_open
    flags = len(stat["draft"]["flags"])
    assert first.open_flags == flags
    assert entries[1].id == routine["id"]
    # acknowledging a flag through the API lowers the count
    if flags:
        flag_id = stat["draft"]["flags"][0]["id"]
        r = client.post(
            f"/v1/reports/{stat['id']}/flags/{flag_id}/ack",
            json={"reason": "Reviewed against the images."},
            headers=headers["attending"],
        )
        assert r.status_code == 200, r.text
        with db.read() as session:
            again = reports.worklist(session, facilities=frozenset({"FAC-API"}))
        assert again[0].open_flags == flags - 1


def test_sign_problems_is_a_dry_run(
    served: tuple[TestClient, Database, dict[str, dict[str, str]]],
) -> None:
    client, db, headers = served
    body = create_drafted(client, headers["workstation"], a_case("ACC-DRY"))
    state = client.app.state.rd  # type: ignore[attr-defined]

    class FakeRequest:
        app = client.app

        class state:  # noqa: N801 - mimics starlette's request.state
            pass

    attending = authenticate_key(FakeRequest(), headers["attending"]["Authorization"][7:])  # type: ignore[arg-type]
    resident = authenticate_key(FakeRequest(), headers["radiologist"]["Authorization"][7:])  # type: ignore[arg-type]
    with db.read() as session:
        stored = service.load_report(session, attending, body["id"])
    assert stored.report is not None
    codes = [
        c for c, _ in service.sign_problems(state, attending, stored.report, ReportStatus.FINAL)
    ]
    assert codes == ["ai_finding_pending"]
    problems = service.sign_problems(state, resident, stored.report, ReportStatus.FINAL)
    assert problems == [("forbidden", "only an attending key may sign a final report")]
    preliminary = service.sign_problems(state, resident, stored.report, ReportStatus.PRELIMINARY)
    assert [c for c, _ in preliminary] == ["ai_finding_pending"]
    with db.read() as session:
        after = service.load_report(session, attending, body["id"])
    assert after.version == stored.version  # nothing stored
    assert after.state == "draft"


def test_seed_demo_is_idempotent(tmp_path: Path) -> None:
    db, handle = open_database("sqlite", tmp_path)
    keks = KekRing(KeyEncryptionKey.generate())
    try:
        first = seed_demo(db, keks, NOW)
        second = seed_demo(db, keks, NOW)
        assert len(first.queued) == len(example_cases()) > 0
        assert second.queued == []
        assert sorted(second.skipped) == sorted(first.queued)
        with db.read() as session:
            key = principals.authenticate(session, second.api_key)
            assert key is not None
            assert key.all_facilities
            assert key.radiologist_id == "demo-attending"
            assert reports.count(session) == len(first.queued)
    finally:
        close_database(db, handle)
