"""Smaller API points of issue 13 (point 7): media type, status filter, duplicate
accessions, and ``/docs`` that works offline with "Authorize" and request examples.

Probes on the base commit (473b706), each reproduced by the test named:

* ``POST /v1/reports`` with ``Content-Type: text/plain`` -> 422 ``invalid_request``
  (test_wrong_content_type_is_415);
* ``GET /v1/reports?status=bogus`` -> 200 (test_unknown_status_filter_is_422);
* the same facility + accession twice -> 201, no ``warnings``, no flag
  (test_duplicate_accession_warns_and_flags);
* ``GET /docs`` loaded ``https://cdn.jsdelivr.net`` assets and a favicon from
  ``https://fastapi.tiangolo.com`` (test_docs_page_and_assets_are_served_locally);
* ``/openapi.json`` had no ``securitySchemes`` and 12 request bodies without an example
  (test_openapi_has_bearer_scheme / test_every_request_body_has_a_valid_example).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from reportdraft.api import schemas
from reportdraft.models import Case
from reportdraft.models.report import Radiologist
from reportdraft.store import reports
from reportdraft.store.tables import ReportRow
from tests.api.conftest import Api, make_api
from tests.api.helpers import FACILITY, a_case, seed_keys
from tests.store.dbfixtures import close_database, open_database


@pytest.fixture
def docs_api(tmp_path: Path) -> Iterator[Api]:
    """The service without workers (the docs and the OpenAPI document only)."""
    db, handle = open_database("sqlite", tmp_path)
    client, key = make_api(db, start_workers=False)
    try:
        with client:
            yield Api(client=client, db=db, keks=key, headers=seed_keys(db, key))
    finally:
        close_database(db, handle)


def _report_count(api: Api) -> int:
    with api.db.read() as session:
        return reports.count(session)


# --- 415 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_wrong_content_type_is_415(docs_api: Api, content_type: str | None) -> None:
    """A JSON body sent as another media type: 415 with the error body, nothing written.

    Base commit: 422 ``invalid_request`` ("Input should be a valid dictionary").
    """
    headers = docs_api.as_("workstation")
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = docs_api.client.post(
        "/v1/reports", content=json.dumps(a_case()).encode(), headers=headers
    )
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert error["details"] == {"content_type": content_type, "expected": "application/json"}
    assert _report_count(docs_api) == 0


def test_415_on_other_json_endpoints_and_json_variants_still_work(docs_api: Api) -> None:
    """Every JSON endpoint answers 415 the same way; ``application/json; charset`` passes."""
    admin = docs_api.as_("admin")
    response = docs_api.client.post(
        "/v1/admin/api-keys",
        content=b'{"role": "qa", "all_facilities": true}',
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    response = docs_api.client.post(
        "/v1/admin/api-keys",
        content=b'{"role": "qa", "all_facilities": true}',
        headers={**admin, "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text
    # Malformed JSON declared as JSON is still the content's fault: 422.
    response = docs_api.client.post(
        "/v1/admin/api-keys",
        content=b'{"role": ',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    # No body at all where one is required: 422 (missing), not 415.
    response = docs_api.client.post("/v1/admin/api-keys", headers=admin)
    assert response.status_code == 422


# --- status filter ---------------------------------------------------------------------


def test_unknown_status_filter_is_422(docs_api: Api) -> None:
    """Base commit: ``status=bogus`` matched nothing and answered 200."""
    qa = docs_api.as_("qa")
    response = docs_api.client.get("/v1/reports?status=bogus", headers=qa)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["loc"] == ["query", "status"]
    for state in schemas.REPORT_STATES:
        ok = docs_api.client.get(f"/v1/reports?status={state}", headers=qa)
        assert ok.status_code == 200, (state, ok.text)


def test_status_values_come_from_the_store_and_the_lifecycle() -> None:
    """One source: the store's pre-draft states and every ``ReportStatus``."""
    from reportdraft.models.report import ReportStatus

    assert set(schemas.REPORT_STATES) == {
        reports.QUEUED,
        reports.DRAFTING,
        reports.FAILED,
        *(s.value for s in ReportStatus),
    }


# --- duplicate accession ----------------------------------------------------------------


def _facility_case(accession: str, facility: str | None) -> dict[str, Any]:
    case = a_case(accession)
    case["study"]["performing_facility"]["identifier"] = facility
    if facility is None:
        del case["study"]["performing_facility"]["identifier"]
    return case


