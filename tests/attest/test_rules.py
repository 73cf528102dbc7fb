"""Sign-off rules: each refusal with its reason code, all reported at once, and the passes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reportdraft.attest import SigningKey, SigningPolicy, SignOff, open_report, sign
from reportdraft.critical import communication_statement
from reportdraft.errors import AttestationRefused, ConfigurationError, InputError
from reportdraft.models import (
    Assertion,
    CommunicationMethod,
    CommunicationRecord,
    CriticalMention,
    Severity,
)
from reportdraft.models.report import License, Radiologist, RadiologistRole, Report, ReportStatus
from tests.attest.attest_factories import (
    NOW,
    communication,
    high_flag,
    later,
    make_case,
    make_draft,
    make_radiologist,
    no_critical,
    open_clean,
    pneumothorax_mention,
)

FINAL = ReportStatus.FINAL


def reasons_of(
    report: Report,
    signer: Radiologist,
    key: SigningKey,
    to_status: ReportStatus = FINAL,
    **kwargs: Any,
) -> list[str]:
    """The refusal codes of signing ``report`` into ``to_status`` (empty when it signs)."""
    try:
        kwargs.setdefault("detect", no_critical)  # critical tests pass their own detector
        sign(report, to_status=to_status, signer=signer, key=key, at=later(10), **kwargs)
    except AttestationRefused as refused:
        return refused.reasons
    return []


def test_clean_report_signs(attending: Radiologist, key: SigningKey) -> None:
    assert reasons_of(open_clean(), attending, key) == []


# --- AI finding decisions ---------------------------------------------------------------


def test_pending_ai_finding_refused(attending: Radiologist, key: SigningKey) -> None:
    report = open_report(make_case(), make_draft(), by="rad1", at=NOW)
    assert reasons_of(report, attending, key) == ["ai_finding_pending"]


@pytest.mark.parametrize("decision", ["confirmed", "rejected"])
def test_decision_in_signoff_satisfies_rule(
    decision: str, attending: Radiologist, key: SigningKey
) -> None:
    report = open_report(make_case(), make_draft(), by="rad1", at=NOW)
    signoff = SignOff.model_validate({"decisions": {"A1": decision}})
    assert reasons_of(report, attending, key, signoff=signoff) == []


def test_pending_is_not_a_decision() -> None:
    with pytest.raises(ValueError, match="confirmed"):
        SignOff.model_validate({"decisions": {"A1": "pending"}})


def test_decision_for_unknown_finding_is_an_input_error(
    attending: Radiologist, key: SigningKey
) -> None:
    signoff = SignOff.model_validate({"decisions": {"A7": "confirmed"}})
    with pytest.raises(InputError, match="A7"):
        sign(open_clean(), to_status=FINAL, signer=attending, key=key, at=later(1), signoff=signoff)


# --- verifier flags ---------------------------------------------------------------------


def test_high_flag_on_unchanged_statement_refused(attending: Radiologist, key: SigningKey) -> None:
    assert reasons_of(open_clean(flags=[high_flag()]), attending, key) == ["high_flag_unresolved"]


def test_draft_level_high_flag_refused(attending: Radiologist, key: SigningKey) -> None:
    report = open_clean(flags=[high_flag(statement_id=None)])
    assert reasons_of(report, attending, key) == ["high_flag_unresolved"]


def test_acknowledged_high_flag_passes(attending: Radiologist, key: SigningKey) -> None:
    signoff = SignOff.model_validate(
        {"acknowledgements": [{"flag_id": "F1", "reason": "Size re-measured: 6 mm is right."}]}
    )
    assert reasons_of(open_clean(flags=[high_flag()]), attending, key, signoff=signoff) == []


def test_acknowledgement_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        SignOff.model_validate({"acknowledgements": [{"flag_id": "F1", "reason": ""}]})


@pytest.mark.parametrize(
    "edit_",
    [{"id": "S2", "text": "Left lower lobe nodule measuring 5 mm."}, {"id": "S2", "delete": True}],
)
def test_editing_or_removing_flagged_statement_resolves_flag(
    edit_: dict[str, object], attending: Radiologist, key: SigningKey
) -> None:
    signoff = SignOff.model_validate({"statement_edits": [edit_]})
    assert reasons_of(open_clean(flags=[high_flag()]), attending, key, signoff=signoff) == []


def test_medium_flag_does_not_block(attending: Radiologist, key: SigningKey) -> None:
    flag = high_flag().model_copy(update={"severity": Severity.MEDIUM})
    assert reasons_of(open_clean(flags=[flag]), attending, key) == []


# --- critical results -------------------------------------------------------------------


def test_critical_without_communication_refused(attending: Radiologist, key: SigningKey) -> None:
    report = open_clean(critical=[pneumothorax_mention()])
    assert reasons_of(report, attending, key) == ["critical_communication_missing"]


def test_critical_identified_but_not_notified_refused(
    attending: Radiologist, key: SigningKey
) -> None:
    signoff = SignOff(communications=[communication(documented=False)])
    report = open_clean(critical=[pneumothorax_mention()])
    assert reasons_of(report, attending, key, signoff=signoff) == ["critical_communication_missing"]


def test_documented_communication_passes(attending: Radiologist, key: SigningKey) -> None:
    signoff = SignOff(communications=[communication()])
    report = open_clean(critical=[pneumothorax_mention()])
    assert reasons_of(report, attending, key, signoff=signoff) == []


def _override(**fields: Any) -> CommunicationRecord:
    """The pneumothorax record closed by an override (listed code + own words by default)."""
    base: dict[str, Any] = {
        "override_code": "already_known_to_care_team",
        "override_reason": "Known to the ED team; chest tube already placed.",
    }
    base.update(fields)
    return communication(documented=False).model_copy(update=base)


def _signs(report: Report, signer: Radiologist, key: SigningKey, *records: Any, **kw: Any) -> Any:
    return reasons_of(report, signer, key, signoff=SignOff(communications=list(records)), **kw)


def test_override_with_listed_code_and_text_by_attending_signs(
    attending: Radiologist, key: SigningKey
) -> None:
    """Probe: an override record with code + text signs final; the report says why."""
    report = open_clean(critical=[pneumothorax_mention()])
    assert _signs(report, attending, key, _override()) == []
    signed = sign(
        report,
        to_status=FINAL,
        signer=attending,
        key=key,
        at=later(10),
        signoff=SignOff(communications=[_override()]),
        detect=no_critical,
    )
    assert communication_statement(signed.current.communications[0]).endswith(
        "Already known to the care team; Known to the ED team; chest tube already placed."
    )


def test_free_text_override_without_code_is_refused(
    attending: Radiologist, key: SigningKey
) -> None:
    """Base commit: a free-text override signed (``[]``); now it needs a listed code.

    The old behaviour was the insecure one issue 13 removes: any text closed a Cat 1 result.
    """
    report = open_clean(critical=[pneumothorax_mention()])
    legacy = _override(override_code=None)
    assert _signs(report, attending, key, legacy) == ["override_code_missing"]
    unknown = _override(override_code="felt_like_it")
    assert _signs(report, attending, key, unknown) == ["override_code_unknown"]


@pytest.mark.parametrize("text", ["meh", "meh meh meh meh", "ok ok ok ok ok ok", "n/a n/a n/a"])
def test_override_with_filler_text_is_refused(
    text: str, attending: Radiologist, key: SigningKey
) -> None:
    """Base commit: override_reason "meh meh meh meh" signed; now
    ``override_reason_insufficient`` (``"meh"`` alone is refused by the model as too short,
    so the record is built past validation the way an old stored document would load)."""
    report = open_clean(critical=[pneumothorax_mention()])
    record = _override().model_copy(update={"override_reason": text})
    assert _signs(report, attending, key, record) == ["override_reason_insufficient"]


def test_override_in_a_version_signed_by_a_resident_is_refused(
    resident: Radiologist, other_key: SigningKey
) -> None:
    """Base commit: a resident signed a preliminary report whose Cat 1 result was
    overridden (``[]``); now ``override_not_attending``."""
    report = open_clean(critical=[pneumothorax_mention()])
    prelim = ReportStatus.PRELIMINARY
    assert _signs(report, resident, other_key, _override(), to_status=prelim) == [
        "override_not_attending"
    ]
    called = communication()
    assert _signs(report, resident, other_key, called, to_status=prelim) == []


def test_phone_call_without_read_back_blocks_signing(
    attending: Radiologist, key: SigningKey
) -> None:
    """Base commit: a phone notification with read_back false signed; now refused."""
    report = open_clean(critical=[pneumothorax_mention()])
    silent = communication().model_copy(update={"read_back": False})
    assert _signs(report, attending, key, silent) == ["read_back_missing"]


def test_page_needs_an_acknowledgement_before_signing(
    attending: Radiologist, key: SigningKey
) -> None:
    """A page cannot be read back: the recipient's acknowledgement closes the loop.

    Base commit: an unacknowledged page signed (``[]``)."""
    report = open_clean(critical=[pneumothorax_mention()])
    paged = communication().model_copy(
        update={"method": CommunicationMethod.PAGE, "read_back": False}
    )
    assert _signs(report, attending, key, paged) == ["acknowledgement_missing"]
    acked = paged.model_copy(update={"acknowledged_at": datetime(2026, 11, 27, 14, 44, tzinfo=UTC)})
    assert _signs(report, attending, key, acked) == []


def test_signoff_record_notified_after_the_signing_time_is_refused(
    attending: Radiologist, key: SigningKey
) -> None:
    """A signoff file claiming a call after the moment of signing is not a true record.

    Probe (base commit): sign at later(10) with notified_at = later(10) + 1 h → signed.
    """
    report = open_clean(critical=[pneumothorax_mention()])
    ahead = communication().model_copy(update={"notified_at": later(10) + timedelta(hours=1)})
    assert _signs(report, attending, key, ahead) == ["notified_in_future"]
    within_skew = communication().model_copy(
        update={"notified_at": later(10) + timedelta(seconds=90)}
    )
    assert _signs(report, attending, key, within_skew) == []
    acked_ahead = communication().model_copy(
        update={"acknowledged_at": later(10) + timedelta(hours=1)}
    )
    assert _signs(report, attending, key, acked_ahead) == ["acknowledged_in_future"]


def test_notification_before_acquisition_is_refused(
    attending: Radiologist, key: SigningKey
) -> None:
    """The case was acquired at 14:05 UTC; a call at 13:00 cannot be about this study."""
    report = open_clean(critical=[pneumothorax_mention()])
    early = communication().model_copy(
        update={
            "identified_at": datetime(2026, 11, 27, 12, 55, tzinfo=UTC),
            "notified_at": datetime(2026, 11, 27, 13, 0, tzinfo=UTC),
        }
    )
    assert _signs(report, attending, key, early) == ["notified_before_acquisition"]


def test_stored_free_text_override_still_loads() -> None:
    """Records written before override codes existed load unchanged (no code, no
    identified_from); the sign-off rules, not the model, say what they lack."""
    stored = {
        "id": "C1",
        "finding_code": "pneumothorax",
        "finding_label": "Pneumothorax",
        "category": 1,
        "identified_at": "2026-11-27T14:30:00Z",
        "read_back": False,
        "override_reason": "Known to the ED team.",
    }
    record = CommunicationRecord.model_validate(stored)
    assert (record.override_code, record.identified_from, record.documented) == (None, None, True)


def test_non_alerting_and_cat3_mentions_do_not_block(
    attending: Radiologist, key: SigningKey
) -> None:
    negated = pneumothorax_mention(alert=False)
    cat3 = pneumothorax_mention().model_copy(update={"finding_code": "lung_nodule", "category": 3})
    assert reasons_of(open_clean(critical=[negated, cat3]), attending, key) == []


def _keyword_detector(text: str) -> list[CriticalMention]:
    """A tiny deterministic detector: 'pneumothorax' alerts unless the text starts with 'No'."""
    at = text.lower().find("pneumothorax")
    if at < 0:
        return []
    negated = text.lower().startswith("no ")
    return [
        pneumothorax_mention().model_copy(
            update={
                "start": at,
                "end": at + 12,
                "statement_id": None,
                "alert": not negated,
                "assertion": Assertion.NEGATED if negated else Assertion.PRESENT,
            }
        )
    ]


def test_edited_statement_is_redetected_for_critical_rule(
    attending: Radiologist, key: SigningKey
) -> None:
    clean = open_clean()
    added = SignOff(statement_edits=[{"section": "impression", "text": "Large pneumothorax."}])
    assert reasons_of(clean, attending, key, signoff=added, detect=_keyword_detector) == [
        "critical_communication_missing"
    ]
    flagged = open_clean(critical=[pneumothorax_mention("S3"), pneumothorax_mention("S5")])
    negated = SignOff(
        statement_edits=[{"id": "S3", "text": "No pneumothorax."}, {"id": "S5", "delete": True}]
    )
    assert reasons_of(flagged, attending, key, signoff=negated, detect=_keyword_detector) == []


# --- the signer -------------------------------------------------------------------------


def test_resident_cannot_sign_final(resident: Radiologist, other_key: SigningKey) -> None:
    assert reasons_of(open_clean(), resident, other_key) == ["signer_not_authorized"]


def test_resident_can_sign_preliminary(resident: Radiologist, other_key: SigningKey) -> None:
    report = open_clean()
    assert reasons_of(report, resident, other_key, to_status=ReportStatus.PRELIMINARY) == []


def test_policy_is_configurable(
    tmp_path: Path, resident: Radiologist, other_key: SigningKey
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "version: 1\nmay_sign:\n  preliminary: [resident, attending]\n"
        "  final: [resident, attending]\n",
        encoding="utf-8",
    )
    policy = SigningPolicy.load(path)
    assert reasons_of(open_clean(), resident, other_key, policy=policy) == []


def test_policy_file_rejects_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nmay_sign: {final: [attending]}\nmay_sing: {}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="may_sing"):
        SigningPolicy.load(path)


def test_key_not_in_signer_profile_refused(attending: Radiologist, other_key: SigningKey) -> None:
    assert reasons_of(open_clean(), attending, other_key) == ["signer_key_mismatch"]


def test_profile_without_key_refused(key: SigningKey) -> None:
    assert reasons_of(open_clean(), make_radiologist(None), key) == ["signer_key_unregistered"]


def test_no_license_in_patient_state_refused(attending: Radiologist, key: SigningKey) -> None:
    report = open_report(
        make_case(location="TX", decision="confirmed"), make_draft(), by="rad1", at=NOW
    )
    assert reasons_of(report, attending, key) == ["license_missing"]


def test_expired_license_refused(key: SigningKey) -> None:
    expired = make_radiologist(
        key,
        licenses=[
            License(region="CA", number="A1", expires=date(2026, 11, 26)),
            License(region="NY", number="N1", expires=date(2030, 1, 1)),
        ],
    )
    assert reasons_of(open_clean(), expired, key) == ["license_expired"]


def test_license_expiring_on_signing_day_is_active(key: SigningKey) -> None:
    signer = make_radiologist(
        key, licenses=[License(region="US-CA", number="A1", expires=later(10).date())]
    )
    assert reasons_of(open_clean(), signer, key) == []


def test_post_sign_change_needs_reason(attending: Radiologist, key: SigningKey) -> None:
    final = sign(open_clean(), to_status=FINAL, signer=attending, key=key, at=later(5))
    assert reasons_of(final, attending, key, to_status=ReportStatus.AMENDED) == ["reason_required"]
    assert reasons_of(final, attending, key, to_status=ReportStatus.AMENDED, reason="Why.") == []


# --- everything at once -----------------------------------------------------------------


def test_every_failing_rule_is_reported_at_once(key: SigningKey, other_key: SigningKey) -> None:
    report = open_report(
        make_case(location="TX"),
        make_draft(flags=[high_flag()], critical=[pneumothorax_mention()]),
        by="rad1",
        at=NOW,
    )
    resident = make_radiologist(key, role=RadiologistRole.RESIDENT)
    assert reasons_of(report, resident, other_key) == [
        "ai_finding_pending",
        "high_flag_unresolved",
        "critical_communication_missing",
        "signer_not_authorized",
        "signer_key_mismatch",
        "license_missing",
    ]


def test_refusal_message_names_the_specifics(attending: Radiologist, key: SigningKey) -> None:
    report = open_report(make_case(), make_draft(flags=[high_flag()]), by="rad1", at=NOW)
    with pytest.raises(AttestationRefused, match=r"A1 .*F1") as refused:
        sign(report, to_status=FINAL, signer=attending, key=key, at=later(1))
    assert refused.value.code == "attestation_refused"
    assert refused.value.http_status == 409
