"""Sign-off rules: every check that must pass before a report version is signed.

All rules run every time and every failure is reported at once, each as a
:class:`Refusal` with a stable reason code, so a workstation can show the radiologist the
whole list instead of one problem per attempt. Reason codes:

============================== ===========================================================
``ai_finding_pending``          an AI finding has no confirm/reject decision
``high_flag_unresolved``        a high-severity verifier flag is neither resolved by an
                                edit of its statement nor acknowledged with a reason
``critical_communication_missing``  a Cat 1/2 alerting finding has no documented
                                communication (or override with a reason)
``notified_in_future``          a communication's notified_at is later than the signing
                                time (plus the clock-skew allowance)
``acknowledged_in_future``      likewise its acknowledged_at
``notified_before_acquisition`` a notification before the study was acquired
``read_back_missing``           a Cat 1/2 result told by phone, in person or video without
                                read-back
``acknowledgement_missing``     a Cat 1/2 result sent by secure message or page that the
                                recipient has not acknowledged (read-back cannot apply)
``override_code_missing``       a Cat 1/2 override without a listed reason code (also an
                                older record with free text only)
``override_code_unknown``       an override code that is not in the listed reasons
``override_reason_insufficient``  an override without the radiologist's own account
                                (too short, or only filler such as "meh")
``override_not_attending``      a Cat 1/2 override in a version signed by a non-attending
``signer_not_authorized``       the signer's role may not sign this status (policy)
``signer_key_unregistered``     the signer's profile names no signing key
``signer_key_mismatch``         the key used is not the one in the signer's profile
``signer_key_untrusted``        a keyring was given and the key used is not in it
``key_not_signers``             the keyring names another radiologist as the key's owner
``key_revoked``                 the keyring says the key was revoked at/before the signing time
``license_missing``             no license in the state where the patient was imaged
``license_expired``             licenses there, but none active on the signing day
``reason_required``             a post-sign change (amend, correct, addendum) without why
``illegal_transition``          the lifecycle does not allow this status change
``version_immutable``           a signed version was to be changed in place
``signature_invalid``           an earlier version's signature or chain does not verify
============================== ===========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, ValidationError

from reportdraft.attest.keys import VerifyKey
from reportdraft.attest.signing import key_binding_problems
from reportdraft.critical import blocks_signing, record_problems
from reportdraft.errors import AttestationRefused, ConfigurationError
from reportdraft.io import decode_text
from reportdraft.models import Decision, Severity, Strict
from reportdraft.models.report import Radiologist, RadiologistRole, ReportStatus, ReportVersion
from reportdraft.resources import package_data

POST_SIGN = frozenset({ReportStatus.AMENDED, ReportStatus.CORRECTED, ReportStatus.APPENDED})
"""Statuses reached by changing an already signed report."""


@dataclass(frozen=True)
class Refusal:
    """One failed rule: a stable ``code`` and the specifics (which finding, flag, license)."""

    code: str
    detail: str


def refuse(refusals: list[Refusal]) -> AttestationRefused:
    """The exception for ``refusals``: all unique codes in ``reasons``, details in the text."""
    codes = list(dict.fromkeys(r.code for r in refusals))
    text = "; ".join(f"{r.code}: {r.detail}" for r in refusals)
    return AttestationRefused(
        f"sign-off refused: {text}",
        reasons=codes,
        refusals=[(r.code, r.detail) for r in refusals],
    )


class _PolicyFile(Strict):
    version: Literal[1]
    may_sign: dict[ReportStatus, list[RadiologistRole]]
    require_reason_after_sign: bool = True


@dataclass(frozen=True, kw_only=True)
class SigningPolicy:
    """Which roles may sign each status; whether post-sign changes need a reason.

    The default (``reportdraft/data/attest/policy.yaml``): residents sign preliminary
    reads; only attendings sign final, amended, corrected and appended versions.
    """

    may_sign: Mapping[ReportStatus, frozenset[RadiologistRole]] = field(default_factory=dict)
    require_reason_after_sign: bool = True

    @classmethod
    def load(cls, path: Path | None = None) -> SigningPolicy:
        """Load a policy file (default: the bundled one); unknown keys are rejected."""
        path = path or package_data("attest", "policy.yaml")
        try:
            raw = yaml.safe_load(decode_text(path.read_bytes(), f"signing policy {path}"))
            parsed = _PolicyFile.model_validate(raw)
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ConfigurationError(f"signing policy {path} is invalid: {exc}") from None
        if ReportStatus.DRAFT in parsed.may_sign:
            raise ConfigurationError(f"signing policy {path}: 'draft' is not a signed status")
        return cls(
            may_sign={status: frozenset(roles) for status, roles in parsed.may_sign.items()},
            require_reason_after_sign=parsed.require_reason_after_sign,
        )

    def allows(self, role: RadiologistRole, status: ReportStatus) -> bool:
        """True when ``role`` may sign a version into ``status``."""
        return role in self.may_sign.get(status, frozenset())


_DEFAULT_POLICY: list[SigningPolicy] = []


def default_policy() -> SigningPolicy:
    """The bundled policy (loaded once)."""
    if not _DEFAULT_POLICY:
        _DEFAULT_POLICY.append(SigningPolicy.load())
    return _DEFAULT_POLICY[0]


class SignOffContext(Strict):
    """What a sign-off is checked against besides the candidate version."""

    to_status: ReportStatus
    signer: Radiologist
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16,64}$")]
    at: datetime
    reason: str | None = None


def check_decisions(version: ReportVersion) -> list[Refusal]:
    """Every AI finding of the case has a decision (none left ``pending``)."""
    return [
        Refusal("ai_finding_pending", f"AI finding {f.id} ({f.description}) has no decision")
        for f in version.case.ai_findings
        if version.decision_for(f) is Decision.PENDING
    ]


def check_flags(version: ReportVersion) -> list[Refusal]:
    """Every high-severity flag is resolved or acknowledged with a reason.

    A flag on a statement counts as resolved when the radiologist changed that statement's
    text or removed it (the flagged text is no longer what is signed); a draft-level flag
    (an omission) or a flag on an unchanged statement needs an acknowledgement.
    """
    refusals = []
    for flag in version.draft.flags:
        if flag.severity is not Severity.HIGH or version.acknowledged(flag.id):
            continue
        if flag.statement_id is not None:
            original = version.draft.statement(flag.statement_id)
            edited = version.statement(flag.statement_id)
            if edited is None or original is None or edited.text != original.text:
                continue
        refusals.append(
            Refusal("high_flag_unresolved", f"flag {flag.id} ({flag.kind.value}): {flag.message}")
        )
    return refusals


def check_critical(version: ReportVersion, ctx: SignOffContext) -> list[Refusal]:
    """Every Cat 1/2 alerting mention has a documented communication or an override, and
    every communication record of the version is true and complete at the signing time.

    The record rules are :func:`reportdraft.critical.record_problems` (the same the API
    applies when a record is written), with the signing time as "now" and ``closing``
    set: a page or secure message must be acknowledged by now. An override counts only in
    a version an attending signs. The rules apply to every record the signed version
    carries, including one carried into an amendment: whoever signs attests to all of them.
    """
    refusals = [
        Refusal("critical_communication_missing", f"{code} has no documented communication")
        for code in blocks_signing(version.critical, version.communications)
    ]
    attending = ctx.signer.role is RadiologistRole.ATTENDING
    for record in version.communications:
        problems = record_problems(
            record,
            acquired_at=version.case.study.acquisition_time,
            now=ctx.at,
            attending=attending,
            closing=True,
        )
        refusals.extend(Refusal(p.code, p.detail) for p in problems)
    return refusals


def check_signer(
    version: ReportVersion, ctx: SignOffContext, policy: SigningPolicy
) -> list[Refusal]:
    """Role, registered key and license in the patient's state on the signing day."""
    signer = ctx.signer
    refusals = []
    if not policy.allows(signer.role, ctx.to_status):
        refusals.append(
            Refusal(
                "signer_not_authorized",
                f"{signer.id} ({signer.role.value}) may not sign a {ctx.to_status.value} report",
            )
        )
    if signer.key_id is None:
        refusals.append(Refusal("signer_key_unregistered", f"{signer.id} has no registered key"))
    elif signer.key_id != ctx.key_id:
        refusals.append(
            Refusal("signer_key_mismatch", f"key {ctx.key_id} is not {signer.id}'s key")
        )
    state = version.case.study.state
    in_state = [lic for lic in signer.licenses if lic.state == state]
    day = ctx.at.date()
    if not in_state:
        refusals.append(Refusal("license_missing", f"{signer.id} holds no license in {state}"))
    elif not any(lic.active_on(day) for lic in in_state):
        numbers = ", ".join(lic.number for lic in in_state)
        refusals.append(
            Refusal("license_expired", f"{signer.id}'s {state} license ({numbers}) not active")
        )
    return refusals


