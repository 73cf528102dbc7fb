"""Facility scoping of patient data (issue 13, point 1), on SQLite and PostgreSQL.

Keys other than admin keys see only the reports of their facilities (the case's
``study.performing_facility.identifier``). Each test's docstring names the probe that
shows the old behaviour; on the base commit every one of them fails (the keys there have
no scope: any key reads, lists, edits and signs every facility's reports).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reportdraft.cli import main as cli
from reportdraft.errors import NotFoundError
from reportdraft.store import Database, outbox, principals, reports
from reportdraft.store.principals import Role
from reportdraft.store.tables import ApiKeyRow, AuditRow, DeliveryRow
from tests.api.conftest import Api, make_api
from tests.api.helpers import CRITICAL_DICTATION, FACILITY, a_case, create_drafted, seed_keys
from tests.store.dbfixtures import BACKENDS, close_database, open_database
from tests.store.samples import NOW, make_case

OTHER = "FAC-OTHER"
"""A second facility: the seeded keys (scoped to ``FACILITY``) must not see its reports."""

MISSING = "r-" + "0" * 32
"""A well-formed report id that does not exist (same length as a real one)."""


def _new_key(db: Database, role: Role, **scope: Any) -> tuple[str, dict[str, str]]:
    """The id and bearer headers of a new key of ``role`` with ``scope``."""
    rid = {Role.RADIOLOGIST: "dr-res", Role.ATTENDING: "dr-att"}.get(role)
    with db.write() as session:
        key, secret = principals.create_api_key(
            session, role=role, radiologist_id=rid, now=datetime.now(UTC), **scope
        )
    return key.id, {"Authorization": f"Bearer {secret}"}


def _key(db: Database, role: Role, **scope: Any) -> dict[str, str]:
    """Bearer headers of a new key of ``role`` with ``scope`` (facilities / all_facilities)."""
    return _new_key(db, role, **scope)[1]


def _case(accession: str, facility: str | None) -> dict[str, Any]:
    case = a_case(accession)
    if facility is None:
        del case["study"]["performing_facility"]["identifier"]
    else:
        case["study"]["performing_facility"]["identifier"] = facility
    return case


def _create(client: TestClient, headers: dict[str, str], case: dict[str, Any]) -> str:
    response = client.post("/v1/reports", json=case, headers=headers)
    assert response.status_code == 202, response.text
    rid: str = response.json()["id"]
    return rid


def _requests(rid: str) -> list[tuple[str, str, dict[str, Any] | None, dict[str, str]]]:
    """Every report endpoint, with a body that passes validation and a current-looking ETag."""
    now = datetime.now(UTC).isoformat()
    match = {"If-Match": '"2"'}
    base = f"/v1/reports/{rid}"
    return [
        ("GET", base, None, {}),
        (
            "PATCH",
            base,
            {"statement_edits": [{"section": "impression", "text": "No change."}]},
            match,
        ),
        ("POST", f"{base}/decisions", {"decisions": {"A1": "confirmed"}}, {}),
        ("POST", f"{base}/flags/F1/ack", {"reason": "Reviewed against the images."}, {}),
        (
            "POST",
            f"{base}/communications",
            {
                "finding_code": "pneumothorax",
                "recipient": {"name": "Dr. Ana Ortiz", "role": "ordering physician"},
                "method": "phone",
                "notified_at": now,
                "read_back": True,
            },
            {},
        ),
        ("POST", f"{base}/communications/C1/ack", {"read_back": True}, {}),
        ("POST", f"{base}/sign", {"status": "preliminary"}, match),
        ("POST", f"{base}/amend", {"reason": "Wrong side.", "statement_edits": []}, match),
        ("POST", f"{base}/addenda", {"text": "Addendum text."}, match),
        ("GET", f"{base}/redline", None, {}),
        ("GET", f"{base}/audit", None, {}),
        ("GET", f"{base}/pdf", None, {}),
        ("GET", f"{base}/fhir", None, {}),
        ("GET", f"{base}/hl7", None, {}),
    ]


def _answer(response: httpx.Response, rid: str) -> tuple[int, str, list[tuple[str, str]]]:
    """Status, body and headers with the report id blanked (the only allowed difference)."""
    headers = sorted((k, v.replace(rid, "<id>")) for k, v in response.headers.items())
    return response.status_code, response.text.replace(rid, "<id>"), headers


def test_another_facilitys_report_answers_exactly_like_a_missing_one(api: Api) -> None:
    """Key of FACILITY vs a drafted report of OTHER: 404, same body/headers as no report.

    Probe on the base commit: GET /v1/reports/{id of OTHER's report} with an attending key
    answers 200 with the patient's case; PATCH/sign answer 412 (confirming it exists),
    /audit and /redline 200, /pdf 409 naming the report's status.
    """
    c = api.client
    owner = _key(api.db, Role.WORKSTATION, facilities=[OTHER])
    report = create_drafted(c, owner, _case("ACC-OTHER", OTHER))
    rid = report["id"]
    with api.db.read() as session:
        audit_before = session.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.report_id == rid)
        )
    for role in ("radiologist", "attending", "qa", "workstation"):
        for method, path, body, extra in _requests(rid):
            hidden = c.request(method, path, json=body, headers=api.as_(role, **extra))
            if hidden.status_code == 403 and hidden.json()["error"]["code"] == "forbidden":
                continue  # the role may not call this endpoint at all (the role matrix)
            missing = c.request(
                method,
                path.replace(rid, MISSING),
                json=body,
                headers=api.as_(role, **extra),
            )
            assert hidden.status_code == 404, (role, method, path, hidden.text)
            assert hidden.json()["error"]["code"] == "not_found"
            assert _answer(hidden, rid) == _answer(missing, MISSING), (role, method, path)
    # the owner's facility key and an all-facilities key do see it
    qa_all = _key(api.db, Role.QA, all_facilities=True)
    for headers in (owner, qa_all, api.as_("admin")):
        assert c.get(f"/v1/reports/{rid}", headers=headers).status_code == 200
    with api.db.read() as session:
        stored = reports.get(session, rid)
        audit_after = session.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.report_id == rid)
        )
    assert stored.version == report["version"]  # nothing was written by the refused calls
    assert audit_after == audit_before


def test_listing_is_filtered_in_sql_and_a_hidden_cursor_is_unknown(api: Api) -> None:
    """A key lists only its facilities, page by page; a cursor of a hidden report is unknown.

    Probe on the base commit: GET /v1/reports with the workstation key lists the reports of
    every facility (and of cases naming none); ?cursor=<OTHER's report> answers 200.
    """
    c = api.client
    admin = api.as_("admin")
    mine = [_create(c, admin, _case("ACC-L1", FACILITY))]
    other = [_create(c, admin, _case("ACC-L2", OTHER))]
    mine.append(_create(c, admin, _case("ACC-L3", FACILITY)))
    other.append(_create(c, admin, _case("ACC-L4", OTHER)))
    nowhere = _create(c, admin, _case("ACC-L5", None))
    for role in ("workstation", "radiologist", "attending", "qa"):
        listed = c.get("/v1/reports", headers=api.as_(role)).json()
        assert [i["id"] for i in listed["items"]] == mine[::-1], role
    # limit=1: the newest report overall is hidden, yet the first page is full (SQL filter)
    ids, cursor = [], None
    while True:
        query = "/v1/reports?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = c.get(query, headers=api.as_("qa")).json()
        ids += [i["id"] for i in page["items"]]
        assert len(page["items"]) == 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == mine[::-1]
    unknown = c.get(f"/v1/reports?cursor={MISSING}", headers=api.as_("qa"))
    for hidden_id in (*other, nowhere):
        hidden = c.get(f"/v1/reports?cursor={hidden_id}", headers=api.as_("qa"))
        assert hidden.status_code == unknown.status_code == 422
        assert hidden.json() == unknown.json()
    everything = {*mine, *other, nowhere}
    qa_all = _key(api.db, Role.QA, all_facilities=True)
    for headers in (admin, qa_all):
        listed = c.get("/v1/reports", headers=headers).json()
        assert {i["id"] for i in listed["items"]} == everything
    two = _key(api.db, Role.QA, facilities=[FACILITY, OTHER])
    listed = c.get("/v1/reports", headers=two).json()
    assert {i["id"] for i in listed["items"]} == {*mine, *other}


def test_create_for_another_facility_is_refused_and_writes_nothing(api: Api) -> None:
    """A key creates reports only for its facilities; an idempotent replay stays in scope.

    Probe on the base commit: POST /v1/reports of a case of OTHER with the workstation key
    answers 202 and stores the report; a case naming no facility is stored too.
    """
    c = api.client
    ws = api.as_("workstation")
    forbidden = c.post("/v1/reports", json=_case("ACC-C1", OTHER), headers=ws)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "facility_forbidden"
    required = c.post("/v1/reports", json=_case("ACC-C2", None), headers=ws)
    assert required.status_code == 422
    assert required.json()["error"]["code"] == "facility_required"
    with api.db.read() as session:
        assert reports.count(session) == 0
    assert c.post("/v1/reports", json=_case("ACC-C3", FACILITY), headers=ws).status_code == 202
    anywhere = _key(api.db, Role.WORKSTATION, all_facilities=True)
    assert c.post("/v1/reports", json=_case("ACC-C4", None), headers=anywhere).status_code == 202
    # replay after the key was moved to another facility: refused, not the old report
    key_id, mover = _new_key(api.db, Role.WORKSTATION, facilities=[FACILITY])
    replay = {**mover, "Idempotency-Key": "move-1"}
    first = c.post("/v1/reports", json=_case("ACC-C5", FACILITY), headers=replay)
    assert first.status_code == 202
    scoped = c.patch(
        f"/v1/admin/api-keys/{key_id}", json={"facilities": [OTHER]}, headers=api.as_("admin")
    )
    assert scoped.status_code == 200, scoped.text
    again = c.post("/v1/reports", json=_case("ACC-C5", FACILITY), headers=replay)
    assert again.status_code == 403
    assert first.json()["id"] not in again.text


def test_store_replay_is_read_within_the_callers_facilities(api: Api) -> None:
    """``reports.create`` replays only a report visible within ``facilities``.

    Probe on the base commit: ``reports.create(..., facilities=...)`` is a TypeError (the
    replay path read any report).
    """
    database = api.db
    case = make_case("ACC-REPLAY")
    args: dict[str, Any] = {"case": case, "created_by": "k-1", "now": NOW}
    idem = {"idempotency_key": "k", "body_sha256": "h"}
    first = reports.create(database, **args, **idem, facilities=None)
    assert first.report.facility is None
    with pytest.raises(NotFoundError):
        reports.create(database, **args, **idem, facilities=frozenset({FACILITY}))
    again = reports.create(database, **args, **idem, facilities=None)
    assert again.report.id == first.report.id


@pytest.fixture(params=BACKENDS)
def clocked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Api, list[datetime]]]:
    """The service with a clock the test moves (``clock[0]``), once per database."""
    db, handle = open_database(request.param, tmp_path)
    clock = [datetime.now(UTC)]
    client, key = make_api(db, clock=lambda: clock[0], overdue_sweep_s=3600)
    try:
        with client:
            yield Api(client=client, db=db, keks=key, headers=seed_keys(db, key)), clock
    finally:
        close_database(db, handle)


def test_overdue_communications_list_is_filtered(clocked: tuple[Api, list[datetime]]) -> None:
    """GET /v1/communications/overdue lists only the key's facilities' critical results.

    Probe on the base commit: the attending key's overdue list names OTHER's report (and
    its accession number) as well as its own.
    """
    api, clock = clocked
    c = api.client
    ids = {}
    for facility in (FACILITY, OTHER):
        case = _case(f"ACC-CRIT-{facility}", facility)
        case["dictation"] = CRITICAL_DICTATION
        ids[facility] = create_drafted(c, api.as_("admin"), case)["id"]
    clock[0] += timedelta(days=2)
    for role in ("radiologist", "attending", "qa"):
        late = c.get("/v1/communications/overdue", headers=api.as_(role))
        assert late.status_code == 200, late.text
        assert {i["report_id"] for i in late.json()} == {ids[FACILITY]}, role
    everything = c.get("/v1/communications/overdue", headers=api.as_("admin")).json()
    assert {i["report_id"] for i in everything} == set(ids.values())


def test_webhook_events_go_only_to_subscriptions_covering_the_facility(api: Api) -> None:
    """An event about OTHER's report is queued for OTHER's and all-facility hooks only.

    Probe on the base commit: a subscription meant for FACILITY (no scope exists there)
    gets a delivery of report.drafted for OTHER's report.
    """
    c = api.client
    admin = api.as_("admin")
    hooks = {}
    for name, scope in (
        ("mine", {"facilities": [FACILITY]}),
        ("other", {"facilities": [OTHER]}),
        ("all", {"all_facilities": True}),
    ):
        r = c.post(
            "/v1/admin/webhooks",
            json={"url": "http://hooks.test/hook", "events": ["report.drafted"], **scope},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        assert r.json()["facilities"] == scope.get("facilities", [])
        hooks[name] = r.json()["id"]
    create_drafted(c, admin, _case("ACC-WH", OTHER))
    with api.db.read() as session:
        counts = {
            name: session.scalar(
                select(func.count()).select_from(DeliveryRow).where(DeliveryRow.webhook_id == hid)
            )
            for name, hid in hooks.items()
        }
    assert counts == {"mine": 0, "other": 1, "all": 1}


def test_emit_without_a_facility_reaches_only_all_facility_subscriptions(api: Api) -> None:
    """``outbox.emit(facility=None)``: only all-facility subscriptions get the event.

    Probe on the base commit: ``outbox.create_webhook`` takes no scope and ``emit`` no
    facility; every subscription wanting the event got it.
    """
    with api.db.write() as session:
        scoped = outbox.create_webhook(
            session,
            url="http://hooks.test/a",
            events=["report.signed"],
            scope=principals.facility_scope([FACILITY], False),
            now=NOW,
        )
        everywhere = outbox.create_webhook(
            session,
            url="http://hooks.test/b",
            events=["report.signed"],
            scope=principals.facility_scope(None, True),
            now=NOW,
        )
        assert outbox.emit(session, event="report.signed", data={}, facility=None, now=NOW) == 1
        assert outbox.emit(session, event="report.signed", data={}, facility=OTHER, now=NOW) == 1
        assert outbox.emit(session, event="report.signed", data={}, facility=FACILITY, now=NOW) == 2
        rows = session.scalars(select(DeliveryRow.webhook_id)).all()
    assert sorted(rows).count(everywhere.id) == 3
    assert list(rows).count(scoped.id) == 1


def test_unscoped_key_is_refused_until_an_admin_scopes_it(api: Api) -> None:
    """A key with no facility scope (as every key is after the upgrade): 403 key_not_scoped.

    Probe on the base commit: such a key reads every report (there is no scope and no
    PATCH /v1/admin/api-keys/{id}).
    """
    c = api.client
    rid = _create(c, api.as_("admin"), _case("ACC-U1", FACILITY))
    secret = "rdk_unscoped-test-key"
    with api.db.write() as session:
        session.add(
            ApiKeyRow(
                id="k-00000000000000aa",
                key_sha256=principals.key_hash(secret),
                role="qa",
                revoked=False,
                created_at=datetime.now(UTC),
            )
        )
    old = {"Authorization": f"Bearer {secret}"}
    for path in ("/v1/reports", f"/v1/reports/{rid}", f"/v1/reports/{MISSING}", "/v1/reports/x"):
        refused = c.get(path, headers=old)
        assert refused.status_code == 403, path
        error = refused.json()["error"]
        assert error["code"] == "key_not_scoped"
        assert "assign" in error["message"]
    listed = c.get("/v1/admin/api-keys", headers=api.as_("admin")).json()
    row = next(k for k in listed if k["id"] == "k-00000000000000aa")
    assert row["scoped"] is False
    assert not any("key" in k or "key_sha256" in k for k in listed)
    assert not any(secret in str(v) for k in listed for v in k.values())
    scoped = c.patch(
        "/v1/admin/api-keys/k-00000000000000aa",
        json={"facilities": [FACILITY]},
        headers=api.as_("admin"),
    )
    assert scoped.status_code == 200, scoped.text
    assert scoped.json()["scoped"] is True
    assert c.get(f"/v1/reports/{rid}", headers=old).status_code == 200


def test_admin_api_key_and_webhook_scope_validation(api: Api) -> None:
    """Creating a non-admin key or a subscription without a scope is refused (422).

    Probe on the base commit: POST /v1/admin/api-keys {"role": "qa"} answers 201 (an
    unscoped key); {"facilities": [...]} is an unknown field (422 invalid_request).
    """
    c = api.client
    admin = api.as_("admin")

    def post(path: str, body: dict[str, Any]) -> httpx.Response:
        return c.post(path, json=body, headers=admin)

    cases = [
        ({"role": "qa"}, "facility_scope_required"),
        ({"role": "qa", "facilities": []}, "facility_scope_required"),
        ({"role": "qa", "facilities": ["A"], "all_facilities": True}, "invalid_facility_scope"),
        ({"role": "qa", "facilities": [""]}, "invalid_request"),
        ({"role": "admin", "facilities": ["A"]}, "invalid_facility_scope"),
        ({"role": "admin", "all_facilities": True}, "invalid_facility_scope"),
    ]
    with api.db.read() as session:
        before = len(principals.list_api_keys(session))
    for body, code in cases:
        r = post("/v1/admin/api-keys", body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] == code, body
    with api.db.read() as session:
        assert len(principals.list_api_keys(session)) == before
    made = post("/v1/admin/api-keys", {"role": "qa", "facilities": ["B", "A", "A"]})
    assert made.status_code == 201, made.text
    assert made.json()["facilities"] == ["A", "B"]
    assert made.json()["all_facilities"] is False
    assert post("/v1/admin/api-keys", {"role": "admin"}).status_code == 201
    hook = {"url": "http://hooks.test/h", "events": ["report.signed"]}
    refused = post("/v1/admin/webhooks", hook)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "facility_scope_required"
    # PATCH: admin keys take no scope; unknown keys are 404; non-admins may not call it
    keys = c.get("/v1/admin/api-keys", headers=admin).json()
    admin_id = next(k["id"] for k in keys if k["role"] == "admin")
    r = c.patch(f"/v1/admin/api-keys/{admin_id}", json={"all_facilities": True}, headers=admin)
    assert r.status_code == 422
    r = c.patch("/v1/admin/api-keys/k-0123456789abcdef", json={"facilities": ["A"]}, headers=admin)
    assert r.status_code == 404
    qa_id = made.json()["id"]
    r = c.patch(f"/v1/admin/api-keys/{qa_id}", json={}, headers=admin)
    assert r.json()["error"]["code"] == "facility_scope_required"
    for role in ("workstation", "radiologist", "attending", "qa"):
        assert c.get("/v1/admin/api-keys", headers=api.as_(role)).status_code == 403
        r = c.patch(
            f"/v1/admin/api-keys/{qa_id}", json={"all_facilities": True}, headers=api.as_(role)
        )
        assert r.status_code == 403


def test_cli_apikey_create_scope_and_list(tmp_path: Path) -> None:
    """``reportdraft apikey create`` needs a scope; ``apikey scope`` assigns one.

    Probe on the base commit: ``reportdraft apikey create --role qa`` prints a key (an
    unscoped one); ``--facility`` is an unknown option and ``apikey scope`` does not exist.
    """
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["apikey", *args, "--database-url", url])

    refused = run("create", "--role", "qa")
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error [facility_scope_required]: ")
    assert len(refused.stderr.strip().splitlines()) == 1
    both = run("create", "--role", "qa", "--facility", "A", "--all-facilities")
    assert both.exit_code == 2
    assert "error [invalid_facility_scope]" in both.stderr
    db = Database(url)
    try:
        with db.read() as session:
            assert principals.list_api_keys(session) == []
        made = run("create", "--role", "qa", "--facility", "A", "--facility", "B")
        assert made.exit_code == 0, made.stderr
        assert made.stdout.startswith(principals.KEY_PREFIX)
        match = re.search(r"key id (k-[0-9a-f]{16})", made.stderr)
        assert match is not None
        key_id = match.group(1)
        with db.read() as session:
            (key,) = principals.list_api_keys(session)
        assert key.facilities == frozenset({"A", "B"})
        rescoped = run("scope", key_id, "--all-facilities")
        assert rescoped.exit_code == 0, rescoped.stderr
        with db.read() as session:
            (key,) = principals.list_api_keys(session)
        assert key.all_facilities
        assert not key.facilities
        assert run("scope", key_id).exit_code == 2
        unknown = run("scope", "k-0000000000000000", "--facility", "A")
        assert unknown.exit_code == 2
        assert "error [not_found]" in unknown.stderr
        listed = run("list")
        assert listed.exit_code == 0
        assert key_id in listed.stdout
        assert "all facilities" in listed.stdout
        assert principals.KEY_PREFIX not in listed.stdout
    finally:
        db.dispose()
