"""What each page shows, built from the domain values (no HTML here, no rules either).

The templates render these plain values; every text in them came from a case, a draft
or a radiologist and is escaped by the templates (Jinja autoescape), never marked safe.
What may be signed is not decided here: the sign dialog lists what
``reportdraft.api.service.sign_problems`` (a dry run of the real signing) refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reportdraft.critical import communication_rules
from reportdraft.dictation import normalize
from reportdraft.errors import ReportDraftError
from reportdraft.models import Decision, Priority, Severity
from reportdraft.models.case import AIFinding, Case
from reportdraft.models.communication import CommunicationMethod, CommunicationRecord
from reportdraft.models.draft import Flag, Statement
from reportdraft.models.report import Report, ReportVersion
from reportdraft.redline import Redline, redline
from reportdraft.store.reports import WorklistEntry

STAT_TAT_MIN = 30
"""The STAT turnaround target (minutes from acquisition to signature)."""
NEAR_FRACTION = 0.75
"""A clock turns amber at three quarters of its target."""


@dataclass(frozen=True)
class Clock:
    """Time since acquisition against the turnaround target, with a word besides colour."""

    minutes: int
    target: int
    level: str  # ok | near | over
    word: str

    @property
    def text(self) -> str:
        """``"1 h 05 min / 30 min"``."""
        return f"{_duration(self.minutes)} / {_duration(self.target)}"


def _duration(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def clock(acquired: datetime, priority: Priority, now: datetime, routine_min: int) -> Clock:
    """The turnaround clock of a study acquired at ``acquired``."""
    target = STAT_TAT_MIN if priority is Priority.STAT else routine_min
    minutes = max(0, int((now - acquired).total_seconds() // 60))
    if minutes >= target:
        return Clock(minutes, target, "over", "overdue")
    if minutes >= target * NEAR_FRACTION:
        return Clock(minutes, target, "near", "due soon")
    return Clock(minutes, target, "ok", "on time")


@dataclass(frozen=True)
class WorklistRow:
    """One worklist row and its clock (a signed report's clock is stopped: no colour)."""

    entry: WorklistEntry
    clock: Clock | None


def worklist_rows(
    entries: list[WorklistEntry], now: datetime, routine_min: int, signed: frozenset[str]
) -> list[WorklistRow]:
    """The rows in the store's order (STAT first, then longest waiting)."""
    return [
        WorklistRow(
            e,
            None if e.state in signed else clock(e.acquired_at, e.priority, now, routine_min),
        )
        for e in entries
    ]


@dataclass(frozen=True)
class Segment:
    """A piece of the raw dictation; ``sentence`` is its D# id (None between sentences)."""

    text: str
    sentence: str | None = None
    instruction: bool = False


def dictation_segments(raw: str) -> list[Segment]:
    """The raw transcript cut at the normaliser's sentence offsets, for highlighting."""
    try:
        normalized = normalize(raw)
    except ReportDraftError:
        return [Segment(raw)]
    segments: list[Segment] = []
    at = 0
    for sentence in sorted(normalized.sentences, key=lambda s: s.start):
        if sentence.start < at:
            continue
        if sentence.start > at:
            segments.append(Segment(raw[at : sentence.start]))
        segments.append(
            Segment(
                raw[sentence.start : sentence.end],
                sentence.id,
                sentence.instruction is not None,
            )
        )
        at = sentence.end
    if at < len(raw):
        segments.append(Segment(raw[at:]))
    return segments


@dataclass(frozen=True)
class FlagView:
    """A flag with whether it is acknowledged (and may be, from the page)."""

    flag: Flag
    acknowledged: bool
    reason: str | None

    @property
    def needs_attention(self) -> bool:
        """Unacknowledged flags are what Alt+N visits."""
        return not self.acknowledged


@dataclass(frozen=True)
class StatementView:
    """One editable statement with its source chips and flags."""

    statement: Statement
    text: str
    flags: list[FlagView]

    @property
    def has_blank(self) -> bool:
        """A ``[ ]`` field left for the radiologist to fill."""
        return "[ ]" in self.text or "[]" in self.text


@dataclass(frozen=True)
class SectionView:
    """A report section (findings subsections carry their printed title)."""

    kind: str
    title: str
    statements: list[tuple[str | None, StatementView]]


@dataclass(frozen=True)
class FindingView:
    """An AI finding with the radiologist's effective decision."""

    finding: AIFinding
    decision: Decision

    @property
    def pending(self) -> bool:
        """Not yet confirmed or rejected."""
        return self.decision is Decision.PENDING


@dataclass(frozen=True)
class AlertView:
    """An alerting critical finding, its latest communication and the form's defaults."""

    code: str
    label: str
    category: int
    text: str
    record: CommunicationRecord | None
    prefill_name: str
    prefill_role: str
    prefill_method: str
    prefill_time: str
    dictated_call: bool

    @property
    def documented(self) -> bool:
        """A notification or an override is on record."""
        return self.record is not None and self.record.documented


@dataclass
class ReviewView:
    """Everything the review page shows for one report."""

    report_id: str
    version: int
    case: Case
    current: ReportVersion
    sections: list[SectionView]
    draft_flags: list[FlagView]
    findings: list[FindingView]
    alerts: list[AlertView]
    segments: list[Segment]
    redline: Redline | None
    methods: list[str] = field(default_factory=lambda: [m.value for m in CommunicationMethod])

    @property
    def signed(self) -> bool:
        """The current version carries a signature (read-only)."""
        return self.current.is_signed


def _flag_views(version: ReportVersion, flags: list[Flag]) -> list[FlagView]:
    reasons = {a.flag_id: a.reason for a in version.acknowledgements}
    return [FlagView(f, f.id in reasons, reasons.get(f.id)) for f in flags]


def _prefill_time(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M")


def review(
    report_id: str,
    version: int,
    report: Report,
    now: datetime,
    *,
    edits: dict[str, str] | None = None,
) -> ReviewView:
    """The review page of ``report`` (``edits``: texts to show instead, after a conflict)."""
    current = report.current
    draft = current.draft
    titles = draft.subsection_titles
    sections = []
    for section in current.content:
        rows: list[tuple[str | None, StatementView]] = []
        last: str | None = None
        for statement in section.statements:
            heading = None
            if statement.subsection and statement.subsection != last:
                heading = titles.get(statement.subsection, statement.subsection)
                last = statement.subsection
            text = (edits or {}).get(statement.id, statement.text)
            flags = _flag_views(current, draft.flags_for(statement.id))
            rows.append((heading, StatementView(statement, text, flags)))
        sections.append(SectionView(section.kind.value, section.title, rows))
    case = current.case
    ordering = case.study.ordering_physician.name
    dictated_call = communication_rules().documents_call(case.dictation)
    by_code = {r.finding_code: r for r in current.communications}
    alerts: dict[str, AlertView] = {}
    for mention in current.critical:
        if not mention.alert or mention.finding_code in alerts:
            continue
        alerts[mention.finding_code] = AlertView(
            code=mention.finding_code,
            label=mention.label,
            category=int(mention.category),
            text=mention.text,
            record=by_code.get(mention.finding_code),
            prefill_name=ordering,
            prefill_role="ordering physician",
            prefill_method=CommunicationMethod.PHONE.value,
            prefill_time=_prefill_time(now),
            dictated_call=dictated_call,
        )
    try:
        diff: Redline | None = redline(draft, current)
    except ReportDraftError:
        diff = None
    return ReviewView(
        report_id=report_id,
        version=version,
        case=case,
        current=current,
        sections=sections,
        draft_flags=_flag_views(current, [f for f in draft.flags if f.statement_id is None]),
        findings=[FindingView(f, current.decision_for(f)) for f in case.ai_findings],
        alerts=list(alerts.values()),
        segments=dictation_segments(case.dictation),
        redline=diff,
    )


def parse_notified(text: str, now: datetime) -> datetime:
    """The form's "time notified" (``YYYY-MM-DD HH:MM``, UTC) as an aware datetime.

    A bare ``HH:MM`` means today (UTC). Raises ``ValueError`` on anything else.
    """
    value = text.strip().replace("T", " ")
    if len(value) <= 5:
        hours, _, minutes = value.partition(":")
        base = now.replace(hour=int(hours), minute=int(minutes), second=0, microsecond=0)
        return base - timedelta(days=1) if base > now + timedelta(minutes=5) else base
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=now.tzinfo)


SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
