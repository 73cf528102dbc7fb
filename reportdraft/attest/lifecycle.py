"""The report lifecycle as an explicit state machine, with sign-off enforced at each step.

::

    draft ──► preliminary ──► final ──► amended ┐
      └───────────────────────►  │  ──► corrected├─► amended / corrected / appended ...
                                 └──► appended ┘

Only the ``draft`` version is ever changed in place (:func:`edit`). Signing the draft
(:func:`sign`) turns it into a signed ``preliminary`` or ``final`` version; from then on
every change — the attending's final over a resident's prelim, an amendment, a
correction, an addendum (:func:`add_addendum`) — is a new signed version that references
the previous one by sha256. Every step records a :class:`Transition` (from, to, who,
when, why) and runs all sign-off rules; a refusal lists every failing reason at once and
changes nothing. The functions are pure: they return a new :class:`Report`; storing it
and writing the audit log is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from reportdraft.attest.changes import (
    SignOff,
    acknowledgements_from,
    apply_edits,
    check_references,
    decisions_from,
    normalize_content,
)
from reportdraft.attest.criticality import DetectText, mentions_for_content
from reportdraft.attest.keys import SigningKey, VerifyKey
from reportdraft.attest.signing import (
    sign_addendum,
    sign_version,
    signed_bytes,
    verify_report,
    version_ref,
)
from reportdraft.attest.signoff_rules import (
    POST_SIGN,
    Refusal,
    SigningPolicy,
    SignOffContext,
    check_signing_key,
    check_signoff,
    refuse,
)
from reportdraft.errors import DraftValidationError, InputError, ReportDraftError
from reportdraft.models import Case, CommunicationRecord, CriticalMention, Draft
from reportdraft.models.report import (
    DEFAULT_AI_STATEMENT,
    Addendum,
    Radiologist,
    Report,
    ReportStatus,
    ReportVersion,
    Transition,
)

S = ReportStatus
TRANSITIONS: Mapping[ReportStatus, frozenset[ReportStatus]] = {
    S.DRAFT: frozenset({S.PRELIMINARY, S.FINAL}),
    S.PRELIMINARY: frozenset({S.FINAL}),
    S.FINAL: frozenset(POST_SIGN),
    S.AMENDED: frozenset(POST_SIGN),
    S.CORRECTED: frozenset(POST_SIGN),
    S.APPENDED: frozenset(POST_SIGN),
}
"""Legal status changes. Nothing returns to ``draft`` or ``preliminary`` once signed final."""


def can_transition(from_status: ReportStatus, to_status: ReportStatus) -> bool:
    """True when the lifecycle allows ``from_status`` → ``to_status``."""
    return to_status in TRANSITIONS.get(from_status, frozenset())


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise InputError("timestamps must include a UTC offset")
    return at


def ai_statement_for(draft: Draft) -> str:
    """The AI-assistance statement for a report drafted as ``draft`` says."""
    prov = draft.provenance
    return DEFAULT_AI_STATEMENT.format(backend=prov.backend, model=prov.model or "unspecified")


def open_report(
    case: Case,
    draft: Draft,
    *,
    by: str,
    at: datetime,
    report_id: str | None = None,
    ai_statement: str | None = None,
) -> Report:
    """Start a report from the model's draft: version 1, status ``draft``, content = draft."""
    if draft.accession_number != case.study.accession_number:
        raise DraftValidationError(
            f"draft is for accession {draft.accession_number}, case is "
            f"{case.study.accession_number}"
        )
    rid = report_id or re.sub(r"[^A-Za-z0-9\-_.]", "_", case.study.accession_number)
    version = ReportVersion(
        report_id=rid,
        version=1,
        status=ReportStatus.DRAFT,
        created_at=_aware(at),
        case=case,
        draft=draft,
        content=normalize_content(draft.sections, draft),
        critical=list(draft.critical),
        ai_statement=ai_statement or ai_statement_for(draft),
        transitions=[
            Transition(version=1, from_status=None, to_status=ReportStatus.DRAFT, by=by, at=at)
        ],
    )
    return Report(id=rid, versions=[version])


def _merge_communications(
    old: Sequence[CommunicationRecord], new: Sequence[CommunicationRecord]
) -> list[CommunicationRecord]:
    """Records by id: a record sent again (e.g. now acknowledged) replaces the older one."""
    merged = {r.id: r for r in old}
    for record in new:
        merged[record.id] = record
    return list(merged.values())


def _apply(
    version: ReportVersion,
    signoff: SignOff,
    *,
    by: str,
    at: datetime,
    detect: DetectText | None,
    mentions: Sequence[CriticalMention] | None,
) -> ReportVersion:
    check_references(signoff, version.draft, [f.id for f in version.case.ai_findings])
    content = version.content
    if signoff.content is not None:
        content = normalize_content(signoff.content, version.draft)
    elif signoff.statement_edits:
        content = apply_edits(content, signoff.statement_edits, version.draft)
    if mentions is not None:
        critical = list(mentions)
    elif content != version.content:
        critical = mentions_for_content(content, version.draft, detect=detect)
    else:
        critical = list(version.critical)
    return version.model_copy(
        update={
            "content": content,
            "critical": critical,
            "decisions": [*version.decisions, *decisions_from(signoff, by=by, at=at)],
            "acknowledgements": [
                *version.acknowledgements,
                *acknowledgements_from(signoff, by=by, at=at),
            ],
            "communications": _merge_communications(version.communications, signoff.communications),
        }
    )


