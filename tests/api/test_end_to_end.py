"""End to end through real HTTP with the embedded model (llama.cpp, SmolLM2-135M).

create → draft (embedded model) → edit → decide AI findings → communicate critical →
sign → PDF / FHIR / HL7 → audit. Slow (the model drafts in ~5-30 s on 2 cores).
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import httpx
import pytest

from reportdraft.api import create_app
from reportdraft.settings import Settings
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey
from tests.api.helpers import CRITICAL_DICTATION, a_case, make_signable, seed_keys
from tests.api.server import serving
from tests.store.dbfixtures import close_database, open_database


@pytest.mark.slow
@pytest.mark.embedded_model  # the worker's default options: the process's one loaded model
def test_create_draft_edit_sign_render_audit(tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    db, handle = open_database("sqlite", tmp_path)
    keks = KekRing(KeyEncryptionKey.generate())
    app = create_app(
        Settings(
            backend="llamacpp",
            database_url="sqlite://",
            model_timeout_s=300,
            key_encryption_key=keks.current.encoded(),
        ),
        database=db,
        wait_timeout_s=600,
    )
    keys = seed_keys(db, keks)
    case = a_case("ACC-E2E", priority="stat")
    case["dictation"] = CRITICAL_DICTATION
    try:
        with serving(app) as base, httpx.Client(base_url=base, timeout=900) as http:
            created = http.post(
                "/v1/reports?wait=true",
                json=case,
                headers={**keys["workstation"], "Idempotency-Key": "e2e-1"},
            )
            assert created.status_code == 201, created.text
            report = created.json()
            rid = report["id"]
            assert report["draft"]["provenance"]["backend"] == "llamacpp"
            alerts = {m["finding_code"] for m in report["current"]["critical"] if m["alert"]}
            assert alerts, "the tension pneumothorax must alert"
            att = keys["attending"]
            etag = http.get(f"/v1/reports/{rid}", headers=att).headers["ETag"]
            impression = next(
                sec for sec in report["current"]["content"] if sec["kind"] == "impression"
            )
            edit = {
                "statement_edits": [
                    {
                        "section": "impression",
                        "text": "Chest tube placement recommended.",
                        "after": impression["statements"][-1]["id"],
                    }
                ]
            }
            edited = http.patch(f"/v1/reports/{rid}", json=edit, headers={**att, "If-Match": etag})
            assert edited.status_code == 200, edited.text
            etag = make_signable(http, att, edited.json())
            signed = http.post(
                f"/v1/reports/{rid}/sign",
                json={"status": "final"},
                headers={**att, "If-Match": etag},
            )
            assert signed.status_code == 200, signed.text
            assert signed.json()["current"]["communications"]
            media = {
                "pdf": "application/pdf",
                "fhir": "application/fhir+json",
                "hl7": "x-application/hl7-v2+er7",
            }
            for kind, content_type in media.items():
                r = http.get(f"/v1/reports/{rid}/{kind}", headers=keys["qa"])
                if _renders(kind):
                    assert r.status_code == 200, r.text
                    assert r.headers["content-type"].startswith(content_type)
                else:
                    assert r.status_code == 501
            trail = http.get(f"/v1/reports/{rid}/audit", headers=keys["qa"]).json()
            assert trail["verified"]
            events = {e["event"] for e in trail["entries"]}
            assert {
                "report.created",
                "draft_created",
                "edit",
                "decision",
                "communication",
                "signature",
            } <= events
    finally:
        close_database(db, handle)


def _renders(kind: str) -> bool:
    """True when ``reportdraft.render`` provides the renderer for ``kind``."""
    try:
        module = importlib.import_module("reportdraft.render")
    except ImportError:
        return False
    return callable(getattr(module, f"render_{kind}", None))
