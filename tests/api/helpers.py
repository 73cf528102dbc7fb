"""Helpers for API tests: seeded keys, cases, and taking a report to signable."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx

from reportdraft.store import Database, principals, signing_keys
from reportdraft.store.principals import Role
from reportdraft.store.signing_keys import KekRing
from tests.factories import case_dict
from tests.store.samples import make_radiologist

CRITICAL_DICTATION = (
    "Findings colon there is a large right pneumothorax with mediastinal shift period "
    "the left lung is clear period impression colon large right tension pneumothorax period"
)
FACILITY = "FAC-API"
"""The facility of the API test cases (:func:`a_case`) and of the seeded keys' scope."""


def seed_keys(db: Database, keks: KekRing) -> dict[str, dict[str, str]]:
    """One API key per role (radiologist = resident, attending = attending profile).

    Each profile gets its own signing key pair, sealed under ``keks`` (the app's KEKs).
    Every key but the admin key is scoped to :data:`FACILITY`, the facility of
    :func:`a_case`.
    """
    now = datetime.now(UTC)
    headers = {}
    with db.write() as session:
        for rid, role in (("dr-res", "resident"), ("dr-att", "attending")):
            profile = make_radiologist(rid, role)
            signing_keys.register_profile(session, profile, keks=keks, now=now)
        for role in Role:
            rid = {"radiologist": "dr-res", "attending": "dr-att"}.get(role.value)
            scope = [] if role is Role.ADMIN else [FACILITY]
            _, secret = principals.create_api_key(
                session, role=role, radiologist_id=rid, facilities=scope, now=now
            )
            headers[role.value] = {"Authorization": f"Bearer {secret}"}
    return headers


def a_case(accession: str = "ACC-API-1", **study: Any) -> dict[str, Any]:
    """A case dict with one AI finding (so sign-off needs a decision), of :data:`FACILITY`."""
    data = case_dict(accession_number=accession, **study)
    data["study"]["performing_facility"].setdefault("identifier", FACILITY)
    data["ai_findings"] = [
        {
            "id": "A1",
            "algorithm": {"name": "LungAI", "version": "2.1"},
            "finding_type": "pulmonary_nodule",
            "description": "solid nodule",
            "location": "right upper lobe",
            "laterality": "right",
            "measurements": [{"value": 6, "unit": "mm"}],
            "confidence": 0.91,
        }
    ]
    return copy.deepcopy(data)


def create_drafted(
    client: httpx.Client, headers: dict[str, str], case: dict[str, Any]
) -> dict[str, Any]:
    """Create with ``wait=true`` and return the drafted report body."""
    response = client.post("/v1/reports?wait=true", json=case, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["state"] == "draft"
    return body


def make_signable(client: httpx.Client, api_headers: dict[str, str], report: dict[str, Any]) -> str:
    """Decide every AI finding, acknowledge high flags, document critical results.

    Returns the ETag after the last change.
    """
    rid = report["id"]
    etag = ""
    ai = [f["id"] for f in report["current"]["case"]["ai_findings"]]
    if ai:
        r = client.post(
            f"/v1/reports/{rid}/decisions",
            json={"decisions": dict.fromkeys(ai, "confirmed")},
            headers=api_headers,
        )
        assert r.status_code == 200, r.text
        etag = r.headers["ETag"]
    for flag in report["draft"]["flags"]:
        if flag["severity"] == "high":
            r = client.post(
                f"/v1/reports/{rid}/flags/{flag['id']}/ack",
                json={"reason": "Reviewed against the images."},
                headers=api_headers,
            )
            assert r.status_code == 200, r.text
            etag = r.headers["ETag"]
    codes = {m["finding_code"] for m in report["current"]["critical"] if m["alert"]}
    for code in sorted(codes):
        r = client.post(
            f"/v1/reports/{rid}/communications",
            json={
                "finding_code": code,
                "recipient": {"name": "Dr. Ana Ortiz", "role": "ordering physician"},
                "method": "phone",
                "notified_at": datetime.now(UTC).isoformat(),
                "read_back": True,
            },
            headers=api_headers,
        )
        assert r.status_code == 200, r.text
        etag = r.headers["ETag"]
    if not etag:
        etag = client.get(f"/v1/reports/{rid}", headers=api_headers).headers["ETag"]
    return etag