def test_duplicate_accession_warns_and_flags(sqlite_api: Api) -> None:
    """A re-read is created (201) with a warning naming the first report and a low flag.

    Base commit: 201 with no ``warnings`` field and no ``duplicate_accession`` flag.
    """
    ws = sqlite_api.as_("workstation")
    client = sqlite_api.client
    first = client.post(
        "/v1/reports?wait=true", json=_facility_case("ACC-DUP", FACILITY), headers=ws
    )
    assert first.status_code == 201, first.text
    assert first.json()["warnings"] == []
    assert "duplicate_accession" not in [f["kind"] for f in first.json()["draft"]["flags"]]
    second = client.post(
        "/v1/reports?wait=true", json=_facility_case("ACC-DUP", FACILITY), headers=ws
    )
    assert second.status_code == 201, second.text
    body = second.json()
    (warning,) = body["warnings"]
    assert warning["code"] == "duplicate_accession"
    assert warning["report_ids"] == [first.json()["id"]]
    assert "ACC-DUP" in warning["message"]
    flags = [f for f in body["draft"]["flags"] if f["kind"] == "duplicate_accession"]
    assert len(flags) == 1
    assert flags[0]["severity"] == "low"
    assert flags[0]["evidence"] == [first.json()["id"]]
    assert flags[0]["id"] == f"F{len(body['draft']['flags'])}"  # appended: earlier ids stay
    stored = client.get(f"/v1/reports/{body['id']}", headers=ws).json()
    assert "duplicate_accession" in [f["kind"] for f in stored["draft"]["flags"]]


def test_duplicate_check_stays_inside_the_facility(sqlite_api: Api) -> None:
    """Another facility's report with the same accession is never named (nor an unknown one).

    Created with the admin key, which may create reports for any facility.
    """
    ws = sqlite_api.as_("admin")
    client = sqlite_api.client
    other = client.post("/v1/reports", json=_facility_case("ACC-X", "OTHER"), headers=ws)
    assert other.status_code == 202
    unknown = client.post("/v1/reports", json=_facility_case("ACC-X", None), headers=ws)
    assert unknown.status_code == 202
    assert unknown.json()["warnings"] == []
    mine = client.post("/v1/reports", json=_facility_case("ACC-X", FACILITY), headers=ws)
    assert mine.status_code == 202
    assert mine.json()["warnings"] == []
    with sqlite_api.db.read() as session:
        rows = {r.facility for r in session.query(ReportRow).filter_by(accession="ACC-X")}
    assert rows == {"OTHER", FACILITY, None}


# --- /docs -----------------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


def test_docs_page_and_assets_are_served_locally(docs_api: Api) -> None:
    """Base commit: the page loaded Swagger UI from cdn.jsdelivr.net (no docs offline)."""
    page = docs_api.client.get("/docs")
    assert page.status_code == 200
    assert re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+", page.text) == []
    parser = _Assets()
    parser.feed(page.text)
    assert len(parser.urls) == 3, parser.urls  # the CSS, the favicon and the bundle
    for url in parser.urls:
        assert url.startswith("/"), url
        asset = docs_api.client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500, url
    assert "'/openapi.json'" in page.text
    assert docs_api.client.get("/openapi.json").status_code == 200
    assert docs_api.client.get("/redoc").status_code == 404  # the CDN-only ReDoc page is off
    # Only the three files are served, not the distribution's sample page (a demo API online).
    assert docs_api.client.get("/docs/assets/index.html").status_code == 404


def test_openapi_has_bearer_scheme(docs_api: Api) -> None:
    """ "Authorize" works: a bearer scheme, required by every /v1 operation, not /health."""
    spec = docs_api.client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    ((name, scheme),) = schemes.items()
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            expected = [{name: []}] if path.startswith("/v1/") else None
            assert operation.get("security") == expected, (method, path)
    # The scheme is what the service checks: the header it documents is accepted.
    response = docs_api.client.get("/v1/reports", headers=docs_api.as_("qa"))
    assert response.status_code == 200


def _request_examples(spec: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            media = operation["requestBody"]["content"]["application/json"]
            examples = [e["value"] for e in media.get("examples", {}).values()]
            if "example" in media:
                examples.append(media["example"])
            ref = media["schema"].get("$ref", "")
            if ref:
                component = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
                examples.extend(component.get("examples", []))
            assert examples, f"{method.upper()} {path} has no request example"
            for example in examples:
                yield method, path, example


def test_every_request_body_has_a_valid_example(docs_api: Api) -> None:
    """Each operation with a body shows an example, and each example validates."""
    spec = docs_api.client.get("/openapi.json").json()
    models: dict[str, type[BaseModel]] = {
        "Case": Case,
        "Radiologist": Radiologist,
        **{
            name: getattr(schemas, name)
            for name in dir(schemas)
            if name.endswith("Request") and isinstance(getattr(schemas, name), type)
        },
    }
    checked = 0
    for method, path, example in _request_examples(spec):
        schema = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
        name = schema["schema"]["$ref"].rsplit("/", 1)[-1]
        models[name].model_validate(example)
        checked += 1
    assert checked >= 12


def test_case_example_is_accepted_by_the_service(docs_api: Api) -> None:
    """The example offered for ``POST /v1/reports`` creates a report as it is (with a key
    of any facility: the admin key)."""
    response = docs_api.client.post(
        "/v1/reports", json=schemas.CASE_EXAMPLE, headers=docs_api.as_("admin")
    )
    assert response.status_code == 202, response.text
