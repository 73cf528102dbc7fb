"""Each radiologist signs with their own key; renderings verify against the published keys.

Probes on the base commit (every test here fails there):

* ``GET /v1/radiologists/dr-att/keys`` → 404 (no published keys); both radiologists'
  profiles carry the one service key id.
* ``PUT /v1/admin/radiologists/dr-new`` with another radiologist's ``key_id`` → 200.
* the ``radiologist_keys`` table stays empty (no private key is held per radiologist).
* a signed report whose stored JSON text was edited in the database → ``GET .../pdf`` 200.
* ``GET .../pdf?preview=true`` of a draft → 409 ``not_signed``.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from sqlalchemy import select

from reportdraft.api import create_app
from reportdraft.attest import (
    generate_signing_key,
    load_trusted_keys,
    sign,
    verify_report_data,
    verify_version_data,
)
from reportdraft.attest.signing import sign_version
from reportdraft.cli import attest as attest_cli
from reportdraft.cli import serve as serve_cli
from reportdraft.errors import ConfigurationError
from reportdraft.models.report import Report, ReportStatus
from reportdraft.settings import Settings
from reportdraft.store import Database, signing_keys
from reportdraft.store.signing_keys import KekRing, KeyEncryptionKey
from reportdraft.store.tables import RadiologistKeyRow, RadiologistRow, ReportRow
from tests.api.conftest import Api
from tests.api.helpers import a_case, create_drafted, make_signable
from tests.store.samples import make_radiologist


def signed_final(api: Api, accession: str) -> dict[str, Any]:
    """A report signed final by the attending (dr-att) through the API."""
    report = create_drafted(api.client, api.as_("workstation"), a_case(accession))
    att = api.as_("attending")
    etag = make_signable(api.client, att, report)
    signed = api.client.post(
        f"/v1/reports/{report['id']}/sign",
        json={"status": "final"},
        headers={**att, "If-Match": etag},
    )
    assert signed.status_code == 200, signed.text
    body: dict[str, Any] = signed.json()
    return body


def stored_doc(db: Database, report_id: str) -> dict[str, Any]:
    """The report JSON exactly as the database holds it."""
    with db.read() as session:
        row = session.get(ReportRow, report_id)
        assert row is not None
        assert row.report_doc is not None
        return copy.deepcopy(row.report_doc)


def write_doc(db: Database, report_id: str, doc: dict[str, Any]) -> None:
    """Replace the stored report JSON behind the service's back."""
    with db.write() as session:
        row = session.get(ReportRow, report_id)
        assert row is not None
        row.report_doc = doc


def published(api: Api, tmp_path: Path, *ids: str) -> Path:
    """The key documents of ``ids`` as the API publishes them, one file per radiologist."""
    folder = tmp_path / "trust"
    folder.mkdir(exist_ok=True)
    for rid in ids:
        r = api.client.get(f"/v1/radiologists/{rid}/keys", headers=api.as_("qa"))
        assert r.status_code == 200, r.text
        (folder / f"{rid}.json").write_text(r.text)
    return folder


def profile_key_id(db: Database, rid: str) -> str | None:
    """The ``key_id`` the stored profile names."""
    with db.read() as session:
        row = session.get(RadiologistRow, rid)
        assert row is not None
        key_id = row.profile.get("key_id")
        return key_id if isinstance(key_id, str) else None


@pytest.fixture
def other_app(api: Api) -> Iterator[Any]:
    """A second app on the same database, built with given settings (no workers)."""
    clients: list[TestClient] = []

    def build(**settings: Any) -> TestClient:
        app = create_app(
            Settings(backend="rules", database_url="sqlite://", **settings),
            database=api.db,
            start_workers=False,
            rate_per_s=0,
        )
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def test_each_radiologist_has_their_own_published_key(api: Api) -> None:
    docs = {}
    for rid in ("dr-att", "dr-res"):
        r = api.client.get(f"/v1/radiologists/{rid}/keys", headers=api.as_("workstation"))
        assert r.status_code == 200, r.text
        [doc] = r.json()
        assert doc["owner"] == rid
        assert doc["revoked_at"] is None
        assert doc["key_id"] == profile_key_id(api.db, rid)
        pem = serialization.load_pem_public_key(doc["public_key_pem"].encode())
        raw = pem.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert base64.b64encode(raw).decode() == doc["public_key"]
        docs[rid] = doc
    assert docs["dr-att"]["key_id"] != docs["dr-res"]["key_id"]
    assert docs["dr-att"]["public_key"] != docs["dr-res"]["public_key"]
    missing = api.client.get("/v1/radiologists/nobody/keys", headers=api.as_("qa"))
    assert missing.status_code == 404
    assert api.client.get("/v1/radiologists/dr-att/keys").status_code == 401


