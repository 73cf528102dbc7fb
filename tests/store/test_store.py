"""The store on SQLite and PostgreSQL: migrations, reports, idempotency, ETags, queue."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text, update

from reportdraft.errors import InputError, NotFoundError
from reportdraft.models import Priority
from reportdraft.store import Database, audit_trail, current_revision, head_revision, jobs, reports
from reportdraft.store.tables import AuditRow, Base, JobRow, ReportRow
from tests.store.samples import NOW, make_case, make_draft


def test_migrations_reach_head_and_match_the_orm(database: Database) -> None:
    assert current_revision(database) == head_revision()
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_twice_is_a_no_op(database: Database) -> None:
    from reportdraft.store import upgrade

    assert upgrade(database) == head_revision()


def test_create_and_read_back_validated_models(database: Database) -> None:
    case = make_case("ACC-RT", "stat")
    created = reports.create(database, case=case, created_by="k-1", now=NOW)
    assert created.created
    with database.read() as session:
        stored = reports.get(session, created.report.id)
        queued = jobs.for_report(session, stored.id)
    assert stored.case == case
    assert stored.state == reports.QUEUED
    assert stored.priority is Priority.STAT
    assert stored.version == 1
    assert stored.etag == '"1"'
    assert stored.created_at == NOW
    assert stored.created_at.tzinfo is not None
    assert [(j.state, j.priority) for j in queued] == [(jobs.QUEUED, 0)]


def test_unknown_report_is_not_found(database: Database) -> None:
    with database.read() as session, pytest.raises(NotFoundError):
        reports.get(session, "r-missing")


def test_idempotent_create_returns_the_first_report(database: Database) -> None:
    case = make_case("ACC-IDEM")
    first = reports.create(
        database, case=case, created_by="k-1", now=NOW, idempotency_key="abc", body_sha256="h1"
    )
    again = reports.create(
        database, case=case, created_by="k-1", now=NOW, idempotency_key="abc", body_sha256="h1"
    )
    other_key_owner = reports.create(
        database, case=case, created_by="k-2", now=NOW, idempotency_key="abc", body_sha256="h1"
    )
    assert first.created
    assert not again.created
    assert other_key_owner.created
    assert again.report.id == first.report.id != other_key_owner.report.id
    with pytest.raises(reports.IdempotencyKeyReused):
        reports.create(
            database, case=case, created_by="k-1", now=NOW, idempotency_key="abc", body_sha256="h2"
        )
    with database.read() as session:
        assert reports.count(session) == 2


def test_concurrent_idempotent_creates_make_one_report(database: Database) -> None:
    case = make_case("ACC-RACE")
    results: list[reports.Created] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(12)

    def create() -> None:
        barrier.wait()
        try:
            results.append(
                reports.create(
                    database,
                    case=case,
                    created_by="k-1",
                    now=NOW,
                    idempotency_key="same",
                    body_sha256="h",
                )
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r.report.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    with database.read() as session:
        assert reports.count(session) == 1
        assert len(jobs.for_report(session, results[0].report.id)) == 1


def test_save_is_conditional_on_the_version(database: Database) -> None:
    created = reports.create(database, case=make_case(), created_by="k", now=NOW)
    rid = created.report.id
    draft = make_draft(created.report.case)
    with database.write() as session:
        assert reports.save(session, rid, expected_version=1, now=NOW, draft=draft) == 2
    with pytest.raises(reports.StaleVersion), database.write() as session:
        reports.save(session, rid, expected_version=1, now=NOW, state="draft")
    with pytest.raises(NotFoundError), database.write() as session:
        reports.save(session, "r-nope", expected_version=1, now=NOW, state="draft")
    with database.read() as session:
        stored = reports.get(session, rid)
    assert stored.version == 2
    assert stored.draft == draft
    assert stored.state == reports.QUEUED


def test_concurrent_conditional_saves_exactly_one_wins(database: Database) -> None:
    rid = reports.create(database, case=make_case(), created_by="k", now=NOW).report.id
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def save(n: int) -> None:
        barrier.wait()
        try:
            with database.write() as session:
                reports.save(session, rid, expected_version=1, now=NOW, state=f"s{n}")
                audit_trail.append(session, report_id=rid, event="test.save", actor="k", at=NOW)
            outcomes.append("ok")
        except reports.StaleVersion:
            outcomes.append("stale")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["stale"] * 7
    with database.read() as session:
        chain = audit_trail.entries(session, rid)
    assert [e.event for e in chain] == ["report.created", "test.save"]
    assert audit_trail.verify_chain(chain) is None


def test_list_filters_and_pages(database: Database) -> None:
    for n in range(5):
        reports.create(
            database,
            case=make_case(f"ACC-L{n}", "stat" if n % 2 else "routine"),
            created_by="k",
            now=NOW + timedelta(seconds=n),
        )
    with database.read() as session:
        stat = reports.list_reports(session, priority=Priority.STAT)
        by_acc = reports.list_reports(session, accession="ACC-L3")
        first = reports.list_reports(session, limit=2)
        second = reports.list_reports(session, limit=2, cursor=first.next_cursor)
        third = reports.list_reports(session, limit=2, cursor=second.next_cursor)
        with pytest.raises(InputError):
            reports.list_reports(session, cursor="r-unknown")
    assert sorted(r.accession for r in stat.items) == ["ACC-L1", "ACC-L3"]
    assert [r.accession for r in by_acc.items] == ["ACC-L3"]
    pages = [r.accession for p in (first, second, third) for r in p.items]
    assert pages == ["ACC-L4", "ACC-L3", "ACC-L2", "ACC-L1", "ACC-L0"]
    assert third.next_cursor is None


def test_jobs_are_claimed_stat_first_then_by_arrival(database: Database) -> None:
    order = ["routine", "routine", "stat", "routine", "stat"]
    ids = [
        reports.create(database, case=make_case(f"ACC-Q{n}", p), created_by="k", now=NOW).report.id
        for n, p in enumerate(order)
    ]
    claimed = []
    while (job := jobs.claim(database, worker="w:1:a", now=NOW, lease_s=60)) is not None:
        claimed.append(job.report_id)
    assert claimed == [ids[2], ids[4], ids[0], ids[1], ids[3]]


def test_concurrent_claims_never_share_a_job(database: Database) -> None:
    for n in range(20):
        reports.create(database, case=make_case(f"ACC-C{n}"), created_by="k", now=NOW)
    taken: list[int] = []
    lock = threading.Lock()

    def work(w: int) -> None:
        while (job := jobs.claim(database, worker=f"w:{w}:x", now=NOW, lease_s=60)) is not None:
            with lock:
                taken.append(job.id)
            with database.write() as session:
                assert jobs.finish(session, job, now=NOW)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 20 == len(set(taken))
    with database.read() as session:
        assert jobs.counts(session) == {jobs.DONE: 20}


def test_abandoned_jobs_are_requeued_and_poison_jobs_fail(database: Database) -> None:
    rid = reports.create(database, case=make_case("ACC-AB"), created_by="k", now=NOW).report.id
    job = jobs.claim(database, worker="w:1:a", now=NOW, lease_s=30)
    assert job is not None
    assert jobs.requeue_abandoned(database, now=NOW + timedelta(seconds=10)) == []
    assert jobs.requeue_abandoned(database, now=NOW + timedelta(seconds=31)) == [job.id]
    # the first worker lost its lease: it may no longer finish the job
    with database.write() as session:
        assert not jobs.finish(session, job, now=NOW)
    for _ in range(jobs.MAX_ATTEMPTS - 1):
        assert jobs.claim(database, worker="w:1:a", now=NOW, lease_s=1) is not None
        jobs.requeue_abandoned(database, now=NOW + timedelta(seconds=5))
    with database.read() as session:
        row = session.scalars(select(JobRow).where(JobRow.report_id == rid)).one()
        report = reports.get(session, rid)
    assert row.state == jobs.FAILED
    assert row.attempts == jobs.MAX_ATTEMPTS
    assert report.state == reports.FAILED
    assert report.error_code == "drafting_crashed"


def test_job_of_a_dead_local_process_is_requeued_at_once(database: Database) -> None:
    import socket
    import subprocess
    import sys

    reports.create(database, case=make_case("ACC-DEAD"), created_by="k", now=NOW)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    worker = f"{socket.gethostname()}:{dead.stdout.strip()}:zz"
    job = jobs.claim(database, worker=worker, now=NOW, lease_s=3600)
    assert job is not None
    assert jobs.requeue_abandoned(database, now=NOW) == [job.id]


def test_audit_chain_detects_edits_and_deletions(database: Database) -> None:
    rid = reports.create(database, case=make_case("ACC-AU"), created_by="k", now=NOW).report.id
    with database.write() as session:
        for n in range(3):
            audit_trail.append(session, report_id=rid, event="x", actor="k", at=NOW, data={"n": n})
    with database.read() as session:
        assert audit_trail.verify_all(session) == {}
    with database.write() as session:
        session.execute(
            update(AuditRow)
            .where(AuditRow.report_id == rid, AuditRow.seq == 3)
            .values(data={"n": 99})
        )
    with database.read() as session:
        problem = audit_trail.verify_chain(audit_trail.entries(session, rid))
    assert problem is not None
    assert "entry 3" in problem
    assert "altered" in problem
    with database.write() as session:
        session.execute(
            text("DELETE FROM audit_events WHERE report_id = :r AND seq = 2"), {"r": rid}
        )
    with database.read() as session:
        problems = audit_trail.verify_all(session)
    assert "missing" in problems[rid]


def test_utc_timestamps_survive_a_round_trip(database: Database) -> None:
    from datetime import timezone

    local = NOW.astimezone(timezone(timedelta(hours=-5)))
    rid = reports.create(database, case=make_case(), created_by="k", now=local).report.id
    with database.read() as session:
        row = session.get(ReportRow, rid)
        assert row is not None
        assert row.created_at == NOW
        assert row.created_at.utcoffset() == timedelta(0)


def test_database_rejects_unknown_urls() -> None:
    from reportdraft.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        Database("mysql://x@y/z")
    with pytest.raises(ConfigurationError):
        Database("sqlite:///x.db", schema="s")
