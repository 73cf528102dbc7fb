"""Critical-result communication records through the API tell the truth (issue 13, point 4).

Each test's docstring says what the same request through
``POST /v1/reports/{id}/communications`` returned on the base commit (473b706); reproduce
with ``python -m pytest tests/api/test_communications.py -q`` on that commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reportdraft.api import service
from reportdraft.critical import DEFAULT_POLICY
from reportdraft.errors import ConfigurationError
from reportdraft.resources import data_dir
from reportdraft.settings import Settings
from tests.api.conftest import Api, make_api
from tests.api.helpers import FACILITY, a_case, create_drafted, seed_keys
from tests.store.dbfixtures import close_database, open_database

SMALL_PTX = (
    "Findings colon small right apical pneumothorax period the lungs are otherwise clear "
    "period impression colon small right pneumothorax period"
)
"""A dictation with one alerting Category 2 finding (pneumothorax) and no call."""

CALL = {"recipient": {"name": "Ana Ortiz", "role": "ordering physician"}, "method": "phone"}


@dataclass
class Clocked(Api):
    """An API whose service clock runs ``offset`` ahead of the real one."""

    offset: list[timedelta] | None = None

    def now(self) -> datetime:
        """The service clock now."""
        return datetime.now(UTC) + (self.offset or [timedelta(0)])[0]


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[Clocked]:
    """The service on SQLite with a movable clock and a 0 s clock-skew allowance."""
    yield from _clocked(tmp_path, clock_skew_s=0)


@pytest.fixture
def clocked_default(tmp_path: Path) -> Iterator[Clocked]:
    """The service on SQLite with a movable clock and the default skew allowance."""
    yield from _clocked(tmp_path)


def _clocked(tmp_path: Path, **settings: Any) -> Iterator[Clocked]:
    db, handle = open_database("sqlite", tmp_path)
    offset = [timedelta(0)]
    client, keks = make_api(
        db,
        Settings(backend="rules", database_url="sqlite://", **settings),
        clock=lambda: datetime.now(UTC) + offset[0],
    )
    try:
        with client:
            yield Clocked(
                client=client, db=db, keks=keks, headers=seed_keys(db, keks), offset=offset
            )
    finally:
        close_database(db, handle)


def _report(api: Api, accession: str, dictation: str = SMALL_PTX) -> dict[str, Any]:
    case = a_case(accession)
    case["dictation"] = dictation
    return create_drafted(api.client, api.headers["workstation"], case)


def _alerting(report: dict[str, Any]) -> list[str]:
    return sorted({m["finding_code"] for m in report["current"]["critical"] if m["alert"]})


def _post(api: Api, report: dict[str, Any], role: str, **body: Any) -> Any:
    body.setdefault("finding_code", _alerting(report)[0])
    return api.client.post(
        f"/v1/reports/{report['id']}/communications", json=body, headers=api.headers[role]
    )


def _code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


def _record(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    (record,) = response.json()["current"]["communications"]
    return dict(record)


# --- times ------------------------------------------------------------------------------


def test_notified_at_in_the_future_is_refused(clocked_default: Clocked) -> None:
    """Base commit: notified_at = now + 1 h → 200 and the record kept the invented time."""
    api = clocked_default
    report = _report(api, "ACC-FUT-1")
    ahead = (api.now() + timedelta(hours=1)).isoformat()
    refused = _post(api, report, "attending", **CALL, notified_at=ahead, read_back=True)
    assert (refused.status_code, _code(refused)) == (422, "notified_in_future")
    assert (
        api.client.get(f"/v1/reports/{report['id']}", headers=api.headers["qa"]).json()["current"][
            "communications"
        ]
        == []
    )
    within = (api.now() + timedelta(seconds=60)).isoformat()  # default allowance: 120 s
    assert _post(api, report, "attending", **CALL, notified_at=within, read_back=True).is_success


def test_clock_skew_allowance_is_configurable(clocked: Clocked) -> None:
    """With ``clock_skew_s=0`` a time 60 s ahead of the service clock is refused."""
    report = _report(clocked, "ACC-SKEW-1")
    ahead = (clocked.now() + timedelta(seconds=60)).isoformat()
    refused = _post(clocked, report, "attending", **CALL, notified_at=ahead, read_back=True)
    assert (refused.status_code, _code(refused)) == (422, "notified_in_future")


def test_clock_skew_setting_from_the_environment() -> None:
    """``REPORTDRAFT_CLOCK_SKEW_S`` sets the allowance; nonsense fails at start-up."""
    assert Settings.from_env({}).clock_skew_s == 120.0
    assert Settings.from_env({"REPORTDRAFT_CLOCK_SKEW_S": "30"}).clock_skew_s == 30.0
    for bad in ("soon", "-5", "nan", "86400"):
        with pytest.raises(ConfigurationError, match="REPORTDRAFT_CLOCK_SKEW_S"):
            Settings.from_env({"REPORTDRAFT_CLOCK_SKEW_S": bad})


def test_acknowledged_at_in_the_future_is_refused(clocked_default: Clocked) -> None:
    """Base commit: an acknowledgement dated tomorrow → 200."""
    api = clocked_default
    report = _report(api, "ACC-ACK-1")
    record = _record(
        _post(api, report, "attending", **CALL, notified_at=api.now().isoformat(), read_back=True)
    )
    tomorrow = (api.now() + timedelta(days=1)).isoformat()
    refused = api.client.post(
        f"/v1/reports/{report['id']}/communications/{record['id']}/ack",
        json={"acknowledged_at": tomorrow},
        headers=api.headers["workstation"],
    )
    assert (refused.status_code, _code(refused)) == (422, "acknowledged_in_future")


def test_notified_before_the_study_was_acquired_is_refused(sqlite_api: Api) -> None:
    """Base commit: 422 ``invalid_input`` from the model ("notified_at is before
    identified_at"), which named no rule; now the stable code says what is wrong."""
    report = _report(sqlite_api, "ACC-EARLY-1")
    acquired = datetime.fromisoformat(report["current"]["case"]["study"]["acquisition_time"])
    early = (acquired - timedelta(hours=1)).isoformat()
    refused = _post(sqlite_api, report, "attending", **CALL, notified_at=early, read_back=True)
    assert (refused.status_code, _code(refused)) == (422, "notified_before_acquisition")


def _ich_case(accession: str) -> dict[str, Any]:
    case: dict[str, Any] = json.loads((data_dir("examples") / "ct_head_ich.json").read_text())
    case["study"]["accession_number"] = accession
    case["study"]["performing_facility"]["identifier"] = FACILITY
    return case


def test_ct_head_ich_call_before_the_draft_is_identified_from_the_dictation(api: Api) -> None:
    """The radiologist phoned at 14:22 (local), then dictated "these findings were
    communicated by telephone to doctor maria alvarez ... at 2 22 pm".

    Base commit: 422 ``invalid_input`` (identified_at was the draft's creation, days
    after the call, so the model refused notified_at < identified_at). Runs on SQLite and
    PostgreSQL.
    """
    report = create_drafted(api.client, api.headers["workstation"], _ich_case("ICH-API-1"))
    assert "intracranial_hemorrhage" in _alerting(report)
    call = "2026-11-27T14:22:00-08:00"
    response = _post(
        api,
        report,
        "attending",
        finding_code="intracranial_hemorrhage",
        recipient={"name": "Maria Alvarez, MD", "role": "emergency physician"},
        method="phone",
        notified_at=call,
        read_back=True,
    )
    record = _record(response)
    assert record["identified_from"] == "dictation"
    identified = datetime.fromisoformat(record["identified_at"])
    notified = datetime.fromisoformat(record["notified_at"])
    assert identified <= notified == datetime.fromisoformat(call)
    assert identified < datetime.fromisoformat(
        report["current"]["draft"]["provenance"]["created_at"]
    )


def test_a_call_before_the_draft_that_the_dictation_does_not_mention(sqlite_api: Api) -> None:
    """Accepted (after acquisition), identified at the call itself: ``notification``."""
    report = _report(sqlite_api, "ACC-PRE-1")
    acquired = datetime.fromisoformat(report["current"]["case"]["study"]["acquisition_time"])
    call = (acquired + timedelta(minutes=20)).isoformat()
    record = _record(
        _post(sqlite_api, report, "attending", **CALL, notified_at=call, read_back=True)
    )
    assert record["identified_from"] == "notification"
    assert record["identified_at"] == record["notified_at"]


def test_a_call_after_the_draft_is_identified_from_the_draft(sqlite_api: Api) -> None:
    """As before: identified when the draft was made."""
    report = _report(sqlite_api, "ACC-POST-1")
    now = datetime.now(UTC).isoformat()
    record = _record(
        _post(sqlite_api, report, "attending", **CALL, notified_at=now, read_back=True)
    )
    assert record["identified_from"] == "draft"
    assert record["identified_at"] == report["current"]["draft"]["provenance"]["created_at"]


# --- required fields --------------------------------------------------------------------


def test_phone_call_without_read_back_is_refused(sqlite_api: Api) -> None:
    """Base commit: phone, read_back false → 200 (and the report then signed)."""
    report = _report(sqlite_api, "ACC-RB-1")
    now = datetime.now(UTC).isoformat()
    refused = _post(sqlite_api, report, "attending", **CALL, notified_at=now)
    assert (refused.status_code, _code(refused)) == (422, "read_back_missing")


def test_recipient_role_is_required(sqlite_api: Api) -> None:
    """Base commit: a recipient with a name only → 200 (role defaulted silently)."""
    report = _report(sqlite_api, "ACC-ROLE-1")
    refused = _post(
        sqlite_api,
        report,
        "attending",
        recipient={"name": "Ana Ortiz"},
        method="phone",
        notified_at=datetime.now(UTC).isoformat(),
        read_back=True,
    )
    assert refused.status_code == 422
    assert ["body", "recipient", "role"] in [d["loc"] for d in refused.json()["error"]["details"]]


def _make_ready(api: Api, report: dict[str, Any]) -> None:
    """Decide the AI findings and acknowledge high flags (everything but the critical)."""
    rid = report["id"]
    ai = [f["id"] for f in report["current"]["case"]["ai_findings"]]
    r = api.client.post(
        f"/v1/reports/{rid}/decisions",
        json={"decisions": dict.fromkeys(ai, "confirmed")},
        headers=api.headers["attending"],
    )
    assert r.status_code == 200, r.text
    for flag in report["draft"]["flags"]:
        if flag["severity"] == "high":
            r = api.client.post(
                f"/v1/reports/{rid}/flags/{flag['id']}/ack",
                json={"reason": "Reviewed against the images."},
                headers=api.headers["attending"],
            )
            assert r.status_code == 200, r.text


def _sign_final(api: Api, report_id: str) -> Any:
    etag = api.client.get(f"/v1/reports/{report_id}", headers=api.headers["qa"]).headers["ETag"]
    return api.client.post(
        f"/v1/reports/{report_id}/sign",
        json={"status": "final"},
        headers=api.as_("attending", **{"If-Match": etag}),
    )


def test_a_page_records_but_signs_only_once_acknowledged(sqlite_api: Api) -> None:
    """A page cannot be read back; the acknowledgement closes the loop.

    Base commit: an unacknowledged page signed final (200); an acknowledgement without
    ``read_back`` recorded read_back true (the request's default claimed it).
    """
    api = sqlite_api
    report = _report(api, "ACC-PAGE-1")
    _make_ready(api, report)
    record = _record(
        _post(
            api,
            report,
            "attending",
            recipient={"name": "Ana Ortiz", "role": "ordering physician"},
            method="page",
            notified_at=datetime.now(UTC).isoformat(),
        )
    )
    refused = _sign_final(api, report["id"])
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["details"]["reasons"] == ["acknowledgement_missing"]
    acked = api.client.post(
        f"/v1/reports/{report['id']}/communications/{record['id']}/ack",
        json={},
        headers=api.headers["workstation"],
    )
    assert acked.status_code == 200, acked.text
    (stored,) = acked.json()["current"]["communications"]
    assert stored["read_back"] is False
    assert _sign_final(api, report["id"]).status_code == 200


# --- overrides --------------------------------------------------------------------------

OVERRIDE = {
    "override_code": "already_known_to_care_team",
    "override_reason": "Chest tube placed in the ED at 13:50; thoracic team at the bedside.",
}


def test_override_by_a_resident_is_refused(sqlite_api: Api) -> None:
    """Base commit: a resident's key overrode a critical result → 200."""
    report = _report(sqlite_api, "ACC-OVR-1")
    refused = _post(sqlite_api, report, "radiologist", **OVERRIDE)
    assert (refused.status_code, _code(refused)) == (403, "override_not_attending")
    shrug = _post(sqlite_api, report, "radiologist", override_reason="meh")
    assert (shrug.status_code, _code(shrug)) == (403, "override_not_attending")
    codes = [d["code"] for d in shrug.json()["error"]["details"]]
    assert codes == [
        "override_not_attending",
        "override_code_missing",
        "override_reason_insufficient",
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"override_reason": "meh"}, "override_code_missing"),
        ({**OVERRIDE, "override_reason": "meh"}, "override_reason_insufficient"),
        ({**OVERRIDE, "override_reason": "meh meh meh meh"}, "override_reason_insufficient"),
        ({**OVERRIDE, "override_code": "i_just_did_not"}, "override_code_unknown"),
    ],
)
def test_override_without_a_listed_code_and_a_real_reason_is_refused(
    sqlite_api: Api, body: dict[str, str], code: str
) -> None:
    """Base commit: ``{"override_reason": "meh"}`` by any radiologist → 200."""
    report = _report(sqlite_api, "ACC-MEH-1")
    refused = _post(sqlite_api, report, "attending", **body)
    assert (refused.status_code, _code(refused)) == (422, code)


