"""Closed-loop communication of critical results: deadlines, state, signing rule, report text.

ACR practice parameters and Joint Commission goals ask that a critical result reach a
responsible clinician in time, and that the report document who was told, when, how, and
that they understood (read-back). The record itself is ``models.CommunicationRecord``; this
module computes from its timestamps what the API shows and what the attestation enforces.

Timestamps without a UTC offset are read as UTC, so that a record from a client that
forgot the offset is judged consistently rather than rejected mid-read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import Field, model_validator

from reportdraft.critical.lexicon import Lexicon
from reportdraft.critical.policy import AlertPolicy
from reportdraft.errors import InputError
from reportdraft.models.base import Strict
from reportdraft.models.communication import (
    CommunicationMethod,
    CommunicationRecord,
    CommunicationState,
)
from reportdraft.models.critical import Category, CriticalMention

Window = Annotated[timedelta, Field(gt=timedelta(0))]


class DeadlinePolicy(Strict):
    """How long each ACR category may wait for communication, and when to escalate.

    Defaults: Category 1 within 60 minutes, Category 2 within 6 hours, Category 3 within
    3 days; escalation is due ``escalate_after`` past the deadline (default: at once).
    Sites set their own values (Joint Commission leaves the numbers to the organisation).
    """

    category_1: Window = timedelta(minutes=60)
    category_2: Window = timedelta(hours=6)
    category_3: Window = timedelta(days=3)
    escalate_after: Annotated[timedelta, Field(ge=timedelta(0))] = timedelta(0)

    @model_validator(mode="after")
    def _ordered(self) -> DeadlinePolicy:
        if not self.category_1 <= self.category_2 <= self.category_3:
            raise ValueError("deadlines must not shorten from category 1 to category 3")
        return self

    def window(self, category: Category) -> timedelta:
        """The time allowed for ``category``."""
        return {1: self.category_1, 2: self.category_2, 3: self.category_3}[category]


DEFAULT_POLICY = DeadlinePolicy()

SIGNING_CATEGORIES: frozenset[int] = frozenset({1, 2})
"""Categories whose alerts block a final report until communication is documented."""

KNOWN_TO_CARE_TEAM = "Already known to the care team"
"""The override reason that closes an alert on an unchanged or known finding: the policy
lets such findings alert (the team may not know), and the radiologist who knows they do
records this instead of a call."""

OVERRIDE_REASONS: tuple[str, ...] = (
    KNOWN_TO_CARE_TEAM,
    "Communicated by another radiologist",
    "Expected finding after a procedure",
)
"""Standard override reasons a workstation offers; ``override_reason`` stays free text."""


def suggested_override(mention: CriticalMention, policy: AlertPolicy | None = None) -> str | None:
    """The override reason to offer for an alerting ``mention``, if one fits its time course.

    An unchanged or known Category 1/2 finding alerts by default; for it the workstation
    offers :data:`KNOWN_TO_CARE_TEAM` (the time courses are ``known_to_care_team`` in the
    alert policy). None for a mention that does not alert or has another time course.
    """
    if not mention.alert or mention.temporality is None:
        return None
    if policy is None:
        from reportdraft.critical.detector import active_detector

        policy = active_detector().policy
    return KNOWN_TO_CARE_TEAM if mention.temporality in policy.known_to_care_team else None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def deadline(record: CommunicationRecord, policy: DeadlinePolicy = DEFAULT_POLICY) -> datetime:
    """When communication of ``record`` is due: identified time plus the category window."""
    return _utc(record.identified_at) + policy.window(record.category)


def communication_state(
    record: CommunicationRecord, now: datetime, policy: DeadlinePolicy = DEFAULT_POLICY
) -> CommunicationState:
    """Where the record stands at ``now``.

    Overridden (with a reason) and acknowledged are final; notified waits for
    acknowledgement; otherwise the record is escalated once an escalation is recorded,
    overdue past its deadline, pending before it.
    """
    if record.override_reason is not None:
        return CommunicationState.OVERRIDDEN
    if record.acknowledged_at is not None:
        return CommunicationState.ACKNOWLEDGED
    if record.notified_at is not None:
        return CommunicationState.NOTIFIED
    now = _utc(now)
    if record.escalated_at is not None and _utc(record.escalated_at) <= now:
        return CommunicationState.ESCALATED
    if now > deadline(record, policy):
        return CommunicationState.OVERDUE
    return CommunicationState.PENDING


def escalation_due(
    record: CommunicationRecord, now: datetime, policy: DeadlinePolicy = DEFAULT_POLICY
) -> bool:
    """True when an overdue record should now be escalated (and has not been)."""
    state = communication_state(record, now, policy)
    return (
        state is CommunicationState.OVERDUE
        and _utc(now) >= deadline(record, policy) + policy.escalate_after
    )


def communicated_late(record: CommunicationRecord, policy: DeadlinePolicy = DEFAULT_POLICY) -> bool:
    """True when the notification happened after the deadline (for QA statistics)."""
    return record.notified_at is not None and _utc(record.notified_at) > deadline(record, policy)


def blocks_signing(
    mentions: Iterable[CriticalMention],
    records: Iterable[CommunicationRecord],
    *,
    lexicon: Lexicon | None = None,
) -> list[str]:
    """Finding codes of Category 1/2 alerting mentions that lack a documented record.

    A record documents a mention when it is notified or overridden and names the same
    finding code, or a finding of the same lexicon group at least as urgent (a record for
    "intracranial_hemorrhage" covers a "subdural_hematoma" mention). Sorted, unique.
    """
    if lexicon is None:
        from reportdraft.critical.detector import active_detector

        lexicon = active_detector().lexicon
    documented = [r for r in records if r.documented]
    missing: set[str] = set()
    for mention in mentions:
        if not mention.alert or mention.category not in SIGNING_CATEGORIES:
            continue
        group = lexicon.group_of(mention.finding_code)
        if not any(
            r.finding_code == mention.finding_code
            or (lexicon.group_of(r.finding_code) == group and r.category <= mention.category)
            for r in documented
        ):
            missing.add(mention.finding_code)
    return sorted(missing)


_METHOD_WORDS = {
    CommunicationMethod.PHONE: "by phone",
    CommunicationMethod.IN_PERSON: "in person",
    CommunicationMethod.SECURE_MESSAGE: "by secure message",
    CommunicationMethod.PAGE: "by page",
    CommunicationMethod.VIDEO: "by video call",
}
_PHYSICIAN_ROLES = frozenset(
    {
        "physician",
        "doctor",
        "attending",
        "resident",
        "fellow",
        "surgeon",
        "hospitalist",
        "intensivist",
        "radiologist",
        "clinician",
        "provider",
    }
)


def _stamp(value: datetime) -> str:
    utc = _utc(value)
    return f"{utc:%H:%M} UTC on {utc:%Y-%m-%d}"


def communication_statement(record: CommunicationRecord) -> str:
    """The sentence the report carries, e.g. "Critical result communicated to Dr. X (ordering
    physician) by phone at 14:32 UTC on 2026-11-27; read back confirmed."

    An overridden record gives the documented reason instead. Raises InputError for a record
    that is neither notified nor overridden: there is nothing true to write yet.
    """
    if record.notified_at is None:
        if record.override_reason is not None:
            who = (
                f" by {record.communicating_radiologist}"
                if record.communicating_radiologist
                else ""
            )
            return (
                f"Critical result ({record.finding_label}) not separately communicated{who}: "
                f"{record.override_reason.rstrip('.')}."
            )
        raise InputError(f"communication {record.id} is not documented yet (no notification)")
    recipient = record.recipient
    method = record.method
    if recipient is None or method is None:  # the model's validator makes this unreachable
        raise InputError(f"communication {record.id} lacks recipient or method")
    name = recipient.name
    if any(
        word in recipient.role.lower() for word in _PHYSICIAN_ROLES
    ) and not name.lower().startswith("dr"):
        name = f"Dr. {name}"
    parts = [
        f"Critical result communicated to {name} ({recipient.role}) {_METHOD_WORDS[method]} "
        f"at {_stamp(record.notified_at)}"
    ]
    if record.acknowledged_at is not None and record.acknowledged_at != record.notified_at:
        parts.append(f"acknowledged at {_stamp(record.acknowledged_at)}")
    parts.append("read back confirmed" if record.read_back else "read back not documented")
    return "; ".join(parts) + "."
