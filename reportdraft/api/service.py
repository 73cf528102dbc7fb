"""What the endpoints do: read-modify-write of a report through the attestation module.

Every change follows one pattern (:func:`mutate`): in one write transaction, read the
report, check the caller's ``If-Match`` against its version, apply a pure lifecycle
function from ``reportdraft.attest`` (which enforces every sign-off rule), write the new
report with a conditional UPDATE on the version, append the audit entries of the step
(``attest.events_for``) and queue the webhook events — all committed together or not
at all. Two concurrent signs of one version: exactly one UPDATE matches, the other
caller gets 412 and nothing of theirs is written.

Every endpoint reads a report through :func:`load_report`, which applies the caller's
facility scope: a report of another facility is not found, exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from reportdraft import attest
from reportdraft.api.auth import Principal
from reportdraft.api.error_bodies import ApiError
from reportdraft.api.schemas import (
    CommunicationAckRequest,
    CommunicationRequest,
    Links,
    ReportOut,
    ReportSummary,
)
from reportdraft.api.state import AppState
from reportdraft.attest import AcknowledgementInput, SignOff
from reportdraft.critical import CommunicationProblem, identification, record_problems
from reportdraft.critical import communication_state as critical_communication_state
from reportdraft.errors import AttestationRefused, ConflictError, ReportDraftError
from reportdraft.models import (
    CommunicationRecord,
    CommunicationState,
    CriticalMention,
    Recipient,
)
from reportdraft.models.report import (
    SIGNED_STATUSES,
    Radiologist,
    RadiologistRole,
    Report,
    ReportStatus,
)
from reportdraft.store import audit_trail, outbox, reports, signing_keys
from reportdraft.store.principals import Role
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


def load_report(session: Session, principal: Principal, report_id: str) -> StoredReport:
    """The report ``report_id`` as ``principal`` may see it: the one scoped loader.

    A report outside the key's facilities raises the same ``NotFoundError`` (404, same
    body) as a report that does not exist, so a key cannot probe other facilities.
    """
    return reports.get(session, report_id, facilities=principal.facilities)


def report_body(
    state: AppState, session: Session, principal: Principal, report_id: str, version: int
) -> tuple[bytes, str]:
    """The JSON body of ``GET /v1/reports/{id}`` as ``principal`` may see it, and its ETag.

    ``version`` is the report's current version as the principal may see it, read from
    the database in ``session`` on every call (``api.auth.authorize_read``); the body is
    serialised from the scoped loader only when this process has not already done so for
    that version (``api.read_cache``).
    """
    body = state.reads.get(report_id, version)
    if body is None:
        stored = load_report(session, principal, report_id)
        version = stored.version
        body = to_out(stored).model_dump_json().encode("utf-8")
        state.reads.put(report_id, version, body)
    return body, f'"{version}"'


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
        audit_trail.append(
            session,
            report_id=after.id,
            event=event.action.value,
            actor=event.actor,
            at=at,
            data={"version": event.version, **event.data},
        )
    cur = after.current
    facility = reports.facility_of(cur.case)
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
            facility=facility,
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
            facility=facility,
            now=at,
        )


def mutate(
    state: AppState,
    report_id: str,
    *,
    if_match: int | None,
    principal: Principal,
    step: Callable[[Report, datetime], Report],
) -> StoredReport:
    """Apply ``step`` to the report under the version check; see the module docstring.

    ``if_match`` None means an additive change that may be retried on a lost race
    (a decision or acknowledgement merges with whatever happened meanwhile). The report
    is read through :func:`load_report` (the caller's facility scope) and the audit
    trail names ``principal.actor``.
    """
    actor = principal.actor
    attempts = 1 if if_match is not None else ADDITIVE_RETRIES
    for attempt in range(attempts):
        try:
            with state.db.write() as session:
                stored = load_report(session, principal, report_id)
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
                return load_report(session, principal, report_id)
        except reports.StaleVersion:
            if attempt + 1 >= attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def signer(principal: Principal) -> Radiologist:
    """The radiologist profile the caller signs as (their own, never another's)."""
    if principal.radiologist is None:
        raise ApiError(403, "this API key is not bound to a radiologist profile")
    return principal.radiologist


def check_may_sign(principal: Principal, status: ReportStatus) -> None:
    """Refuse a final signature from a key that is not an attending's (403)."""
    if status is ReportStatus.FINAL and principal.role is not Role.ATTENDING:
        raise ApiError(403, "only an attending key may sign a final report")


def sign_problems(
    state: AppState, principal: Principal, report: Report, status: ReportStatus
) -> list[tuple[str, str]]:
    """Every rule that would refuse ``principal`` signing ``report`` as ``status`` now.

    A dry run of the real thing: the key check of the endpoint, the signer's own key and
    the published keyring, then :func:`reportdraft.attest.sign` itself, whose refusal
    lists every failing rule (nothing is stored). So a page can show the radiologist
    the whole list before they press the button, from the same rules that decide.
    """
    try:
        check_may_sign(principal, status)
        profile = signer(principal)
        key = signing_key(state, profile)
    except ReportDraftError as exc:
        return [(exc.code, exc.message)]
    try:
        attest.sign(
            report,
            to_status=status,
            signer=profile,
            key=key,
            at=state.clock(),
            keyring=keyring(state),
        )
    except AttestationRefused as exc:
        return exc.refusals or [(code, code) for code in exc.reasons]
    return []


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
    """What renderings verify against: every radiologist key with its owner and revocation
    time, plus the configured legacy keys (a radiologist's own entry wins a shared id)."""
    with state.db.read() as session:
        return {**state.legacy_trust, **signing_keys.keyring(session)}


def _refuse(problems: list[CommunicationProblem]) -> None:
    """Raise the API error for the first problem: 403 for who, 422 for what.

    Every problem is listed in ``details`` so a workstation can show them at once.
    """
    if not problems:
        return
    first = problems[0]
    raise ApiError(
        403 if first.code == "override_not_attending" else 422,
        "; ".join(p.detail for p in problems),
        code=first.code,
        details=[{"code": p.code, "message": p.detail} for p in problems],
    )


def is_attending(principal: Principal, profile: Radiologist) -> bool:
    """True when the caller holds an attending key bound to an attending profile."""
    return principal.role is Role.ATTENDING and profile.role is RadiologistRole.ATTENDING


def new_communication(
    report: Report,
    request: CommunicationRequest,
    *,
    by: Radiologist,
    attending: bool,
    now: datetime,
    skew: timedelta,
) -> CommunicationRecord:
    """A communication record for an alerting mention of the current version.

    ``identified_at`` is set from the evidence (:func:`reportdraft.critical.identification`:
    the draft's creation, or a call made before the draft existed); the record is then
    checked with :func:`reportdraft.critical.record_problems` against the service clock
    (plus ``skew``), the study's acquisition time and whether the caller is an attending.
    """
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
    identified_at, identified_from = identification(
        notified_at=request.notified_at,
        draft_created_at=current.draft.provenance.created_at,
        now=now,
        dictation=current.case.dictation,
    )
    record = CommunicationRecord(
        id=record_id,
        finding_code=mention.finding_code,
        finding_label=mention.label,
        category=mention.category,
        identified_at=identified_at,
        identified_from=identified_from,
        communicating_radiologist=by.name.display(),
        recipient=(
            Recipient(name=request.recipient.name, role=request.recipient.role)
            if request.recipient is not None
            else None
        ),
        method=request.method,
        notified_at=request.notified_at,
        read_back=request.read_back,
        override_code=request.override_code,
        override_reason=request.override_reason,
    )
    _refuse(
        record_problems(
            record,
            acquired_at=current.case.study.acquisition_time,
            now=now,
            skew=skew,
            attending=attending,
        )
    )
    return record


def acknowledged(
    report: Report,
    communication_id: str,
    request: CommunicationAckRequest,
    *,
    now: datetime,
    skew: timedelta,
) -> CommunicationRecord:
    """The record ``communication_id`` with the recipient's acknowledgement added.

    ``read_back`` changes only when the request says so: an acknowledgement alone does
    not claim a read-back. The updated record is checked like a new one.
    """
    record = next((r for r in report.current.communications if r.id == communication_id), None)
    if record is None:
        raise ApiError(404, f"no communication {communication_id} in this report")
    if record.notified_at is None:
        raise ConflictError("this communication was overridden, not notified")
    updated = CommunicationRecord.model_validate(
        {
            **record.model_dump(mode="json"),
            "acknowledged_at": (request.acknowledged_at or now).isoformat(),
            "read_back": record.read_back if request.read_back is None else request.read_back,
        }
    )
    _refuse(
        record_problems(
            updated, acquired_at=report.current.case.study.acquisition_time, now=now, skew=skew
        )
    )
    return updated


def communication_state(record: CommunicationRecord, now: datetime) -> CommunicationState:
    """Where a communication stands: :func:`reportdraft.critical.communication_state`
    with the one deadline policy (there is no other copy of the deadlines)."""
    return critical_communication_state(record, now)


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
