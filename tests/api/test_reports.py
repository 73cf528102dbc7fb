"""The report endpoints through TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
import importlib.util

from tests.api.conftest import Api
from tests.api.helpers import a_case, create_drafted, make_signable


def test_health_and_openapi_need_no_key(api: Api) -> None:
    health = api.client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    spec = api.client.get("/openapi.json").json()
    assert "/v1/reports" in spec["paths"]
    assert "/v1/reports/{report_id}/sign" in spec["paths"]


def test_every_v1_endpoint_needs_a_key(api: Api) -> None:
    r = api.client.get("/v1/reports")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    r = api.client.get("/v1/reports", headers={"Authorization": "Bearer rdk_wrong"})
    assert r.status_code == 401


def test_create_is_idempotent_and_polls_to_a_draft(api: Api) -> None:
    headers = api.as_("workstation", **{"Idempotency-Key": "key-1"})
    first = api.client.post("/v1/reports", json=a_case(), headers=headers)
    assert first.status_code in (201, 202), first.text
    assert first.headers["Location"] == f"/v1/reports/{first.json()['id']}"
    again = api.client.post("/v1/reports", json=a_case(), headers=headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = api.client.post("/v1/reports", json=a_case("ACC-OTHER"), headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    listing = api.client.get("/v1/reports", headers=api.as_("qa")).json()
    assert [i["id"] for i in listing["items"]] == [first.json()["id"]]


def test_get_report_has_draft_sources_flags_and_etag(api: Api) -> None:
    report = create_drafted(api.client, api.as_("workstation"), a_case())
    got = api.client.get(f"/v1/reports/{report['id']}", headers=api.as_("radiologist"))
    assert got.status_code == 200
    assert got.headers["ETag"] == f'"{got.json()["version"]}"'
    body = got.json()
    statements = [st for sec in body["draft"]["sections"] for st in sec["statements"]]
    assert statements
    assert all(st["sources"] for st in statements)
    assert body["current"]["status"] == "draft"
    assert api.client.get("/v1/reports/r-missing", headers=api.as_("qa")).status_code == 404


def test_list_filters(api: Api) -> None:
    ws = api.as_("workstation")
    create_drafted(api.client, ws, a_case("ACC-F1", priority="stat"))
    create_drafted(api.client, ws, a_case("ACC-F2"))
    qa = api.as_("qa")
    stat = api.client.get("/v1/reports?priority=stat", headers=qa).json()["items"]
    assert [i["accession_number"] for i in stat] == ["ACC-F1"]
    acc = api.client.get("/v1/reports?accession=ACC-F2", headers=qa).json()["items"]
    assert [i["accession_number"] for i in acc] == ["ACC-F2"]
    drafts = api.client.get("/v1/reports?status=draft&limit=1", headers=qa).json()
    assert len(drafts["items"]) == 1
    assert drafts["next_cursor"]


def test_patch_needs_a_current_etag(api: Api) -> None:
    report = create_drafted(api.client, api.as_("workstation"), a_case())
    rid = report["id"]
    first_statement = report["current"]["content"][0]["statements"][0]["id"]
    edit = {"statement_edits": [{"id": first_statement, "text": "Edited by the radiologist."}]}
    url = f"/v1/reports/{rid}"
    missing = api.client.patch(url, json=edit, headers=api.as_("radiologist"))
    assert missing.status_code == 428
    assert missing.json()["error"]["code"] == "precondition_required"
    etag = api.client.get(url, headers=api.as_("radiologist")).headers["ETag"]
    ok = api.client.patch(url, json=edit, headers=api.as_("radiologist", **{"If-Match": etag}))
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] != etag
    edited = ok.json()["current"]["content"][0]["statements"][0]
    assert edited["text"] == "Edited by the radiologist."
    assert edited["generator"] == "radiologist"
    stale = api.client.patch(url, json=edit, headers=api.as_("radiologist", **{"If-Match": etag}))
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"


def test_sign_flow_refusals_and_renderings(api: Api) -> None:
    report = create_drafted(api.client, api.as_("workstation"), a_case())
    rid = report["id"]
    att = api.as_("attending")
    etag = api.client.get(f"/v1/reports/{rid}", headers=att).headers["ETag"]
    refused = api.client.post(
        f"/v1/reports/{rid}/sign", json={"status": "final"}, headers={**att, "If-Match": etag}
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "attestation_refused"
    assert "ai_finding_pending" in refused.json()["error"]["details"]["reasons"]
    resident_final = api.client.post(
        f"/v1/reports/{rid}/sign",
        json={"status": "final"},
        headers=api.as_("radiologist", **{"If-Match": etag}),
    )
    assert resident_final.status_code == 403
    etag = make_signable(api.client, att, report)
    signed = api.client.post(
        f"/v1/reports/{rid}/sign", json={"status": "final"}, headers={**att, "If-Match": etag}
    )
    assert signed.status_code == 200, signed.text
    current = signed.json()["current"]
    assert current["status"] == "final"
    published = api.client.get("/v1/radiologists/dr-att/keys", headers=att).json()
    assert current["signature"]["key_id"] == published[-1]["key_id"]  # the attending's own
    assert current["signer"]["id"] == "dr-att"
    again = api.client.post(
        f"/v1/reports/{rid}/sign", json={"status": "final"}, headers={**att, "If-Match": etag}
    )
    assert again.status_code == 412
    new_etag = signed.headers["ETag"]
    immutable = api.client.patch(
        f"/v1/reports/{rid}",
        json={"statement_edits": [{"id": "S1", "text": "Changed after signing."}]},
        headers={**att, "If-Match": new_etag},
    )
    assert immutable.status_code == 409
    assert immutable.json()["error"]["details"]["reasons"] == ["version_immutable"]
    addendum = api.client.post(
        f"/v1/reports/{rid}/addenda",
        json={"text": "Comparison with outside study: stable.", "reason": "new comparison"},
        headers={**att, "If-Match": new_etag},
    )
    assert addendum.status_code == 200, addendum.text
    assert addendum.json()["current"]["status"] == "appended"
    assert addendum.json()["versions"] == 2
    trail = api.client.get(f"/v1/reports/{rid}/audit", headers=api.as_("qa")).json()
    assert trail["verified"] is True
    events = [e["event"] for e in trail["entries"]]
    assert events[0] == "report.created"
    assert "signature" in events
    assert "addendum" in events
    for kind, media in (
        ("pdf", "application/pdf"),
        ("fhir", "application/fhir+json"),
        ("hl7", "x-application/hl7-v2+er7"),
    ):
        r = api.client.get(f"/v1/reports/{rid}/{kind}", headers=api.as_("qa"))
        if not _renders(kind):
            assert r.status_code == 501
            assert r.json()["error"]["code"] == "not_implemented"
        else:
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith(media)


def test_resident_signs_preliminary_and_attending_finalises(api: Api) -> None:
    report = create_drafted(api.client, api.as_("workstation"), a_case())
    rid = report["id"]
    res = api.as_("radiologist")
    etag = make_signable(api.client, res, report)
    prelim = api.client.post(
        f"/v1/reports/{rid}/sign",
        json={"status": "preliminary"},
        headers={**res, "If-Match": etag},
    )
    assert prelim.status_code == 200, prelim.text
    assert prelim.json()["current"]["signer"]["id"] == "dr-res"
    final = api.client.post(
        f"/v1/reports/{rid}/sign",
        json={"status": "final"},
        headers=api.as_("attending", **{"If-Match": prelim.headers["ETag"]}),
    )
    assert final.status_code == 200, final.text
    assert final.json()["state"] == "final"
    assert final.json()["versions"] == 2


def test_unsigned_report_has_no_renderings(api: Api) -> None:
    report = create_drafted(api.client, api.as_("workstation"), a_case())
    r = api.client.get(f"/v1/reports/{report['id']}/pdf", headers=api.as_("qa"))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "not_signed"


def test_redline_shows_the_edit(api: Api) -> None:
    report = create_drafted(api.client, api.as_("workstation"), a_case())
    rid = report["id"]
    sid = report["current"]["content"][-1]["statements"][0]["id"]
    rad = api.as_("radiologist")
    etag = api.client.get(f"/v1/reports/{rid}", headers=rad).headers["ETag"]
    api.client.patch(
        f"/v1/reports/{rid}",
        json={"statement_edits": [{"id": sid, "text": "No acute cardiopulmonary process."}]},
        headers={**rad, "If-Match": etag},
    )
    r = api.client.get(f"/v1/reports/{rid}/redline", headers=api.as_("qa"))
    assert r.status_code == 200, r.text
    assert "No acute cardiopulmonary process." in r.text


def _renders(kind: str) -> bool:
    """True when ``reportdraft.render`` provides the renderer for ``kind``."""
    try:
        module = importlib.import_module("reportdraft.render")
    except ImportError:
        return False
    return callable(getattr(module, f"render_{kind}", None))
