"""A signature's key must be the signer's own, unrevoked at signing; trust material loading.

Probe on the base commit (each test here fails there):
``python -c "from reportdraft.attest.keys import VerifyKey; VerifyKey(None, 'x', owner='a')"``
→ ``TypeError`` (a keyring entry could not name an owner or revocation), and
``from reportdraft.attest import load_trusted_keys`` → ``ImportError``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from reportdraft.attest import (
    KeyDocument,
    SigningKey,
    VerifyKey,
    add_addendum,
    load_trusted_keys,
    sign,
    verify_report_data,
    verify_version_data,
)
from reportdraft.attest.signing import sign_version
from reportdraft.cli import attest as attest_cli
from reportdraft.errors import AttestationRefused, ConfigurationError
from reportdraft.models.report import Radiologist, Report, ReportStatus
from tests.attest.attest_factories import NOW, later, open_clean


def owned(key: SigningKey, owner: str, *, revoked_minutes: int | None = None) -> VerifyKey:
    """``key``'s keyring entry, owned by ``owner``, revoked ``revoked_minutes`` after NOW."""
    revoked = later(revoked_minutes) if revoked_minutes is not None else None
    return VerifyKey(key.verify_key.public, key.key_id, owner=owner, revoked_at=revoked)


def codes(problems: list[Any]) -> set[str]:
    """The problem codes of a verification."""
    return {p.code for p in problems}


@pytest.fixture
def final(attending: Radiologist, key: SigningKey) -> Report:
    """Signed final at NOW+10 min by the attending with their key, addendum at NOW+40."""
    signed = sign(
        open_clean(), to_status=ReportStatus.FINAL, signer=attending, key=key, at=later(10)
    )
    return add_addendum(
        signed, text="Prior CT reviewed; nodule stable.", author=attending, key=key, at=later(40)
    )


def test_published_owner_binds_the_key_to_the_signer(
    final: Report, attending: Radiologist, key: SigningKey
) -> None:
    data = final.model_dump(mode="json")
    assert verify_report_data(data, keyring={key.key_id: owned(key, attending.id)}) == []
    found = codes(verify_report_data(data, keyring={key.key_id: owned(key, "someone-else")}))
    assert found == {"key_not_signers"}


def test_a_profile_copy_carrying_another_radiologists_key_fails(
    final: Report, attending: Radiologist, key: SigningKey, other_key: SigningKey
) -> None:
    """A signs with B's key and a forged copy of A's profile naming B's key id."""
    version = final.versions[0]
    forged_profile = attending.model_copy(update={"key_id": other_key.key_id})
    forged = sign_version(
        version.model_copy(update={"signer": forged_profile}),
        other_key,
        signed_at=version.transitions[-1].at,
    ).model_dump(mode="json")
    assert verify_version_data(forged) == []  # self-consistent: the profile check passes
    published = {key.key_id: owned(key, attending.id), other_key.key_id: owned(other_key, "res1")}
    assert codes(verify_version_data(forged, keyring=published)) == {"key_not_signers"}


def test_revoked_key_verifies_only_what_it_signed_before_revocation(
    final: Report, attending: Radiologist, key: SigningKey
) -> None:
    data = final.model_dump(mode="json")
    after_both = {key.key_id: owned(key, attending.id, revoked_minutes=41)}
    assert verify_report_data(data, keyring=after_both) == []
    between = {key.key_id: owned(key, attending.id, revoked_minutes=40)}  # at the addendum
    problems = verify_report_data(data, keyring=between)
    assert codes(problems) == {"key_revoked"}
    assert all("version 2" in p.detail for p in problems)  # version 1 (10 min) still fine


def test_signing_refuses_a_key_that_is_not_the_signers_or_is_revoked(
    attending: Radiologist, key: SigningKey, other_key: SigningKey
) -> None:
    def attempt(keyring: dict[str, VerifyKey]) -> list[str]:
        with pytest.raises(AttestationRefused) as refused:
            sign(
                open_clean(),
                to_status=ReportStatus.FINAL,
                signer=attending,
                key=key,
                at=later(10),
                keyring=keyring,
            )
        return refused.value.reasons

    assert attempt({key.key_id: owned(key, "res1")}) == ["key_not_signers"]
    assert attempt({key.key_id: owned(key, attending.id, revoked_minutes=10)}) == ["key_revoked"]
    assert attempt({other_key.key_id: owned(other_key, attending.id)}) == ["signer_key_untrusted"]
    ok = sign(
        open_clean(),
        to_status=ReportStatus.FINAL,
        signer=attending,
        key=key,
        at=later(10),
        keyring={key.key_id: owned(key, attending.id, revoked_minutes=11)},
    )
    assert ok.current.signature is not None


def _document(key: SigningKey, who: str, **extra: Any) -> dict[str, Any]:
    document = KeyDocument.of(owned(key, who), created_at=NOW).model_dump(mode="json")
    return {**document, **extra}


