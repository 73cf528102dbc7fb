"""The report lifecycle: every legal transition, the illegal ones, immutability, history."""

from __future__ import annotations

import pytest

from reportdraft.attest import (
    SigningKey,
    SignOff,
    add_addendum,
    can_transition,
    edit,
    open_report,
    sign,
    verify_report,
    version_ref,
)
from reportdraft.attest.changes import StatementEdit, apply_edits
from reportdraft.errors import AttestationRefused, DraftValidationError, InputError
from reportdraft.models.report import Radiologist, Report, ReportStatus
from tests.attest.attest_factories import (
    NOW,
    later,
    make_case,
    make_draft,
    no_critical,
    open_clean,
)

S = ReportStatus


def _final(report: Report, attending: Radiologist, key: SigningKey) -> Report:
    return sign(report, to_status=S.FINAL, signer=attending, key=key, at=later(10))


def test_open_report_starts_as_unsigned_draft_version_one() -> None:
    report = open_report(make_case(), make_draft(), by="rad1", at=NOW)
    current = report.current
    assert (report.id, current.version, current.status) == ("ACC1001", 1, S.DRAFT)
    assert current.signature is None
    assert [(t.from_status, t.to_status, t.by) for t in report.transitions()] == [
        (None, S.DRAFT, "rad1")
    ]
    assert current.content == make_draft().sections
    assert "AI" in current.ai_statement
    assert "llamacpp" in current.ai_statement


def test_open_report_refuses_draft_of_another_case() -> None:
    other = make_draft().model_copy(update={"accession_number": "OTHER9"})
    with pytest.raises(DraftValidationError, match="OTHER9"):
        open_report(make_case(), other, by="rad1", at=NOW)


def test_draft_to_final_signs_version_one_in_place(attending: Radiologist, key: SigningKey) -> None:
    report = _final(open_clean(), attending, key)
    assert len(report.versions) == 1
    current = report.current
    assert current.status is S.FINAL
    assert current.signature is not None
    assert current.signer == attending
    assert [lic.number for lic in current.signer_licenses] == ["A12345"]
    last = report.transitions()[-1]
    assert (last.from_status, last.to_status, last.by, last.at) == (
        S.DRAFT,
        S.FINAL,
        "rad1",
        later(10),
    )
    assert verify_report(report) == []


def test_resident_preliminary_then_attending_final_is_a_new_version(
    attending: Radiologist, resident: Radiologist, key: SigningKey, other_key: SigningKey
) -> None:
    prelim = sign(
        open_clean(), to_status=S.PRELIMINARY, signer=resident, key=other_key, at=later(5)
    )
    assert prelim.current.status is S.PRELIMINARY
    final = sign(
        prelim,
        to_status=S.FINAL,
        signer=attending,
        key=key,
        at=later(30),
        signoff=SignOff(statement_edits=[{"id": "S4", "text": "Trace pleural fluid."}]),
    )
    assert [v.status for v in final.versions] == [S.PRELIMINARY, S.FINAL]
    assert final.versions[0] == prelim.versions[0]  # the signed prelim is untouched
    assert final.current.previous == version_ref(prelim.current)
    assert final.current.statement("S4").text == "Trace pleural fluid."  # type: ignore[union-attr]
    assert prelim.current.statement("S4").text == "No pleural effusion."  # type: ignore[union-attr]
    assert [(t.from_status, t.to_status, t.by) for t in final.transitions()] == [
        (None, S.DRAFT, "rad1"),
        (S.DRAFT, S.PRELIMINARY, "res1"),
        (S.PRELIMINARY, S.FINAL, "rad1"),
    ]
    assert verify_report(final) == []


@pytest.mark.parametrize("post", [S.AMENDED, S.CORRECTED])
def test_final_to_amended_or_corrected_creates_version_with_reason(
    post: ReportStatus, attending: Radiologist, key: SigningKey
) -> None:
    final = _final(open_clean(), attending, key)
    changed = sign(
        final,
        to_status=post,
        signer=attending,
        key=key,
        at=later(60),
        reason="Laterality corrected after review.",
        signoff=SignOff(statement_edits=[{"id": "S3", "text": "Small left pneumothorax."}]),
        detect=no_critical,
    )
    assert [v.version for v in changed.versions] == [1, 2]
    assert changed.current.status is post
    assert changed.versions[0] == final.versions[0]
    last = changed.transitions()[-1]
    assert (last.from_status, last.to_status, last.reason) == (
        S.FINAL,
        post,
        "Laterality corrected after review.",
    )
    assert verify_report(changed) == []


def test_chain_of_post_sign_changes(attending: Radiologist, key: SigningKey) -> None:
    report = _final(open_clean(), attending, key)
    for minutes, status in ((60, S.AMENDED), (70, S.CORRECTED), (80, S.AMENDED)):
        report = sign(
            report,
            to_status=status,
            signer=attending,
            key=key,
            at=later(minutes),
            reason="Further change.",
        )
    report = add_addendum(
        report, text="Compared with outside CT.", author=attending, key=key, at=later(90)
    )
    report = sign(
        report, to_status=S.CORRECTED, signer=attending, key=key, at=later(95), reason="Typo."
    )
    assert [v.status for v in report.versions] == [
        S.FINAL,
        S.AMENDED,
        S.CORRECTED,
        S.AMENDED,
        S.APPENDED,
        S.CORRECTED,
    ]
    assert len(report.current.addenda) == 1  # carried into later versions
    assert verify_report(report) == []