def edit(
    report: Report,
    signoff: SignOff,
    *,
    by: str,
    at: datetime,
    detect: DetectText | None = None,
    mentions: Sequence[CriticalMention] | None = None,
) -> Report:
    """Apply edits, decisions, acknowledgements and communications to the draft version.

    Refuses with ``version_immutable`` when the current version is signed: a signed
    report changes only through :func:`sign` into a new amended/corrected version.
    """
    current = report.current
    if current.is_signed:
        raise refuse(
            [
                Refusal(
                    "version_immutable",
                    f"version {current.version} is signed ({current.status.value}); "
                    "amend or correct it instead",
                )
            ]
        )
    changed = _apply(current, signoff, by=by, at=_aware(at), detect=detect, mentions=mentions)
    checked = ReportVersion.model_validate(changed.model_dump(mode="json"))
    return Report(id=report.id, versions=[*report.versions[:-1], checked])


def _chain_refusals(report: Report, keyring: Mapping[str, VerifyKey] | None) -> list[Refusal]:
    if not any(v.is_signed for v in report.versions):
        return []
    return [Refusal("signature_invalid", p.detail) for p in verify_report(report, keyring=keyring)]


def _successor(current: ReportVersion, at: datetime) -> ReportVersion:
    """An unsigned copy of ``current`` as the next version's starting point."""
    return current.model_copy(
        update={
            "version": current.version + 1,
            "created_at": at,
            "previous": version_ref(current),
            "signer": None,
            "signer_licenses": [],
            "signature": None,
        }
    )


def sign(
    report: Report,
    *,
    to_status: ReportStatus,
    signer: Radiologist,
    key: SigningKey,
    at: datetime,
    signoff: SignOff | None = None,
    reason: str | None = None,
    policy: SigningPolicy | None = None,
    keyring: Mapping[str, VerifyKey] | None = None,
    detect: DetectText | None = None,
    mentions: Sequence[CriticalMention] | None = None,
    _addendum: Addendum | None = None,
) -> Report:
    """Move the report to ``to_status`` with ``signer``'s signature, after every rule passes.

    From ``draft`` the draft version itself is signed (preliminary or final). From a signed
    status a new version is created from the current one with ``signoff`` applied (the
    attending's final, an amendment, a correction). ``reason`` (or ``signoff.reason``)
    says why; post-sign changes require one. Raises ``AttestationRefused`` listing every
    failing reason code; the report passed in is never changed.
    """
    at = _aware(at)
    current = report.current
    why = reason or (signoff.reason if signoff else None)
    refusals: list[Refusal] = []
    if not can_transition(current.status, to_status):
        refusals.append(
            Refusal(
                "illegal_transition",
                f"{current.status.value} → {to_status.value} is not a legal transition",
            )
        )
    if to_status is ReportStatus.APPENDED and _addendum is None:
        refusals.append(Refusal("illegal_transition", "appended needs an addendum: add_addendum"))
    refusals += _chain_refusals(report, keyring)
    base = _successor(current, at) if current.is_signed else current
    if signoff is not None:
        base = _apply(base, signoff, by=signer.id, at=at, detect=detect, mentions=mentions)
    if _addendum is not None:
        base = base.model_copy(update={"addenda": [*base.addenda, _addendum]})
    ctx = SignOffContext(to_status=to_status, signer=signer, key_id=key.key_id, at=at, reason=why)
    refusals += check_signoff(base, ctx, policy)
    refusals += check_signing_key(key.key_id, signer=signer, at=at, keyring=keyring)
    if refusals:
        raise refuse(refusals)
    transition = Transition(
        version=base.version,
        from_status=current.status,
        to_status=to_status,
        by=signer.id,
        at=at,
        reason=why,
    )
    unsigned = base.model_copy(
        update={
            "status": to_status,
            "transitions": [*base.transitions, transition],
            "signer": signer,
            "signer_licenses": signer.licenses_for(base.case.study.state, at.date()),
        }
    )
    signed = _stored_form(sign_version(unsigned, key, signed_at=at))
    kept = report.versions if current.is_signed else report.versions[:-1]
    return Report(id=report.id, versions=[*kept, signed])


def _stored_form(version: ReportVersion) -> ReportVersion:
    """Re-validate ``version`` from its JSON form and check the signed bytes survive it.

    The signature covers the JSON form; if validation normalised any value the stored
    document would no longer verify, so that is an internal error, never a silent change.
    """
    stored = ReportVersion.model_validate(version.model_dump(mode="json"))
    if signed_bytes(stored) != signed_bytes(version):
        raise ReportDraftError("internal: signed version changed when re-validated")
    return stored


def add_addendum(
    report: Report,
    *,
    text: str,
    author: Radiologist,
    key: SigningKey,
    at: datetime,
    reason: str | None = None,
    policy: SigningPolicy | None = None,
    keyring: Mapping[str, VerifyKey] | None = None,
) -> Report:
    """Append a signed addendum: a new ``appended`` version carrying it.

    The addendum is signed on its own (over its text, author and the version it appends
    to) and the new version is signed too, so both stand alone.
    """
    at = _aware(at)
    current = report.current
    addendum = Addendum(
        id=f"AD{len(current.addenda) + 1}",
        text=text,
        author=author,
        created_at=at,
        appends=version_ref(current),
    )
    return sign(
        report,
        to_status=ReportStatus.APPENDED,
        signer=author,
        key=key,
        at=at,
        reason=reason or "addendum",
        policy=policy,
        keyring=keyring,
        _addendum=sign_addendum(addendum, key, signed_at=at),
    )
