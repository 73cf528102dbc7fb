"""Signatures over canonical bytes: round trip, and tamper detection of signed versions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reportdraft.attest import (
    SigningKey,
    add_addendum,
    canonical_bytes,
    sign,
    signed_bytes,
    verify_report,
    verify_report_data,
    verify_version_data,
)
from reportdraft.attest.signing import sign_version
from reportdraft.errors import AttestationRefused
from reportdraft.models.report import Radiologist, Report, ReportStatus
from tests.attest.attest_factories import later, make_radiologist, open_clean


@pytest.fixture
def final(attending: Radiologist, key: SigningKey) -> Report:
    """A report signed final, with an addendum (version 2, appended)."""
    signed = sign(
        open_clean(), to_status=ReportStatus.FINAL, signer=attending, key=key, at=later(10)
    )
    return add_addendum(
        signed, text="Prior CT reviewed; nodule stable.", author=attending, key=key, at=later(40)
    )


def codes(problems: list[Any]) -> set[str]:
    """The problem codes of a verification."""
    return {p.code for p in problems}


def test_canonical_bytes_are_sorted_compact_utf8() -> None:
    assert canonical_bytes({"b": 1, "a": ["é", 2.5]}) == '{"a":["é",2.5],"b":1}'.encode()
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_bytes({"x": float("nan")})


def test_signature_covers_exactly_the_stored_form(final: Report) -> None:
    version = final.versions[0]
    assert version.signature is not None
    stored = version.model_dump(mode="json")
    payload = canonical_bytes({k: v for k, v in stored.items() if k != "signature"})
    assert signed_bytes(version) == payload
    reloaded = Report.model_validate_json(final.model_dump_json())
    assert verify_report(reloaded) == []
    assert verify_report_data(json.loads(final.model_dump_json())) == []


def test_every_single_byte_change_of_a_signed_version_is_detected(final: Report) -> None:
    data = final.model_dump(mode="json")["versions"][0]
    blob = canonical_bytes(data)
    assert verify_version_data(json.loads(blob)) == []
    undetected = []
    for position in range(len(blob)):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        try:
            parsed = json.loads(bytes(tampered).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue  # not even a document any more: a reader rejects it
        if not isinstance(parsed, dict) or not verify_version_data(parsed):
            undetected.append(bytes(tampered[max(0, position - 30) : position + 10]))
    assert undetected == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("content", 1, "statements", 0, "text"), "Right lower lobe nodule measuring 6 mm."),
        (("status",), "preliminary"),
        (("signer", "licenses", 0, "number"), "A99999"),
        (("signer_licenses",), []),
        (("case", "patient", "id"), "MRN2"),
        (("draft", "provenance", "model"), "another-model"),
        (("ai_statement",), "Written by hand."),
        (("signature", "signed_at"), "2026-11-27T15:11:00Z"),
    ],
)
def test_changed_field_in_stored_report_is_detected(
    final: Report, path: tuple[Any, ...], value: object
) -> None:
    data = final.model_dump(mode="json")
    target = data["versions"][0]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert "signature_invalid" in codes(verify_report_data(data))


def test_resigning_with_another_key_is_detected(
    final: Report, other_key: SigningKey, key: SigningKey
) -> None:
    version = final.versions[0]
    forged = sign_version(version, other_key, signed_at=later(11))
    data = final.model_dump(mode="json")
    data["versions"][0] = forged.model_dump(mode="json")
    found = codes(verify_report_data(data))
    assert "signer_key_mismatch" in found  # profile names the real key
    assert "chain_broken" in found  # version 2 still points at the original
    trusted = {key.key_id: key.verify_key}
    impostor = make_radiologist(other_key)
    forged_all = sign_version(
        version.model_copy(update={"signer": impostor}), other_key, signed_at=later(10)
    )
    assert verify_version_data(forged_all.model_dump(mode="json")) == []  # self-consistent…
    assert "signature_untrusted" in codes(
        verify_version_data(forged_all.model_dump(mode="json"), keyring=trusted)
    )  # …but not by a trusted key


def test_addendum_tampering_is_detected(final: Report) -> None:
    data = final.model_dump(mode="json")
    data["versions"][1]["addenda"][0]["text"] = "Nodule grew."
    problems = verify_report_data(data)
    assert any("addendum AD1" in p.detail for p in problems)


def test_removed_signature_is_detected(final: Report) -> None:
    data = final.model_dump(mode="json")
    data["versions"][0]["signature"] = None
    assert "signature_missing" in codes(verify_report_data(data))


def test_signing_on_top_of_a_tampered_chain_is_refused(
    final: Report, attending: Radiologist, key: SigningKey
) -> None:
    first = final.versions[0]
    findings = first.content[1]
    shortened = findings.model_copy(update={"statements": findings.statements[:1]})
    tampered_content = [first.content[0], shortened, *first.content[2:]]
    tampered = final.model_copy(
        update={
            "versions": [first.model_copy(update={"content": tampered_content}), final.versions[1]]
        }
    )
    with pytest.raises(AttestationRefused) as refused:
        sign(
            tampered,
            to_status=ReportStatus.AMENDED,
            signer=attending,
            key=key,
            at=later(50),
            reason="Change.",
        )
    assert refused.value.reasons == ["signature_invalid"]