def test_addendum_is_signed_on_its_own(attending: Radiologist, key: SigningKey) -> None:
    final = _final(open_clean(), attending, key)
    appended = add_addendum(
        final,
        text="Outside study reviewed: unchanged nodule.",
        author=attending,
        key=key,
        at=later(120),
    )
    addendum = appended.current.addenda[0]
    assert appended.current.status is S.APPENDED
    assert addendum.signature is not None
    assert addendum.signature.key_id == key.key_id
    assert addendum.appends == version_ref(final.current)
    assert verify_report(appended) == []


ILLEGAL = [
    (S.DRAFT, S.AMENDED),
    (S.DRAFT, S.CORRECTED),
    (S.PRELIMINARY, S.PRELIMINARY),
    (S.PRELIMINARY, S.AMENDED),
    (S.FINAL, S.FINAL),
    (S.FINAL, S.PRELIMINARY),
    (S.AMENDED, S.FINAL),
    (S.CORRECTED, S.PRELIMINARY),
]


def test_transition_table() -> None:
    legal = {(S.DRAFT, S.PRELIMINARY), (S.DRAFT, S.FINAL), (S.PRELIMINARY, S.FINAL)}
    legal |= {
        (a, b)
        for a in (S.FINAL, S.AMENDED, S.CORRECTED, S.APPENDED)
        for b in (S.AMENDED, S.CORRECTED, S.APPENDED)
    }
    for a in ReportStatus:
        for b in ReportStatus:
            assert can_transition(a, b) == ((a, b) in legal), (a, b)


def _at_status(status: ReportStatus, attending: Radiologist, key: SigningKey) -> Report:
    report = open_clean()
    if status is S.DRAFT:
        return report
    if status is S.PRELIMINARY:
        return sign(report, to_status=S.PRELIMINARY, signer=attending, key=key, at=later(5))
    report = _final(report, attending, key)
    if status is S.FINAL:
        return report
    return sign(report, to_status=status, signer=attending, key=key, at=later(20), reason="Why.")


@pytest.mark.parametrize(("start", "target"), ILLEGAL)
def test_illegal_transitions_are_refused(
    start: ReportStatus, target: ReportStatus, attending: Radiologist, key: SigningKey
) -> None:
    report = _at_status(start, attending, key)
    with pytest.raises(AttestationRefused) as refused:
        sign(report, to_status=target, signer=attending, key=key, at=later(40), reason="Why.")
    assert refused.value.reasons == ["illegal_transition"]


def test_addendum_on_a_draft_is_illegal(attending: Radiologist, key: SigningKey) -> None:
    with pytest.raises(AttestationRefused) as refused:
        add_addendum(open_clean(), text="Too early.", author=attending, key=key, at=later(1))
    assert "illegal_transition" in refused.value.reasons


def test_appended_without_an_addendum_is_illegal(attending: Radiologist, key: SigningKey) -> None:
    final = _final(open_clean(), attending, key)
    with pytest.raises(AttestationRefused) as refused:
        sign(final, to_status=S.APPENDED, signer=attending, key=key, at=later(30), reason="Why.")
    assert refused.value.reasons == ["illegal_transition"]


def test_edit_changes_the_draft_in_place(attending: Radiologist, key: SigningKey) -> None:
    report = open_clean()
    edited = edit(
        report,
        SignOff(statement_edits=[{"id": "S4", "text": "Tiny effusion."}]),
        by="rad1",
        at=later(2),
    )
    assert len(edited.versions) == 1
    assert edited.current.statement("S4").generator == "radiologist"  # type: ignore[union-attr]
    assert report.current.statement("S4").text == "No pleural effusion."  # type: ignore[union-attr]


def test_signed_version_cannot_be_edited(attending: Radiologist, key: SigningKey) -> None:
    final = _final(open_clean(), attending, key)
    with pytest.raises(AttestationRefused) as refused:
        edit(
            final,
            SignOff(statement_edits=[{"id": "S4", "text": "Changed."}]),
            by="rad1",
            at=later(30),
        )
    assert refused.value.reasons == ["version_immutable"]


def test_report_rejects_unsigned_older_version(attending: Radiologist, key: SigningKey) -> None:
    final = _final(open_clean(), attending, key)
    amended = sign(
        final, to_status=S.AMENDED, signer=attending, key=key, at=later(30), reason="Why."
    )
    data = amended.model_dump(mode="json")
    data["versions"][0]["signature"] = None
    data["versions"][0]["status"] = "draft"
    data["versions"][0]["transitions"] = data["versions"][0]["transitions"][:1]
    with pytest.raises(ValueError, match="only the current version may be unsigned"):
        Report.model_validate(data)


def test_refused_sign_leaves_report_unchanged(attending: Radiologist, key: SigningKey) -> None:
    report = open_report(make_case(), make_draft(), by="rad1", at=NOW)  # A1 pending
    before = report.model_dump()
    with pytest.raises(AttestationRefused):
        sign(
            report,
            to_status=S.FINAL,
            signer=attending,
            key=key,
            at=later(10),
            signoff=SignOff(statement_edits=[{"id": "S4", "text": "Changed."}]),
        )
    assert report.model_dump() == before


def test_a_new_statement_built_without_validation_is_refused_by_name() -> None:
    """The model refuses an added statement without text; an unvalidated one is refused too."""
    report = open_clean()
    unchecked = StatementEdit.model_construct(text="Small effusion.")  # no section
    with pytest.raises(InputError, match=r"statement_edits\[0\]: a new statement needs text"):
        apply_edits(report.current.content, [unchecked], report.current.draft)
