"""The hash-chained audit log: intact chains verify, any edit or deletion is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportdraft.attest import (
    AuditAction,
    AuditEvent,
    AuditLog,
    SigningKey,
    SignOff,
    add_addendum,
    events_for,
    open_report,
    read_log,
    sign,
    verify_chain,
)
from reportdraft.attest.audit_log import chain_events
from reportdraft.errors import ConflictError, InputError
from reportdraft.models.report import Radiologist, ReportStatus
from tests.attest.attest_factories import (
    NOW,
    communication,
    high_flag,
    later,
    make_case,
    make_draft,
    pneumothorax_mention,
)


def _events(n: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            at=later(i),
            actor="rad1",
            action=AuditAction.EDIT,
            report_id="ACC1001",
            version=1,
            data={"edited": [f"S{i}"]},
        )
        for i in range(1, n + 1)
    ]


def _entries(n: int) -> list[dict[str, object]]:
    return [e.model_dump(mode="json") for e in chain_events(_events(n))]


def test_intact_chain_verifies() -> None:
    check = verify_chain(_entries(5))
    assert (check.ok, check.count, check.first_broken) == (True, 5, None)


@pytest.mark.parametrize("index", [0, 2, 4])
def test_edited_entry_is_named(index: int) -> None:
    entries = _entries(5)
    entries[index]["data"] = {"edited": ["S99"]}
    check = verify_chain(entries)
    assert (check.ok, check.first_broken) == (False, index + 1)
    assert "edited" in (check.problem or "")


def test_edited_entry_with_recomputed_hash_breaks_the_next_link() -> None:
    entries = _entries(4)
    entries[1]["actor"] = "intruder"
    from reportdraft.attest.audit_log import entry_hash

    entries[1]["hash"] = entry_hash(entries[1])
    check = verify_chain(entries)
    assert check.first_broken == 3
    assert "prev_hash" in (check.problem or "")


@pytest.mark.parametrize("index", [0, 1, 3])
def test_deleted_entry_is_named(index: int) -> None:
    entries = _entries(5)
    del entries[index]
    check = verify_chain(entries)
    assert (check.ok, check.first_broken) == (False, index + 1)


def test_swapped_entries_are_detected() -> None:
    entries = _entries(4)
    entries[1], entries[2] = entries[2], entries[1]
    assert verify_chain(entries).first_broken == 2


def test_log_file_appends_and_one_byte_change_is_detected(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(_events(2))
    log.append(_events(3))  # a second writer continues the same chain
    entries = read_log(log.path)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]  # type: ignore[index]
    assert verify_chain(entries).ok
    lines = log.path.read_text().splitlines()
    lines[3] = lines[3].replace('"S2"', '"S3"', 1)
    log.path.write_text("\n".join(lines) + "\n")
    assert verify_chain(read_log(log.path)).first_broken == 4


def test_non_json_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append(_events(2))
    path.write_text(path.read_text() + "{oops\n")
    check = verify_chain(read_log(path))
    assert (check.first_broken, check.problem) == (3, "not a JSON object")


def test_append_refuses_a_damaged_tail(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append(_events(2))
    lines = path.read_text().splitlines()
    last = json.loads(lines[-1])
    last["actor"] = "intruder"
    path.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    with pytest.raises(ConflictError, match="damaged"):
        AuditLog(path).append(_events(1))


def test_events_cover_the_whole_signoff(attending: Radiologist, key: SigningKey) -> None:
    opened = open_report(
        make_case(),
        make_draft(flags=[high_flag()], critical=[pneumothorax_mention()]),
        by="rad1",
        at=NOW,
    )
    signoff = SignOff.model_validate(
        {
            "statement_edits": [
                {"id": "S4", "text": "Trace effusion."},
                {"section": "impression", "text": "Nodule follow-up in 12 months."},
            ],
            "decisions": {"A1": "confirmed"},
            "acknowledgements": [{"flag_id": "F1", "reason": "Checked on the images."}],
            "communications": [communication().model_dump(mode="json")],
        }
    )
    signed = sign(
        opened,
        to_status=ReportStatus.FINAL,
        signer=attending,
        key=key,
        at=later(10),
        signoff=signoff,
    )
    events = events_for(None, signed, actor="rad1", at=later(10))
    assert [e.action for e in events] == [
        AuditAction.DRAFT_CREATED,
        AuditAction.EDIT,
        AuditAction.DECISION,
        AuditAction.FLAG_ACKNOWLEDGEMENT,
        AuditAction.COMMUNICATION,
        AuditAction.TRANSITION,
        AuditAction.TRANSITION,
        AuditAction.SIGNATURE,
    ]
    assert events[1].data == {"edited": ["S4"], "added": ["S6"]}
    assert events[-1].data["key_id"] == key.key_id
    appended = add_addendum(signed, text="Prior reviewed.", author=attending, key=key, at=later(20))
    more = events_for(signed, appended, actor="rad1", at=later(20))
    assert [e.action for e in more] == [
        AuditAction.TRANSITION,
        AuditAction.ADDENDUM,
        AuditAction.SIGNATURE,
    ]
    assert {e.version for e in more} == {2}


def test_a_signature_without_a_signer_is_refused_not_logged(
    attending: Radiologist, key: SigningKey
) -> None:
    """The model refuses a signed version without a signer; one built without validation
    gets no audit events (the signature event names the signer) but an error."""
    opened = open_report(make_case(decision="confirmed"), make_draft(), by="rad1", at=NOW)
    signed = sign(opened, to_status=ReportStatus.FINAL, signer=attending, key=key, at=later(10))
    unsigned_by = signed.current.model_construct(**{**dict(signed.current), "signer": None})
    broken = signed.model_construct(**{**dict(signed), "versions": [unsigned_by]})
    with pytest.raises(InputError, match="carries a signature but no signer"):
        events_for(None, broken, actor="rad1", at=later(10))
