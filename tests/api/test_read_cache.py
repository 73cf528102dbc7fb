"""Report reads answered from the per-process body cache are never stale and stay scoped.

Two apps on one database (own engines, like two ``serve`` processes): a report read and
cached by one app and then changed through the other reads back changed at once; a key of
another facility still gets 404 for a cached report; the body is the one the model gives.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reportdraft.api import service
from reportdraft.api.read_cache import ReadCache
from reportdraft.store import Database, principals, reports
from reportdraft.store.principals import Role
from tests.api.conftest import make_api
from tests.api.helpers import a_case, create_drafted, seed_keys
from tests.store.dbfixtures import BACKENDS, PG_URL, PgSchema, close_database, open_database


def _second_engine(db: Database, handle: object) -> Database:
    if isinstance(handle, PgSchema):
        return Database(PG_URL, schema=handle.schema)
    return Database(db.engine.url.render_as_string(hide_password=False))


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_read_after_another_processs_write_is_current(kind: str, tmp_path: Path) -> None:
    db, handle = open_database(kind, tmp_path)
    other = _second_engine(db, handle)
    writer, keks = make_api(db)
    reader, _ = make_api(other, start_workers=False)
    try:
        with writer, reader:
            keys = seed_keys(db, keks)
            report = create_drafted(writer, keys["workstation"], a_case())
            rid = report["id"]
            first = reader.get(f"/v1/reports/{rid}", headers=keys["qa"])
            again = reader.get(f"/v1/reports/{rid}", headers=keys["qa"])
            assert first.status_code == again.status_code == 200
            assert first.content == again.content
            assert first.headers["ETag"] == again.headers["ETag"]
            cache = reader.app.state.rd.reads  # type: ignore[attr-defined]
            assert cache.get(rid, int(first.headers["ETag"].strip('"'))) == first.content

            changed = writer.post(
                f"/v1/reports/{rid}/decisions",
                json={"decisions": {"A1": "rejected"}},
                headers=keys["attending"],
            )
            assert changed.status_code == 200, changed.text
            after = reader.get(f"/v1/reports/{rid}", headers=keys["qa"])
            assert after.headers["ETag"] == changed.headers["ETag"] != first.headers["ETag"]
            assert '"rejected"' in after.text
            assert '"rejected"' not in first.text

            # The body is the report as the scoped loader and the response model give it.
            with other.read() as session:
                stored = reports.get(session, rid)
            assert after.json() == json.loads(service.to_out(stored).model_dump_json())
    finally:
        other.dispose()
        close_database(db, handle)


def test_a_cached_report_stays_invisible_to_another_facility(tmp_path: Path) -> None:
    db, handle = open_database("sqlite", tmp_path)
    client, keks = make_api(db)
    try:
        with client:
            keys = seed_keys(db, keks)
            with db.write() as session:
                _, secret = principals.create_api_key(
                    session, role=Role.QA, facilities=["FAC-ELSEWHERE"], now=datetime.now(UTC)
                )
            rid = create_drafted(client, keys["workstation"], a_case())["id"]
            assert client.get(f"/v1/reports/{rid}", headers=keys["qa"]).status_code == 200
            outsider = client.get(
                f"/v1/reports/{rid}", headers={"Authorization": f"Bearer {secret}"}
            )
            missing = client.get("/v1/reports/r-nothing", headers=keys["qa"])
            assert outsider.status_code == missing.status_code == 404
            assert outsider.json()["error"]["code"] == missing.json()["error"]["code"]
    finally:
        close_database(db, handle)


def test_cache_answers_only_the_version_it_holds_and_evicts_the_oldest() -> None:
    cache = ReadCache(entries=2)
    cache.put("a", 1, b"A1")
    assert cache.get("a", 1) == b"A1"
    assert cache.get("a", 2) is None
    cache.put("b", 1, b"B1")
    cache.get("a", 1)  # "a" used last: "b" is the oldest now
    cache.put("c", 1, b"C1")
    assert cache.get("b", 1) is None
    assert cache.get("a", 1) == b"A1"
    assert cache.get("c", 1) == b"C1"
    cache.put("a", 2, b"A2")
    assert cache.get("a", 1) is None
    assert cache.get("a", 2) == b"A2"
