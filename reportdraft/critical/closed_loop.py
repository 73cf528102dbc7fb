"""Closed-loop communication of critical results: deadlines, state, signing rule, report text.

ACR practice parameters and Joint Commission goals ask that a critical result reach a
responsible clinician in time, and that the report document who was told, when, how, and
that they understood (read-back). The record itself is ``models.CommunicationRecord``; this
module computes from its timestamps what the API shows and what the attestation enforces,
and says what a record must hold to be true (:func:`record_problems`: no time later than
the checking clock or earlier than the study, read-back for verbal calls, a listed override
reason in the radiologist's own words) and when its finding counts as identified
(:func:`identification`).

Timestamps without a UTC offset are read as UTC, so that a record from a client that
forgot the offset is judged consistently rather than rejected mid-read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reportdraft.critical.detector import active_detector
from reportdraft.critical.finding_lexicon import CriticalLexicon, phrase_pattern
from reportdraft.critical.policy import AlertPolicy
from reportdraft.errors import InputError
from reportdraft.models.communication import (
    CommunicationMethod,
    CommunicationRecord,
    CommunicationState,
    IdentifiedFrom,
)
from reportdraft.models.critical import Category, CriticalMention
from reportdraft.models.primitives import Strict
from reportdraft.resources import package_data
from reportdraft.settings import DEFAULT_CLOCK_SKEW_S
from reportdraft.vocab import load_file

Window = Annotated[timedelta, Field(gt=timedelta(0))]


class DeadlinePolicy(Strict):
    """How long each ACR category may wait for communication, and when to escalate.

    Defaults: Category 1 within 60 minutes, Category 2 within 6 hours, Category 3 within
    3 days; escalation is due ``escalate_after`` past the deadline (default: at once).
    Sites set their own values (Joint Commission leaves the numbers to the organisation).
    This is the only deadline table in reportdraft: the API's overdue list, the state of a
    record and the QA lateness figure all read it.
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

DEFAULT_CLOCK_SKEW = timedelta(seconds=DEFAULT_CLOCK_SKEW_S)
"""How far a client's clock may run ahead of the checking clock: a ``notified_at`` or
``acknowledged_at`` later than now plus this is refused as being in the future. The
service takes its value from ``Settings.clock_skew_s`` (``REPORTDRAFT_CLOCK_SKEW_S``)."""


class _OverrideText(Strict):
    min_chars: Annotated[int, Field(ge=1, le=500)]
    min_words: Annotated[int, Field(ge=1, le=50)]
    filler: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list)


class _DictatedCall(Strict):
    verbs: list[Annotated[str, Field(min_length=2, max_length=40)]] = Field(min_length=1)
    recipients: list[Annotated[str, Field(min_length=2, max_length=40)]] = Field(min_length=1)


class CommunicationRules(Strict):
    """The documentation rules of ``reportdraft/data/critical/communication.yaml``.

    Loaded once (:func:`communication_rules`); see the file for what each part means.
    """

    schema_id: Literal["reportdraft.critical.communication/1"] = Field(alias="schema")
    override_codes: dict[
        Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")],
        Annotated[str, Field(min_length=3, max_length=200)],
    ] = Field(min_length=1)
    override_text: _OverrideText
    read_back_methods: list[CommunicationMethod] = Field(min_length=1)
    dictated_call: _DictatedCall

    @cached_property
    def _verbs(self) -> re.Pattern[str] | None:
        return phrase_pattern(self.dictated_call.verbs)

    @cached_property
    def _recipients(self) -> re.Pattern[str] | None:
        return phrase_pattern(self.dictated_call.recipients)

    @cached_property
    def _filler(self) -> frozenset[str]:
        return frozenset(w.lower() for w in self.override_text.filler)

    def label(self, code: str) -> str | None:
        """The printed label of override ``code`` (None when it is not a listed code)."""
        return self.override_codes.get(code)

    def reads_back(self, method: CommunicationMethod) -> bool:
        """True for a verbal method, where the recipient must read the result back."""
        return method in self.read_back_methods

    def substantive(self, text: str) -> bool:
        """True when ``text`` says something: long enough, and enough real words.

        Words count when they have three or more letters and are not filler ("meh",
        "ok", "n/a"), so neither a shrug nor a repeated filler word documents a decision.
        """
        stripped = " ".join(text.split())
        if len(stripped) < self.override_text.min_chars:
            return False
        words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'/-]*", stripped)]
        real = {w for w in words if len(w) >= 3 and w not in self._filler}
        return len(real) >= self.override_text.min_words

    def documents_call(self, dictation: str) -> bool:
        """True when a sentence of ``dictation`` documents a communication it reports.

        A sentence (split at ``.``, ``;``, ``!``, ``?``, a line end or the spoken word
        "period") must name a communication verb and, after it, a recipient
        ("communicated by telephone to doctor Alvarez", "discussed with the ED team").
        """
        verbs, recipients = self._verbs, self._recipients
        if verbs is None or recipients is None:
            return False
        for sentence in re.split(r"[.;!?\n]|\bperiod\b", dictation, flags=re.IGNORECASE):
            verb = verbs.search(sentence)
            if verb is not None and recipients.search(sentence, verb.end()) is not None:
                return True
        return False


