"""Error bodies, request limits, rate limiting and the role × endpoint matrix."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from reportdraft.api.app import create_app
from reportdraft.api.error_bodies import _domain, _model_validation, handler_for
from reportdraft.errors import ConfigurationError, InputError, ReportDraftError
from reportdraft.settings import Settings
from tests.api.conftest import Api, make_api
from tests.api.helpers import a_case, seed_keys
from tests.store.dbfixtures import close_database, open_database


def _is_error_body(body: dict[str, object]) -> bool:
    error = body.get("error")
    return isinstance(error, dict) and {"code", "message", "details"} <= set(error)


def test_framework_errors_use_the_json_body(sqlite_api: Api) -> None:
    c = sqlite_api.client
    qa = sqlite_api.as_("qa")
    not_found = c.get("/v1/nothing-here", headers=qa)
    assert not_found.status_code == 404
    assert _is_error_body(not_found.json())
    method = c.delete("/v1/reports", headers=qa)
    assert method.status_code == 405
    assert method.json()["error"]["code"] == "method_not_allowed"
    bad = c.post("/v1/reports", json={"study": {}}, headers=sqlite_api.as_("workstation"))
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_request"
    locs = [d["loc"] for d in bad.json()["error"]["details"]]
    assert ["body", "patient"] in locs
    assert "input" not in bad.json()["error"]["details"][0]  # no echo of patient data
    bad_query = c.get("/v1/reports?limit=0", headers=qa)
    assert bad_query.status_code == 422
    assert _is_error_body(bad_query.json())


def test_unknown_keys_in_a_case_are_refused(sqlite_api: Api) -> None:
    case = a_case()
    case["study"]["accesion_number"] = "typo"
    r = sqlite_api.client.post("/v1/reports", json=case, headers=sqlite_api.as_("workstation"))
    assert r.status_code == 422
    assert any("accesion_number" in d["loc"] for d in r.json()["error"]["details"])


def test_request_body_limit(tmp_path: Path) -> None:
    db, handle = open_database("sqlite", tmp_path)
    client, key = make_api(db, max_body_bytes=2000, start_workers=False)
    try:
        with client:
            headers = seed_keys(db, key)["workstation"]
            case = a_case()
            case["dictation"] = "The lungs are clear. " * 200
            r = client.post("/v1/reports", json=case, headers=headers)
            assert r.status_code == 413
            assert r.json()["error"]["code"] == "payload_too_large"
            chunked = client.post(
                "/v1/reports",
                content=iter([b"{" + b" " * 1500, b" " * 1500 + b"}"]),
                headers={**headers, "Content-Type": "application/json"},
            )
            assert chunked.status_code == 413
    finally:
        close_database(db, handle)


def test_rate_limit_per_key(tmp_path: Path) -> None:
    db, handle = open_database("sqlite", tmp_path)
    client, key = make_api(db, rate_per_s=0.5, rate_burst=3, start_workers=False)
    try:
        with client:
            keys = seed_keys(db, key)
            codes = [client.get("/v1/reports", headers=keys["qa"]).status_code for _ in range(5)]
            assert codes[:3] == [200, 200, 200]
            assert codes[3:] == [429, 429]
            limited = client.get("/v1/reports", headers=keys["qa"])
            assert limited.json()["error"]["code"] == "rate_limited"
            assert int(limited.headers["Retry-After"]) >= 1
            # another key has its own bucket
            assert client.get("/v1/reports", headers=keys["admin"]).status_code == 200
    finally:
        close_database(db, handle)


ALL = ("workstation", "radiologist", "attending", "qa", "admin")
MATRIX = [
    ("POST", "/v1/reports", {"workstation", "admin"}),
    ("GET", "/v1/reports", set(ALL)),
    ("GET", "/v1/reports/{rid}", set(ALL)),
    ("PATCH", "/v1/reports/{rid}", {"radiologist", "attending"}),
    ("POST", "/v1/reports/{rid}/decisions", {"radiologist", "attending"}),
    ("POST", "/v1/reports/{rid}/flags/F1/ack", {"radiologist", "attending"}),
    ("POST", "/v1/reports/{rid}/communications", {"radiologist", "attending"}),
    (
        "POST",
        "/v1/reports/{rid}/communications/C1/ack",
        {"workstation", "radiologist", "attending"},
    ),
    ("GET", "/v1/communications/overdue", {"radiologist", "attending", "qa", "admin"}),
    ("POST", "/v1/reports/{rid}/sign", {"radiologist", "attending"}),
    ("POST", "/v1/reports/{rid}/amend", {"attending"}),
    ("POST", "/v1/reports/{rid}/addenda", {"attending"}),
    ("GET", "/v1/reports/{rid}/redline", {"radiologist", "attending", "qa", "admin"}),
    ("GET", "/v1/reports/{rid}/audit", {"radiologist", "attending", "qa", "admin"}),
    ("GET", "/v1/reports/{rid}/pdf", set(ALL)),
    ("GET", "/v1/reports/{rid}/fhir", set(ALL)),
    ("GET", "/v1/reports/{rid}/hl7", set(ALL)),
    ("GET", "/v1/admin/radiologists", {"admin"}),
    ("PUT", "/v1/admin/radiologists/dr-x", {"admin"}),
    ("POST", "/v1/admin/api-keys", {"admin"}),
    ("DELETE", "/v1/admin/api-keys/k-0000000000000000", {"admin"}),
    ("POST", "/v1/admin/webhooks", {"admin"}),
    ("GET", "/v1/admin/webhooks", {"admin"}),
    ("DELETE", "/v1/admin/webhooks/wh-0000000000000000", {"admin"}),
]


@pytest.mark.parametrize(
    ("method", "path", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX]
)
def test_role_matrix(sqlite_api: Api, method: str, path: str, allowed: set[str]) -> None:
    url = path.format(rid="r-00000000000000000000000000000000")
    assert sqlite_api.client.request(method, url).status_code == 401
    for role in ALL:
        # an empty JSON object: validation or not-found may fail, authorisation must not
        r = sqlite_api.client.request(method, url, json={}, headers=sqlite_api.as_(role))
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, r.status_code, r.text)
            assert r.json()["error"]["code"] == "forbidden"


def test_a_handler_registered_for_the_wrong_class_is_a_configuration_error() -> None:
    """Each handler is registered with the class it narrows to; a mismatch is named, not
    answered with a wrong body."""
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    handler = handler_for(ValidationError, _model_validation)
    with pytest.raises(ConfigurationError, match="ValidationError error handler got a KeyError"):
        asyncio.run(handler(request, KeyError("x")))
    domain = asyncio.run(handler_for(ReportDraftError, _domain)(request, InputError("bad")))
    assert (domain.status_code, json.loads(domain.body)["error"]["code"]) == (422, "invalid_input")


def test_a_bad_critical_site_directory_stops_the_service_start(tmp_path: Path) -> None:
    """REPORTDRAFT_CRITICAL_DIR is read by the service too; an empty one stops the start."""
    settings = Settings.from_env({"REPORTDRAFT_CRITICAL_DIR": str(tmp_path)})
    assert settings.critical_dir == tmp_path
    with pytest.raises(ConfigurationError, match=r"holds none of lexicon\.yaml"):
        create_app(settings, start_workers=False)