def test_load_trusted_keys_reads_pem_documents_lists_and_directories(
    tmp_path: Path, key: SigningKey, other_key: SigningKey
) -> None:
    pem = tmp_path / "a.pem"
    pem.write_bytes(key.verify_key.public_pem())
    bare = load_trusted_keys(pem)
    assert list(bare) == [key.key_id]
    assert bare[key.key_id].owner is None
    one = tmp_path / "one.json"
    one.write_text(json.dumps(_document(key, "rad1")))
    assert load_trusted_keys(one)[key.key_id].owner == "rad1"
    revoked_at = (NOW + timedelta(days=1)).isoformat()
    listed = tmp_path / "list.json"
    listed.write_text(
        json.dumps([_document(key, "rad1"), _document(other_key, "res1", revoked_at=revoked_at)])
    )
    keyring = load_trusted_keys(listed)
    assert keyring[other_key.key_id].revoked_at == NOW + timedelta(days=1)
    folder = tmp_path / "trust"
    folder.mkdir()
    (folder / "a.pem").write_bytes(key.verify_key.public_pem())
    (folder / "b.json").write_text(json.dumps(_document(key, "rad1")))
    (folder / "notes.txt").write_text("ignored")
    merged = load_trusted_keys(folder)
    assert merged[key.key_id].owner == "rad1"  # the document adds the owner to the PEM's key


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key_id": "0123456789abcdef"}, "key_id is not its key's id"),
        ({"public_key_pem": "other"}, "public_key and public_key_pem differ"),
        ({"owner": None}, "owner"),
        ({"private_key": "x"}, "private_key"),
    ],
)
def test_a_malformed_key_document_is_refused(
    tmp_path: Path, key: SigningKey, other_key: SigningKey, change: dict[str, Any], message: str
) -> None:
    if change.get("public_key_pem") == "other":
        change = {"public_key_pem": other_key.verify_key.public_pem().decode()}
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(_document(key, "rad1", **change)))
    with pytest.raises(ConfigurationError, match=message):
        load_trusted_keys(path)


def test_conflicting_trusted_entries_for_one_key_are_refused(
    tmp_path: Path, key: SigningKey
) -> None:
    """The same key published for two owners: either could be the forged one."""
    (tmp_path / "a.json").write_text(json.dumps(_document(key, "rad1")))
    (tmp_path / "b.json").write_text(json.dumps(_document(key, "res1")))
    with pytest.raises(ConfigurationError, match="conflicting"):
        load_trusted_keys(tmp_path)
    with pytest.raises(ConfigurationError, match="not found"):
        load_trusted_keys(tmp_path / "missing.json")


def _cli() -> click.Group:
    group = click.Group("reportdraft")
    for command in attest_cli.COMMANDS:
        group.add_command(command)
    return group


def _cli_sign(tmp_path: Path, key: SigningKey, signer: Radiologist, trust: Path) -> Result:
    report = open_clean()
    (tmp_path / "key.pem").write_bytes(key.private_pem())
    (tmp_path / "signer.json").write_text(signer.model_dump_json())
    (tmp_path / "case.json").write_text(report.current.case.model_dump_json())
    (tmp_path / "draft.json").write_text(report.current.draft.model_dump_json())
    args = ["sign", "--case", str(tmp_path / "case.json"), "--draft"]
    args += [str(tmp_path / "draft.json"), "--signer", str(tmp_path / "signer.json")]
    args += ["--key", str(tmp_path / "key.pem"), "--at", later(10).isoformat()]
    args += ["--signoff", str(_signoff(tmp_path)), "--trust", str(trust)]
    args += ["--out", str(tmp_path / "out.json")]
    return CliRunner().invoke(_cli(), args, catch_exceptions=False)


def _signoff(tmp_path: Path) -> Path:
    path = tmp_path / "signoff.json"
    path.write_text(json.dumps({"decisions": {"A1": "confirmed"}}))
    return path


@pytest.mark.parametrize(
    ("owner", "revoked_minutes", "expected"),
    [
        ("res1", None, "key_not_signers"),
        ("rad1", 10, "key_revoked"),
        ("rad1", 11, None),
    ],
)
def test_cli_sign_checks_the_key_against_trusted_key_documents(
    tmp_path: Path,
    key: SigningKey,
    attending: Radiologist,
    owner: str,
    revoked_minutes: int | None,
    expected: str | None,
) -> None:
    """``reportdraft sign --key K --signer rad1.json --trust docs.json`` where the document
    says K is another radiologist's (or revoked): on the base commit it signs (exit 0)."""
    document = _document(key, owner)
    if revoked_minutes is not None:
        document["revoked_at"] = later(revoked_minutes).isoformat()
    trust = tmp_path / "trusted.json"
    trust.write_text(json.dumps([document]))
    result = _cli_sign(tmp_path, key, attending, trust)
    if expected is None:
        assert result.exit_code == 0, result.output
        assert (tmp_path / "out.json").exists()
    else:
        assert result.exit_code == 2, result.output
        assert expected in result.output
        assert not (tmp_path / "out.json").exists()