def check_signing_key(
    key_id: str,
    *,
    signer: Radiologist,
    at: datetime,
    keyring: Mapping[str, VerifyKey] | None,
) -> list[Refusal]:
    """The key about to sign is trusted, is ``signer``'s own, and is not revoked at ``at``.

    Without a ``keyring`` only the profile's ``key_id`` binds the key (``check_signer``);
    a profile is a copy anyone can write, so the keyring (published key documents, or the
    service's own key table) is what ties a key to a person. The ownership and revocation
    rule is :func:`reportdraft.attest.signing.key_binding_problems`, the same one
    verification applies, so nothing is signed that would not verify.
    """
    if keyring is None:
        return []
    trusted = keyring.get(key_id)
    if trusted is None:
        return [Refusal("signer_key_untrusted", f"key {key_id} is not among the trusted keys")]
    return [
        Refusal(p.code, p.detail) for p in key_binding_problems(trusted, signer_id=signer.id, at=at)
    ]


def check_reason(ctx: SignOffContext, policy: SigningPolicy) -> list[Refusal]:
    """A post-sign change says why, when the policy asks for it."""
    if policy.require_reason_after_sign and ctx.to_status in POST_SIGN and not ctx.reason:
        return [Refusal("reason_required", f"a change to {ctx.to_status.value} needs a reason")]
    return []


def check_signoff(
    version: ReportVersion, ctx: SignOffContext, policy: SigningPolicy | None = None
) -> list[Refusal]:
    """Run every sign-off rule on the candidate ``version``; an empty list means it may sign."""
    policy = policy or default_policy()
    return [
        *check_decisions(version),
        *check_flags(version),
        *check_critical(version, ctx),
        *check_signer(version, ctx, policy),
        *check_reason(ctx, policy),
    ]