def load_communication_rules(path: Path | None = None) -> CommunicationRules:
    """Load and validate a communication-rules file (default: the bundled one)."""
    source = path or package_data("critical", "communication.yaml")
    return load_file(source, CommunicationRules, "communication rules")


@lru_cache(maxsize=1)
def communication_rules() -> CommunicationRules:
    """The bundled communication rules, loaded once per process."""
    return load_communication_rules()


KNOWN_TO_CARE_TEAM = "already_known_to_care_team"
"""The override code that closes an alert on an unchanged or known finding: the policy
lets such findings alert (the team may not know), and the radiologist who knows they do
records this instead of a call."""


def override_codes() -> tuple[str, ...]:
    """The listed override codes a workstation offers (from the data file)."""
    return tuple(communication_rules().override_codes)


def suggested_override(mention: CriticalMention, policy: AlertPolicy | None = None) -> str | None:
    """The override code to offer for an alerting ``mention``, if one fits its time course.

    An unchanged or known Category 1/2 finding alerts by default; for it the workstation
    offers :data:`KNOWN_TO_CARE_TEAM` (the time courses are ``known_to_care_team`` in the
    alert policy). None for a mention that does not alert or has another time course.
    """
    if not mention.alert or mention.temporality is None:
        return None
    if policy is None:
        policy = active_detector().policy
    return KNOWN_TO_CARE_TEAM if mention.temporality in policy.known_to_care_team else None


@dataclass(frozen=True, slots=True)
class CommunicationProblem:
    """Why a communication record cannot stand: a stable ``code`` and the specifics."""

    code: str
    detail: str


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


def record_problems(
    record: CommunicationRecord,
    *,
    acquired_at: datetime | None,
    now: datetime,
    skew: timedelta = DEFAULT_CLOCK_SKEW,
    attending: bool | None = None,
    closing: bool = False,
    rules: CommunicationRules | None = None,
) -> list[CommunicationProblem]:
    """Everything that keeps ``record`` from being a true, complete documentation.

    One rule set for the API (when a record is written) and the sign-off rules (when a
    report is signed, ``closing=True``). Codes:

    * ``notified_in_future`` / ``acknowledged_in_future``: later than ``now`` + ``skew``;
    * ``notified_before_acquisition``: before the study was acquired (``acquired_at``);
    * ``read_back_missing``: a Category 1/2 result told by phone, in person or by video
      without read-back;
    * ``acknowledgement_missing`` (only when ``closing``): a Category 1/2 result sent by
      secure message or page with no acknowledgement recorded: read-back cannot apply,
      so the recipient's confirmation is what closes the loop;
    * ``override_code_missing`` / ``override_code_unknown``: a Category 1/2 override
      without a listed reason code;
    * ``override_reason_insufficient``: the override's own words are missing, too short
      or only filler;
    * ``override_not_attending``: ``attending`` is False (None skips the check).
    """
    rules = rules or communication_rules()
    problems: list[CommunicationProblem] = []
    latest = _utc(now) + skew
    if record.notified_at is not None and _utc(record.notified_at) > latest:
        problems.append(
            CommunicationProblem(
                "notified_in_future",
                f"{record.id}: notified_at {_stamp(record.notified_at)} is later than now",
            )
        )
    if record.acknowledged_at is not None and _utc(record.acknowledged_at) > latest:
        problems.append(
            CommunicationProblem(
                "acknowledged_in_future",
                f"{record.id}: acknowledged_at {_stamp(record.acknowledged_at)} is later than now",
            )
        )
    if (
        acquired_at is not None
        and record.notified_at is not None
        and _utc(record.notified_at) < _utc(acquired_at)
    ):
        problems.append(
            CommunicationProblem(
                "notified_before_acquisition",
                f"{record.id}: notified_at {_stamp(record.notified_at)} is before the study "
                f"was acquired ({_stamp(acquired_at)})",
            )
        )
    if record.category not in SIGNING_CATEGORIES:
        return problems
    if record.notified_at is not None and record.method is not None:
        if rules.reads_back(record.method) and not record.read_back:
            problems.append(
                CommunicationProblem(
                    "read_back_missing",
                    f"{record.id}: a {record.method} notification of a category "
                    f"{record.category} result needs the recipient's read-back",
                )
            )
        if closing and not rules.reads_back(record.method) and record.acknowledged_at is None:
            problems.append(
                CommunicationProblem(
                    "acknowledgement_missing",
                    f"{record.id}: sent by {record.method}, which cannot be read back, and "
                    "the recipient's acknowledgement is not recorded",
                )
            )
    if record.override_reason is not None or record.override_code is not None:
        problems.extend(_override_problems(record, rules, attending))
    return problems


