"""What the endpoints do: read-modify-write of a report through the attestation module.

Every change follows one pattern (:func:`mutate`): in one write transaction, read the
report, check the caller's ``If-Match`` against its version, apply a pure lifecycle
function from ``reportdraft.attest`` (which enforces every sign-off rule), write the new
report with a conditional UPDATE on the version, append the audit entries of the step
(``attest.events_for``) and queue the webhook events — all committed together or not
at all. Two concurrent signs of one version: exactly one UPDATE matches, the other
caller gets 412 and nothing of theirs is written.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from reportdraft import attest
from reportdraft.api.auth import Principal
from reportdraft.api.errors import ApiError
from reportdraft.api.schemas import Links, ReportOut, ReportSummary
from reportdraft.api.state import AppState
from reportdraft.attest import AcknowledgementInput, SignOff
from reportdraft.errors import ConflictError
from reportdraft.models import CommunicationRecord, CommunicationState, CriticalMention
from reportdraft.models.report import SIGNED_STATUSES, Radiologist, Report, ReportStatus
from reportdraft.store import audit, outbox, reports, signing_keys
from reportdraft.store.reports import StoredReport

ADDITIVE_RETRIES = 5
"""Retries of an additive change (decision, acknowledgement) that lost a version race."""


def links(report_id: str) -> Links:
    """The URLs of a report's resources."""
    base = f"/v1/reports/{report_id}"
    return Links(
        self=base, audit=f"{base}/audit", pdf=f"{base}/pdf", fhir=f"{base}/fhir", hl7=f"{base}/hl7"
    )


def summary(stored: StoredReport) -> ReportSummary:
    """A listing entry."""
    return ReportSummary(
        id=stored.id,
        state=stored.state,
        priority=stored.priority,
        accession_number=stored.accession,
        version=stored.version,
        critical_open=stored.critical_open,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        links=links(stored.id),
    )


def to_out(stored: StoredReport) -> ReportOut:
    """The full representation of a report."""
    error = (
        {"code": stored.error_code or "drafting_failed", "message": stored.error or ""}
        if stored.state == reports.FAILED
        else None
    )
    return ReportOut.model_validate(
        {
            **summary(stored).model_dump(),
            "error": error,
            "versions": len(stored.report.versions) if stored.report else 0,
            "draft": stored.draft,
            "current": stored.report.current if stored.report else None,
        }
    )


def alerting(mentions: list[CriticalMention]) -> list[CriticalMention]:
    """The mentions that alert."""
    return [m for m in mentions if m.alert]


def critical_open(report: Report) -> bool:
    """True while an alerting finding has no documented communication."""
    current = report.current
    documented = {r.finding_code for r in current.communications if r.documented}
    return any(m.finding_code not in documented for m in alerting(current.critical))


def record_step(
    session: Session,
    *,
    before: Report | None,
    after: Report,
    actor: str,
    at: datetime,
) -> None:
    """Append the audit entries of one lifecycle step and queue its webhook events."""
    for event in attest.events_for(before, after, actor=actor, at=at):
        audit.append(
            session,
            report_id=after.id,
            event=event.action.value,
            actor=event.actor,
            at=at,
            data={"version": event.version, **event.data},
        )
    cur = after.current
    base = {"report_id": after.id, "accession_number": cur.case.study.accession_number}
    old_codes = {m.finding_code for m in alerting(before.current.critical)} if before else set()
    new_alerts = [m for m in alerting(cur.critical) if m.finding_code not in old_codes]
    if new_alerts:
        outbox.emit(
            session,
            event="critical.detected",
            data={
                **base,
                "findings": [
                    {"code": m.finding_code, "label": m.label, "category": m.category}
                    for m in new_alerts
                ],
            },
            now=at,
        )
    if cur.status in SIGNED_STATUSES and (
        before is None
        or before.current.version != cur.version
        or before.current.status != cur.status
    ):
        outbox.emit(
            session,
            event="report.signed",
            data={**base, "status": cur.status.value, "version": cur.version},
            now=at,
        )


def mutate(
    state: AppState,
    report_id: str,
    *,
    if_match: int | None,
    actor: str,
    step: Callable[[Report, datetime], Report],
) -> StoredReport:
    """Apply ``step`` to the report under the version check; see the module docstring.

    ``if_match`` None means an additive change that may be retried on a lost race
    (a decision or acknowledgement merges with whatever happened meanwhile).
    """
    attempts = 1 if if_match is not None else ADDITIVE_RETRIES
    for attempt in range(attempts):
        try:
            with state.db.write() as session:
                stored = reports.get(session, report_id)
                if if_match is not None and if_match != stored.version:
                    raise reports.StaleVersion(
                        f"If-Match {if_match} is stale: report {report_id} is at "
                        f"version {stored.version}"
                    )
                if stored.report is None:
                    raise ConflictError(
                        f"report {report_id} has no draft yet (state {stored.state})",
                        code="not_drafted",
                    )
                now = state.clock()
                after = step(stored.report, now)
                reports.save(
                    session,
                    report_id,
                    expected_version=stored.version,
                    now=now,
                    state=after.status.value,
                    report=after,
                    critical_open=critical_open(after),
                )
                record_step(session, before=stored.report, after=after, actor=actor, at=now)
            with state.db.read() as session:
                return reports.get(session, report_id)
        except reports.StaleVersion:
            if attempt + 1 >= attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def signer(principal: Principal) -> Radiologist:
    """The radiologist profile the caller signs as (their own, never another's)."""
    if principal.radiologist is None:
        raise ApiError(403, "this API key is not bound to a radiologist profile")
    return principal.radiologist