def test_put_radiologist_binds_the_services_key_never_the_clients(api: Api) -> None:
    admin = api.as_("admin")
    profile = make_radiologist("dr-new", "attending").model_dump(mode="json")
    created = api.client.put("/v1/admin/radiologists/dr-new", json=profile, headers=admin)
    assert created.status_code == 200, created.text
    key_id = created.json()["key_id"]
    [doc] = api.client.get("/v1/radiologists/dr-new/keys", headers=admin).json()
    assert doc["key_id"] == key_id
    again = api.client.put("/v1/admin/radiologists/dr-new", json=profile, headers=admin)
    assert again.json()["key_id"] == key_id  # replaced profile keeps its active key
    assert len(api.client.get("/v1/radiologists/dr-new/keys", headers=admin).json()) == 1
    for foreign in (profile_key_id(api.db, "dr-att"), "0123456789abcdef"):
        refused = api.client.put(
            "/v1/admin/radiologists/dr-new", json={**profile, "key_id": foreign}, headers=admin
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "key_not_radiologists"
    assert profile_key_id(api.db, "dr-new") == key_id
    explicit = api.client.put(
        "/v1/admin/radiologists/dr-new", json={**profile, "key_id": key_id}, headers=admin
    )
    assert explicit.status_code == 200


def test_signatures_verify_against_the_published_keyring_and_bind_the_signer(
    api: Api, tmp_path: Path
) -> None:
    """A's report re-signed with B's key under a forged copy of A's profile naming B's key
    id passes the profile check alone, and fails against the published keyring."""
    signed = signed_final(api, "ACC-KEYS-1")
    rid = signed["id"]
    assert signed["current"]["signature"]["key_id"] == profile_key_id(api.db, "dr-att")
    keyring = load_trusted_keys(published(api, tmp_path, "dr-att", "dr-res"))
    doc = stored_doc(api.db, rid)
    assert verify_report_data(doc, keyring=keyring) == []

    version = Report.model_validate(doc).versions[0]
    assert version.signer is not None
    with api.db.read() as session:
        b_key = signing_keys.active_signing_key(
            session, "dr-res", keks=api.keks, at=datetime.now(UTC)
        )
    forged_profile = version.signer.model_copy(update={"key_id": b_key.key_id})
    forged = sign_version(
        version.model_copy(update={"signer": forged_profile}),
        b_key,
        signed_at=version.transitions[-1].at,
    ).model_dump(mode="json")
    assert verify_version_data(forged) == []
    assert {p.code for p in verify_version_data(forged, keyring=keyring)} == {"key_not_signers"}
    write_doc(api.db, rid, {**doc, "versions": [forged]})
    refused = api.client.get(f"/v1/reports/{rid}/pdf", headers=api.as_("qa"))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "signature_invalid"
    problems = refused.json()["error"]["details"]["problems"]
    assert {p["code"] for p in problems} == {"key_not_signers"}


def test_tampered_stored_report_is_not_rendered(api: Api) -> None:
    signed = signed_final(api, "ACC-KEYS-2")
    rid = signed["id"]
    qa = api.as_("qa")
    assert api.client.get(f"/v1/reports/{rid}/hl7", headers=qa).status_code == 200
    doc = stored_doc(api.db, rid)
    statement = next(s for sec in doc["versions"][0]["content"] for s in sec["statements"])
    statement["text"] = "No acute abnormality."
    write_doc(api.db, rid, doc)
    for kind in ("pdf", "fhir", "hl7"):
        for query in ("", "?preview=true"):
            r = api.client.get(f"/v1/reports/{rid}/{kind}{query}", headers=qa)
            assert r.status_code == 409, (kind, r.text)
            body = r.json()
            assert body["error"]["code"] == "signature_invalid"
            assert "No acute abnormality" not in r.text
            assert "signature_invalid" in {p["code"] for p in body["error"]["details"]["problems"]}


def test_rotation_makes_a_new_active_key_and_old_signatures_still_verify(
    api: Api, tmp_path: Path
) -> None:
    first = signed_final(api, "ACC-KEYS-3")
    old_key = first["current"]["signature"]["key_id"]
    rotated = api.client.post("/v1/admin/radiologists/dr-att/keys", headers=api.as_("admin"))
    assert rotated.status_code == 201, rotated.text
    new_key = rotated.json()["key_id"]
    assert new_key != old_key
    assert rotated.json()["owner"] == "dr-att"
    assert profile_key_id(api.db, "dr-att") == new_key
    second = signed_final(api, "ACC-KEYS-4")
    assert second["current"]["signature"]["key_id"] == new_key
    docs = api.client.get("/v1/radiologists/dr-att/keys", headers=api.as_("qa")).json()
    assert [d["key_id"] for d in docs] == [old_key, new_key]
    assert all(d["revoked_at"] is None for d in docs)
    keyring = load_trusted_keys(published(api, tmp_path, "dr-att"))
    for report in (first, second):
        assert verify_report_data(stored_doc(api.db, report["id"]), keyring=keyring) == []
        r = api.client.get(f"/v1/reports/{report['id']}/hl7", headers=api.as_("qa"))
        assert r.status_code == 200, r.text
    forbidden = api.client.post("/v1/admin/radiologists/dr-att/keys", headers=api.as_("attending"))
    assert forbidden.status_code == 403


def test_revoked_key_cannot_sign_and_what_it_signed_before_still_verifies(
    api: Api, tmp_path: Path
) -> None:
    before = signed_final(api, "ACC-KEYS-5")
    key_id = before["current"]["signature"]["key_id"]
    admin = api.as_("admin")
    revoked = api.client.post(
        f"/v1/admin/radiologists/dr-att/keys/{key_id}/revoke",
        json={"reason": "Laptop lost."},
        headers=admin,
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert revoked.json()["revocation_reason"] == "Laptop lost."
    again = api.client.post(
        f"/v1/admin/radiologists/dr-att/keys/{key_id}/revoke",
        json={"reason": "Twice."},
        headers=admin,
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "key_already_revoked"
    wrong_owner = api.client.post(
        f"/v1/admin/radiologists/dr-res/keys/{key_id}/revoke",
        json={"reason": "x y z"},
        headers=admin,
    )
    assert wrong_owner.status_code == 404

    report = create_drafted(api.client, api.as_("workstation"), a_case("ACC-KEYS-6"))
    att = api.as_("attending")
    etag = make_signable(api.client, att, report)
    refused = api.client.post(
        f"/v1/reports/{report['id']}/sign",
        json={"status": "final"},
        headers={**att, "If-Match": etag},
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "no_active_key"
    assert api.client.get(f"/v1/reports/{report['id']}", headers=att).json()["state"] == "draft"
    reuse = api.client.put(
        "/v1/admin/radiologists/dr-att",
        json={**make_radiologist("dr-att", "attending").model_dump(mode="json"), "key_id": key_id},
        headers=admin,
    )
    assert reuse.status_code == 422
    assert reuse.json()["error"]["code"] == "key_revoked"

    keyring = load_trusted_keys(published(api, tmp_path, "dr-att"))
    assert keyring[key_id].revoked_at is not None
    assert verify_report_data(stored_doc(api.db, before["id"]), keyring=keyring) == []
    assert (
        api.client.get(f"/v1/reports/{before['id']}/hl7", headers=api.as_("qa")).status_code == 200
    )


def test_private_keys_are_sealed_not_stored_in_clear(api: Api) -> None:
    with api.db.read() as session:
        rows = list(session.scalars(select(RadiologistKeyRow)))
        assert {r.radiologist_id for r in rows} == {"dr-att", "dr-res"}
        for row in rows:
            key = signing_keys.active_signing_key(
                session, row.radiologist_id, keks=api.keks, at=datetime.now(UTC)
            )
            raw = key.private.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            stored = json.dumps([row.private_key_enc, row.kek_id, row.public_key])
            assert row.private_key_enc is not None
            assert row.private_key_enc.startswith("aesgcm1:")
            for clear in (
                "PRIVATE KEY",
                base64.b64encode(raw).decode(),
                raw.hex(),
                key.private_pem().decode().splitlines()[1],
                api.keks.current.encoded(),
            ):
                assert clear not in stored
            assert raw not in base64.b64decode(row.private_key_enc.split(":", 1)[1])
            assert row.kek_id == api.keks.current.kek_id


def test_wrong_or_missing_kek_is_a_clear_error_and_nothing_is_written(
    api: Api, other_app: Any
) -> None:
    report = create_drafted(api.client, api.as_("workstation"), a_case("ACC-KEYS-7"))
    att = api.as_("attending")
    etag = make_signable(api.client, att, report)
    wrong = other_app(key_encryption_key=KeyEncryptionKey.generate().encoded())
    r = wrong.post(
        f"/v1/reports/{report['id']}/sign",
        json={"status": "final"},
        headers={**att, "If-Match": etag},
    )
    assert r.status_code == 500, r.text
    assert r.json()["error"]["code"] == "kek_unknown"
    assert api.keks.current.encoded() not in r.text
    after = api.client.get(f"/v1/reports/{report['id']}", headers=att)
    assert after.json()["state"] == "draft"
    assert after.headers["ETag"] == etag

    none = other_app()
    profile = make_radiologist("dr-nokek", "attending").model_dump(mode="json")
    put = none.put("/v1/admin/radiologists/dr-nokek", json=profile, headers=api.as_("admin"))
    assert put.status_code == 500
    assert put.json()["error"]["code"] == "kek_missing"
    with api.db.read() as session:
        assert session.get(RadiologistRow, "dr-nokek") is None
    with pytest.raises(ConfigurationError) as bad:
        other_app(key_encryption_key=base64.b64encode(b"short").decode())
    assert bad.value.code == "kek_invalid"


def test_a_sealed_key_moved_to_another_row_does_not_unseal(api: Api) -> None:
    with api.db.write() as session:
        rows = {r.radiologist_id: r for r in session.scalars(select(RadiologistKeyRow))}
        rows["dr-att"].private_key_enc = rows["dr-res"].private_key_enc
    with api.db.read() as session, pytest.raises(ConfigurationError) as failed:
        signing_keys.active_signing_key(session, "dr-att", keks=api.keks, at=datetime.now(UTC))
    assert failed.value.code == "key_unseal_failed"


def test_rewrap_reseals_every_key_in_one_transaction(api: Api, other_app: Any) -> None:
    old = api.keks.current
    new = KeyEncryptionKey.generate()
    third = KeyEncryptionKey.generate()
    with api.db.write() as session:
        signing_keys.rotate_key(session, "dr-res", keks=KekRing(third), now=datetime.now(UTC))

    def kek_ids() -> dict[str, str | None]:
        with api.db.read() as session:
            return {r.key_id: r.kek_id for r in session.scalars(select(RadiologistKeyRow))}

    before = kek_ids()
    assert sorted(before.values()) == sorted([old.kek_id, old.kek_id, third.kek_id])
    with pytest.raises(ConfigurationError) as unknown, api.db.write() as session:
        signing_keys.rewrap(session, KekRing(new, (old,)))  # third is not configured
    assert unknown.value.code == "kek_unknown"
    assert kek_ids() == before  # nothing half re-sealed

    with api.db.write() as session:
        assert signing_keys.rewrap(session, KekRing(new, (old, third))) == 3
    assert set(kek_ids().values()) == {new.kek_id}
    with api.db.write() as session:
        assert signing_keys.rewrap(session, KekRing(new)) == 0

    report = create_drafted(api.client, api.as_("workstation"), a_case("ACC-KEYS-8"))
    att = api.as_("attending")
    etag = make_signable(api.client, att, report)
    stale = api.client.post(
        f"/v1/reports/{report['id']}/sign",
        json={"status": "final"},
        headers={**att, "If-Match": etag},
    )
    assert stale.json()["error"]["code"] == "kek_unknown"  # the old KEK alone no longer opens
    current = other_app(key_encryption_key=new.encoded())
    ok = current.post(
        f"/v1/reports/{report['id']}/sign",
        json={"status": "final"},
        headers={**att, "If-Match": etag},
    )
    assert ok.status_code == 200, ok.text


def test_keys_rewrap_and_apikey_create_commands(sqlite_api: Api, tmp_path: Path) -> None:
    """``reportdraft keys rewrap`` re-seals under the current KEK; ``apikey create
    --radiologist`` gives the profile its own sealed key (and refuses without a KEK)."""
    url = str(sqlite_api.db.engine.url)
    old = sqlite_api.keks.current
    new = KeyEncryptionKey.generate()
    runner = CliRunner()
    env = {
        "REPORTDRAFT_KEY_ENCRYPTION_KEY": new.encoded(),
        "REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS": old.encoded(),
    }
    rewrap = attest_cli.keys_group
    result = runner.invoke(rewrap, ["rewrap", "--database-url", url], env=env)
    assert result.exit_code == 0, result.output
    assert f"rewrapped 2 key(s) under key-encryption key {new.kek_id}" in result.output
    kek_file = tmp_path / "kek"
    kek_file.write_text(new.encoded() + "\n")
    from_file = runner.invoke(
        rewrap,
        ["rewrap", "--database-url", url],
        env={"REPORTDRAFT_KEY_ENCRYPTION_KEY_FILE": str(kek_file)},
    )
    assert "rewrapped 0 key(s)" in from_file.output
    missing = runner.invoke(
        rewrap, ["rewrap", "--database-url", url], env={"REPORTDRAFT_KEY_ENCRYPTION_KEY": ""}
    )
    assert missing.exit_code == 2
    assert "error [kek_missing]" in missing.output

    profile = tmp_path / "dr-cli.json"
    profile.write_text(make_radiologist("dr-cli", "attending").model_dump_json())
    args = ["create", "--role", "attending", "--radiologist", str(profile), "--facility", "F1"]
    args += ["--database-url", url]
    refused = runner.invoke(serve_cli.apikey, args, env={"REPORTDRAFT_KEY_ENCRYPTION_KEY": ""})
    assert refused.exit_code == 2
    assert "error [kek_missing]" in refused.output
    with sqlite_api.db.read() as session:
        assert session.get(RadiologistRow, "dr-cli") is None
    created = runner.invoke(
        serve_cli.apikey, args, env={"REPORTDRAFT_KEY_ENCRYPTION_KEY": new.encoded()}
    )
    assert created.exit_code == 0, created.output
    key_id = profile_key_id(sqlite_api.db, "dr-cli")
    with sqlite_api.db.read() as session:
        row = session.get(RadiologistKeyRow, key_id)
        assert row is not None
        assert row.radiologist_id == "dr-cli"
        assert row.kek_id == new.kek_id


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_unsigned_draft_renders_only_as_a_preview(api: Api) -> None:
    report = create_drafted(api.client, api.as_("workstation"), a_case("ACC-KEYS-9"))
    rid = report["id"]
    qa = api.as_("qa")
    for kind in ("pdf", "fhir", "hl7"):
        refused = api.client.get(f"/v1/reports/{rid}/{kind}", headers=qa)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "not_signed"
    preview = api.client.get(f"/v1/reports/{rid}/pdf?preview=true", headers=qa)
    assert preview.status_code == 200, preview.text
    assert preview.headers["content-type"].startswith("application/pdf")
    assert "Electronically signed" not in _pdf_text(preview.content)


def test_preview_renderings_are_watermarked_and_never_final(api: Api) -> None:
    """``?preview=true`` of an unsigned draft: PDF watermarked DRAFT / NOT FOR CLINICAL USE
    without a signature block, HL7 OBR-25 not ``F``.

    Base commit: 409 ``not_signed`` (no preview existed).
    """
    report = create_drafted(api.client, api.as_("workstation"), a_case("ACC-KEYS-10"))
    rid = report["id"]
    qa = api.as_("qa")
    pdf = api.client.get(f"/v1/reports/{rid}/pdf?preview=true", headers=qa)
    text = _pdf_text(pdf.content)
    assert "DRAFT" in text
    assert "NOT FOR CLINICAL USE" in text
    assert "Electronically signed" not in text
    hl7 = api.client.get(f"/v1/reports/{rid}/hl7?preview=true", headers=qa)
    assert hl7.status_code == 200, hl7.text
    obr = next(s for s in hl7.text.split("\r") if s.startswith("OBR|"))
    assert obr.split("|")[25] != "F"
    assert "Electronically signed" not in hl7.text


def test_reports_signed_with_the_legacy_service_key_render_only_when_it_is_trusted(
    api: Api, other_app: Any, tmp_path: Path
) -> None:
    """After the upgrade, a report signed with the one service key of old renders only on a
    service told to trust that key's public half (``REPORTDRAFT_TRUSTED_KEYS``).

    Base commit: no per-radiologist keys existed, every report was signed with the service
    key; at the keys merge such a report became unrenderable (409 ``signature_invalid``,
    key not trusted) with no way to trust it.
    """
    report = create_drafted(api.client, api.as_("workstation"), a_case("ACC-KEYS-LEGACY"))
    make_signable(api.client, api.as_("attending"), report)
    legacy = generate_signing_key()
    signer = make_radiologist("dr-att", "attending").model_copy(update={"key_id": legacy.key_id})
    stored = Report.model_validate(stored_doc(api.db, report["id"]))
    signed = sign(
        stored, to_status=ReportStatus.FINAL, signer=signer, key=legacy, at=datetime.now(UTC)
    )
    write_doc(api.db, report["id"], signed.model_dump(mode="json"))
    path = f"/v1/reports/{report['id']}/hl7"
    refused = api.client.get(path, headers=api.as_("qa"))
    assert refused.status_code == 409, refused.text
    assert {p["code"] for p in refused.json()["error"]["details"]["problems"]} == {
        "signature_untrusted"
    }
    pem = tmp_path / "legacy-service-key.pub.pem"
    pem.write_bytes(legacy.verify_key.public_pem())
    trusting = other_app(trusted_keys=(pem,))
    rendered = trusting.get(path, headers=api.as_("qa"))
    assert rendered.status_code == 200, rendered.text
    assert "|F|" in rendered.text