def _override_problems(
    record: CommunicationRecord, rules: CommunicationRules, attending: bool | None
) -> list[CommunicationProblem]:
    problems = []
    if attending is False:  # who may decide comes first: the API answers it with 403
        problems.append(
            CommunicationProblem(
                "override_not_attending",
                f"{record.id}: only an attending may decide not to communicate a category "
                f"{record.category} result",
            )
        )
    listed = ", ".join(rules.override_codes)
    if record.override_code is None:
        problems.append(
            CommunicationProblem(
                "override_code_missing",
                f"{record.id}: a category {record.category} override needs a reason code "
                f"({listed})",
            )
        )
    elif rules.label(record.override_code) is None:
        problems.append(
            CommunicationProblem(
                "override_code_unknown",
                f"{record.id}: {record.override_code!r} is not a listed override reason ({listed})",
            )
        )
    if record.override_reason is None or not rules.substantive(record.override_reason):
        problems.append(
            CommunicationProblem(
                "override_reason_insufficient",
                f"{record.id}: the override needs the radiologist's own account (at least "
                f"{rules.override_text.min_chars} characters and "
                f"{rules.override_text.min_words} real words)",
            )
        )
    return problems


def identification(
    *,
    notified_at: datetime | None,
    draft_created_at: datetime,
    now: datetime,
    dictation: str | None,
    rules: CommunicationRules | None = None,
) -> tuple[datetime, IdentifiedFrom]:
    """When the finding of a new record counts as identified, and on what evidence.

    A notification at or after the draft's creation (or none yet): the draft's creation
    (no later than ``now``), as the draft is where the service saw the finding. A call
    before the draft existed (the radiologist phoned, then dictated): identified at the
    call itself, never later, and ``dictation`` when the dictation documents the call,
    else ``notification``. The time identified is then an upper bound the evidence
    proves; the acquisition time is checked separately (:func:`record_problems`).
    """
    identified = min(_utc(draft_created_at), _utc(now))
    if notified_at is None or _utc(notified_at) >= identified:
        return identified, IdentifiedFrom.DRAFT
    rules = rules or communication_rules()
    documented = dictation is not None and rules.documents_call(dictation)
    source = IdentifiedFrom.DICTATION if documented else IdentifiedFrom.NOTIFICATION
    return _utc(notified_at), source


def communicated_late(record: CommunicationRecord, policy: DeadlinePolicy = DEFAULT_POLICY) -> bool:
    """True when the notification happened after the deadline (for QA statistics)."""
    return record.notified_at is not None and _utc(record.notified_at) > deadline(record, policy)


def blocks_signing(
    mentions: Iterable[CriticalMention],
    records: Iterable[CommunicationRecord],
    *,
    lexicon: CriticalLexicon | None = None,
) -> list[str]:
    """Finding codes of Category 1/2 alerting mentions that lack a documented record.

    A record documents a mention when it is notified or overridden and names the same
    finding code, or a finding of the same lexicon group at least as urgent (a record for
    "intracranial_hemorrhage" covers a "subdural_hematoma" mention). Sorted, unique.
    """
    if lexicon is None:
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

    An overridden record gives the listed reason's label and the radiologist's words (a
    record from before override codes gives only its words). Raises InputError for a record
    that is neither notified nor overridden: there is nothing true to write yet.
    """
    if record.notified_at is None:
        if record.override_reason is not None:
            who = (
                f" by {record.communicating_radiologist}"
                if record.communicating_radiologist
                else ""
            )
            label = communication_rules().label(record.override_code or "")
            reason = record.override_reason.rstrip(".")
            because = f"{label}; {reason}" if label else reason
            return (
                f"Critical result ({record.finding_label}) not separately communicated{who}: "
                f"{because}."
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