def test_override_with_a_listed_code_by_an_attending_is_signable(sqlite_api: Api) -> None:
    """The attending's override with a listed code and own words closes the result."""
    api = sqlite_api
    report = _report(api, "ACC-OVR-OK")
    _make_ready(api, report)
    record = _record(_post(api, report, "attending", **OVERRIDE))
    assert record["override_code"] == "already_known_to_care_team"
    assert record["notified_at"] is None
    signed = _sign_final(api, report["id"])
    assert signed.status_code == 200, signed.text
    assert signed.json()["current"]["status"] == "final"


def test_a_notification_and_an_override_together_are_refused(sqlite_api: Api) -> None:
    """One record says either who was told or why nobody was."""
    report = _report(sqlite_api, "ACC-BOTH-1")
    both = _post(
        sqlite_api,
        report,
        "attending",
        **CALL,
        **OVERRIDE,
        notified_at=datetime.now(UTC).isoformat(),
        read_back=True,
    )
    assert both.status_code == 422
    assert "not both" in json.dumps(both.json()["error"]["details"])


# --- one copy of the deadlines (point 8) ------------------------------------------------


def test_overdue_list_uses_the_one_deadline_policy(clocked_default: Clocked) -> None:
    """The API keeps no deadline table of its own; Category 2 is due within 6 hours.

    Base commit: ``api.service.FALLBACK_DEADLINES`` said 12 h for Category 2 (used only
    when an import failed) next to ``reportdraft.critical``'s 6 h.
    """
    assert not hasattr(service, "FALLBACK_DEADLINES")
    assert not hasattr(service, "_fallback_state")
    api = clocked_default
    report = _report(api, "ACC-LATE-2")
    assert _alerting(report) == ["pneumothorax"]
    window = DEFAULT_POLICY.window(2)
    assert api.offset is not None

    def overdue() -> list[str]:
        items = api.client.get("/v1/communications/overdue", headers=api.headers["qa"]).json()
        return [i["finding_code"] for i in items if i["report_id"] == report["id"]]

    api.offset[0] = window - timedelta(minutes=5)
    assert overdue() == []
    api.offset[0] = window + timedelta(hours=1)  # 7 h: overdue by the one policy
    assert overdue() == ["pneumothorax"]
