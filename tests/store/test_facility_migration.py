"""Migration 0002 on a database written by 0001: facilities backfilled, old keys fail closed.

Reproduce the old state: ``upgrade(db, "0001")``, insert rows the way 0001's code wrote
them (no facility columns), then upgrade to head. On the base commit the upgrade itself
works, but the old key keeps reading every report (GET /v1/reports answers 200) instead
of 403 ``key_not_scoped``, and there is no way to scope it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from reportdraft.store import Database, current_revision, head_revision, principals, upgrade
from reportdraft.store.tables import UTCDateTime
from tests.api.conftest import make_api
from tests.factories import case_dict
from tests.store.dbfixtures import BACKENDS, PG_URL, PgSchema, pg_unavailable

OLD_SECRET = "rdk_key-from-before-scoping"
OLD_KEY = "k-00000000000000c1"
ADMIN_SECRET = "rdk_admin-from-before-scoping"


@pytest.fixture(params=BACKENDS)
def at_0001(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database migrated only to revision 0001, once per backend."""
    schema: PgSchema | None = None
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        reason = pg_unavailable()
        if reason is not None:
            pytest.skip(reason)
        schema = PgSchema()
        db = Database(PG_URL, schema=schema.schema)
    try:
        assert upgrade(db, "0001") == "0001"
        yield db
    finally:
        db.dispose()
        if schema is not None:
            schema.drop()


def _old_case(accession: str, facility: str | None) -> dict[str, Any]:
    case = case_dict(accession_number=accession)
    if facility is not None:
        case["study"]["performing_facility"]["identifier"] = facility
    return case


def _insert_0001_rows(db: Database) -> None:
    """Two reports, a qa key, an admin key and a webhook, with 0001's columns only."""
    now = datetime.now(UTC)
    reports = sa.table(
        "reports",
        *(
            sa.column(name)
            for name in ("id", "accession", "priority", "state", "version", "critical_open")
        ),
        sa.column("case_doc", sa.JSON),
        sa.column("created_by"),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    keys = sa.table(
        "api_keys",
        *(sa.column(name) for name in ("id", "key_sha256", "role", "revoked")),
        sa.column("created_at", UTCDateTime()),
    )
    hooks = sa.table(
        "webhooks",
        *(sa.column(name) for name in ("id", "url", "secret", "active")),
        sa.column("events", sa.JSON),
        sa.column("created_at", UTCDateTime()),
    )
    with db.writer.begin() as conn:
        for rid, facility in (("r-old-facility", "FAC-OLD"), ("r-old-nowhere", None)):
            conn.execute(
                reports.insert().values(
                    id=rid,
                    accession=f"ACC-{rid}",
                    priority="routine",
                    state="queued",
                    version=1,
                    critical_open=False,
                    case_doc=_old_case(f"ACC-{rid}", facility),
                    created_by=OLD_KEY,
                    created_at=now,
                    updated_at=now,
                )
            )
        for key_id, secret, role in (
            (OLD_KEY, OLD_SECRET, "qa"),
            ("k-00000000000000d1", ADMIN_SECRET, "admin"),
        ):
            conn.execute(
                keys.insert().values(
                    id=key_id,
                    key_sha256=principals.key_hash(secret),
                    role=role,
                    revoked=False,
                    created_at=now,
                )
            )
        conn.execute(
            hooks.insert().values(
                id="wh-00000000000000e1",
                url="http://127.0.0.1:9/old",
                secret="s" * 20,
                active=True,
                events=["report.signed"],
                created_at=now,
            )
        )


def test_upgrade_backfills_facilities_and_old_keys_fail_closed_until_scoped(
    at_0001: Database,
) -> None:
    """0001 rows → head: report facility backfilled; the old qa key 403 until scoped.

    Probe on the base commit: after the upgrade, GET /v1/reports with the old key answers
    200 listing both reports (and PATCH /v1/admin/api-keys/{id} is 405).
    """
    db = at_0001
    _insert_0001_rows(db)
    assert upgrade(db) == head_revision() == current_revision(db)
    with db.read() as session:
        facilities = {
            row[0]: row[1] for row in session.execute(sa.text("SELECT id, facility FROM reports"))
        }
        hook_scope = session.execute(
            sa.text("SELECT facilities, all_facilities FROM webhooks")
        ).one()
        keys = {k.id: k for k in principals.list_api_keys(session)}
    assert facilities == {"r-old-facility": "FAC-OLD", "r-old-nowhere": None}
    assert bool(hook_scope[1]) is True  # existing subscriptions keep their alerts
    old = keys[OLD_KEY]
    assert old.facilities == frozenset()
    assert old.all_facilities is False
    assert not old.scope.assigned
    assert keys["k-00000000000000d1"].scope.assigned  # admin keys are unscoped by role

    client, _ = make_api(db, start_workers=False)
    headers = {"Authorization": f"Bearer {OLD_SECRET}"}
    admin = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    with client:
        for path in ("/v1/reports", "/v1/reports/r-old-facility", "/v1/communications/overdue"):
            refused = client.get(path, headers=headers)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.json()["error"]["code"] == "key_not_scoped"
        everything = client.get("/v1/reports", headers=admin).json()["items"]
        assert {i["id"] for i in everything} == {"r-old-facility", "r-old-nowhere"}
        listed = client.get("/v1/admin/api-keys", headers=admin).json()
        assert {k["id"]: k["scoped"] for k in listed} == {
            OLD_KEY: False,
            "k-00000000000000d1": True,
        }
        scoped = client.patch(
            f"/v1/admin/api-keys/{OLD_KEY}", json={"facilities": ["FAC-OLD"]}, headers=admin
        )
        assert scoped.status_code == 200, scoped.text
        visible = client.get("/v1/reports", headers=headers).json()["items"]
        assert [i["id"] for i in visible] == ["r-old-facility"]
        assert client.get("/v1/reports/r-old-nowhere", headers=headers).status_code == 404
        client.patch(f"/v1/admin/api-keys/{OLD_KEY}", json={"all_facilities": True}, headers=admin)
        visible = client.get("/v1/reports", headers=headers).json()["items"]
        assert {i["id"] for i in visible} == {"r-old-facility", "r-old-nowhere"}