def signing_key(state: AppState, profile: Radiologist) -> attest.SigningKey:
    """``profile``'s own active key, unsealed for this request (never another's key).

    Refused with 409 ``no_active_key`` / ``key_revoked`` when the radiologist has no usable
    key; a KEK problem is a configuration error (``kek_missing``, ``kek_unknown``,
    ``key_unseal_failed``).
    """
    with state.db.read() as session:
        return signing_keys.active_signing_key(
            session, profile.id, keks=state.keks, at=state.clock()
        )


def keyring(state: AppState) -> dict[str, attest.VerifyKey]:
    """The published keyring: every radiologist key with its owner and revocation time."""
    with state.db.read() as session:
        return signing_keys.keyring(session)


def new_communication(
    report: Report, request: Any, *, by: Radiologist, now: datetime
) -> CommunicationRecord:
    """A communication record for an alerting mention of the current version."""
    current = report.current
    mention = next(
        (m for m in alerting(current.critical) if m.finding_code == request.finding_code), None
    )
    if mention is None:
        raise ApiError(
            422,
            f"no alerting critical finding {request.finding_code} in this report",
            code="unknown_finding",
        )
    existing = [r for r in current.communications if r.finding_code == request.finding_code]
    number = len(current.communications) + 1
    record_id = existing[-1].id if existing else f"C{number}"
    return CommunicationRecord(
        id=record_id,
        finding_code=mention.finding_code,
        finding_label=mention.label,
        category=mention.category,
        identified_at=min(current.draft.provenance.created_at, now),
        communicating_radiologist=by.name.display(),
        recipient=request.recipient,
        method=request.method,
        notified_at=request.notified_at,
        read_back=request.read_back,
        override_reason=request.override_reason,
    )


def communication_state(record: CommunicationRecord, now: datetime) -> CommunicationState:
    """Where a communication stands (``reportdraft.critical`` rules when installed)."""
    try:
        module = importlib.import_module("reportdraft.critical")
        rule = getattr(module, "communication_state", None)
    except ImportError:
        rule = None
    if callable(rule):
        result = rule(record, now)
        assert isinstance(result, CommunicationState)
        return result
    return _fallback_state(record, now)


FALLBACK_DEADLINES = {1: timedelta(hours=1), 2: timedelta(hours=12), 3: timedelta(days=3)}
"""Deadlines used only when ``reportdraft.critical`` is not importable."""


def _fallback_state(record: CommunicationRecord, now: datetime) -> CommunicationState:
    if record.override_reason is not None:
        return CommunicationState.OVERRIDDEN
    if record.acknowledged_at is not None:
        return CommunicationState.ACKNOWLEDGED
    if record.notified_at is not None:
        return CommunicationState.NOTIFIED
    if now - record.identified_at > FALLBACK_DEADLINES[record.category]:
        return CommunicationState.OVERDUE
    return CommunicationState.PENDING


def pending_records(report: Report) -> list[tuple[CriticalMention, CommunicationRecord | None]]:
    """Each alerting finding of the current version with its latest record (or None)."""
    current = report.current
    by_code = {r.finding_code: r for r in current.communications}
    seen: set[str] = set()
    pairs = []
    for mention in alerting(current.critical):
        if mention.finding_code in seen:
            continue
        seen.add(mention.finding_code)
        pairs.append((mention, by_code.get(mention.finding_code)))
    return pairs


def placeholder_record(report: Report, mention: CriticalMention) -> CommunicationRecord:
    """An undocumented communication, to compute how late it is."""
    return CommunicationRecord(
        id="pending",
        finding_code=mention.finding_code,
        finding_label=mention.label,
        category=mention.category,
        identified_at=report.current.draft.provenance.created_at,
    )


def signoff(**fields: Any) -> SignOff:
    """A ``SignOff`` with only the given fields."""
    return SignOff(**fields)


def ack(flag_id: str, reason: str) -> SignOff:
    """A sign-off holding one flag acknowledgement."""
    return SignOff(acknowledgements=[AcknowledgementInput(flag_id=flag_id, reason=reason)])


def is_signed_status(status: ReportStatus) -> bool:
    """True for statuses that exist only signed."""
    return status in SIGNED_STATUSES
