"""Request and response bodies of the HTTP API (pydantic; unknown keys rejected).

Domain values (``Case``, ``Draft``, ``ReportVersion``, ``CommunicationRecord``) appear in
the bodies as they are, so the OpenAPI document describes exactly what the pipeline and
the attestation module accept and produce.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, Field, model_validator

from reportdraft.attest import StatementEdit
from reportdraft.models import (
    CommunicationMethod,
    CommunicationState,
    Decision,
    Draft,
    DraftSection,
    Priority,
    Strict,
)
from reportdraft.models.report import ReportStatus, ReportVersion
from reportdraft.store.principals import FACILITY_ID_MAX, Role

Reason = Annotated[str, Field(min_length=3, max_length=1000)]
ReportState = Annotated[
    str,
    Field(
        description="queued, drafting, failed (no draft), or the report's lifecycle status: "
        "draft, preliminary, final, amended, corrected, appended"
    ),
]


class ErrorDetail(Strict):
    """The error itself."""

    code: str
    message: str
    details: Any = None


class ErrorBody(Strict):
    """Every 4xx/5xx response body."""

    error: ErrorDetail


class Links(Strict):
    """Where to find a report and its renderings."""

    self: str
    audit: str
    pdf: str
    fhir: str
    hl7: str


class DraftingError(Strict):
    """Why drafting failed (the report keeps its case; it is never lost)."""

    code: str
    message: str


class ReportSummary(Strict):
    """A report in a listing."""

    id: str
    state: ReportState
    priority: Priority
    accession_number: str
    version: int
    critical_open: bool
    created_at: datetime
    updated_at: datetime
    links: Links


class ReportOut(ReportSummary):
    """A report: the model's draft (sources, flags, critical mentions) and the current version.

    ``draft`` is what the model produced (with the verifier's flags and the critical
    mentions); ``current`` is the radiologist's report version (edited content, decisions,
    acknowledgements, communications, signature). Both are null until drafting finishes.
    """

    error: DraftingError | None = None
    versions: int = 0
    draft: Draft | None = None
    current: ReportVersion | None = None


class ReportPage(Strict):
    """A page of reports, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[ReportSummary]
    next_cursor: str | None


class EditRequest(Strict):
    """Edit the draft version: statement edits, or the complete edited content."""

    statement_edits: list[StatementEdit] = Field(default_factory=list, max_length=500)
    content: list[DraftSection] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> EditRequest:
        if (self.content is None) == (not self.statement_edits):
            raise ValueError("give exactly one of statement_edits or content")
        return self


class DecisionsRequest(Strict):
    """Confirm or reject AI findings by id."""

    decisions: dict[
        Annotated[str, Field(pattern=r"^A\d{1,3}$")],
        Literal[Decision.CONFIRMED, Decision.REJECTED],
    ] = Field(min_length=1, max_length=50)


class FlagAckRequest(Strict):
    """Why a flag may stand."""

    reason: Reason


class RecipientIn(Strict):
    """Who received the result: name and role are both required (who was told, in what
    capacity), unlike the stored record whose role defaults for older documents."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Annotated[str, Field(min_length=1, max_length=80)]


class CommunicationRequest(Strict):
    """Document the communication of one alerting critical finding.

    Give ``recipient`` (name and role), ``method`` and ``notified_at`` for a
    communication; ``read_back`` must be true for a Category 1/2 result told by phone, in
    person or by video. Or give ``override_code`` (a listed reason, see
    ``reportdraft/data/critical/communication.yaml``) with ``override_reason`` (your own
    account) to record a decision not to communicate: an attending's decision. Not both.
    The service fills the finding label, category, time identified (and on what evidence)
    and the communicating radiologist. ``notified_at`` may precede the draft (you phoned,
    then dictated) but not the study's acquisition, nor the service clock.
    """

    finding_code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")]
    recipient: RecipientIn | None = None
    method: CommunicationMethod | None = None
    notified_at: datetime | None = None
    read_back: bool = False
    override_code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")] | None = None
    override_reason: Annotated[str, Field(min_length=3, max_length=500)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> CommunicationRequest:
        notified = (self.recipient, self.method, self.notified_at)
        override = self.override_code is not None or self.override_reason is not None
        if override and any(v is not None for v in notified):
            raise ValueError("give a notification or an override, not both")
        if not override and any(v is None for v in notified):
            raise ValueError(
                "give recipient, method and notified_at, or override_code and override_reason"
            )
        if self.notified_at is not None and self.notified_at.tzinfo is None:
            raise ValueError("notified_at must include a UTC offset")
        return self


class CommunicationAckRequest(Strict):
    """The recipient's acknowledgement (default: now); ``read_back`` only when they read
    the result back (left out, the record's read-back stays as documented)."""

    acknowledged_at: datetime | None = None
    read_back: bool | None = None

    @model_validator(mode="after")
    def _aware(self) -> CommunicationAckRequest:
        if self.acknowledged_at is not None and self.acknowledged_at.tzinfo is None:
            raise ValueError("acknowledged_at must include a UTC offset")
        return self


class SignRequest(Strict):
    """Sign the draft: ``preliminary`` (radiologist or attending) or ``final`` (attending)."""

    status: Literal[ReportStatus.PRELIMINARY, ReportStatus.FINAL]
    reason: Reason | None = None


class AmendRequest(Strict):
    """Change a signed report: a new signed ``amended`` or ``corrected`` version."""

    status: Literal[ReportStatus.AMENDED, ReportStatus.CORRECTED] = ReportStatus.AMENDED
    reason: Reason
    statement_edits: list[StatementEdit] = Field(default_factory=list, max_length=500)
    content: list[DraftSection] | None = None


class AddendumRequest(Strict):
    """Text appended to a signed report, signed by its author."""

    text: Annotated[str, Field(min_length=1, max_length=5000)]
    reason: Reason | None = None


class OverdueItem(Strict):
    """A critical result whose communication is late."""

    report_id: str
    accession_number: str
    finding_code: str
    label: str
    category: int
    state: CommunicationState
    identified_at: datetime
    communication_id: str | None


class AuditEntryOut(Strict):
    """One audit entry."""

    report_id: str
    seq: int
    event: str
    actor: str
    at: datetime
    data: dict[str, Any]
    prev_hash: str
    hash: str


class AuditOut(Strict):
    """A report's audit trail and whether its hash chain verifies."""

    report_id: str
    verified: bool
    problem: str | None
    entries: list[AuditEntryOut]


FacilityId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=FACILITY_ID_MAX,
        description="A facility identifier (the case's study.performing_facility.identifier)",
    ),
]


class FacilityScopeFields(Strict):
    """A facility scope: ``facilities`` or ``all_facilities`` (checked by the store)."""

    facilities: Annotated[list[FacilityId], Field(max_length=200)] | None = Field(
        default=None, description="The facilities whose reports this may see."
    )
    all_facilities: bool = Field(
        default=False,
        description="Every facility, explicitly (e.g. an enterprise QA key); "
        "not together with facilities.",
    )


class ApiKeyRequest(FacilityScopeFields):
    """Create an API key; signing roles name the radiologist profile they sign as.

    Every role but admin needs ``facilities`` or ``all_facilities``; admin keys take
    neither (they see every facility).
    """

    role: Role
    radiologist_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_.@]{1,64}$")] | None = None
    label: Annotated[str, Field(max_length=200)] | None = None


class ApiKeyScopeRequest(FacilityScopeFields):
    """Replace a key's facility scope (how an admin scopes a key created before scoping)."""


class ApiKeyOut(Strict):
    """A created key: ``key`` is shown this once and never again."""

    id: str
    role: Role
    radiologist_id: str | None
    key: str
    facilities: list[str]
    all_facilities: bool


class ApiKeyInfo(Strict):
    """A stored key, without its secret; ``scoped`` false: it may read nothing yet."""

    id: str
    role: Role
    radiologist_id: str | None
    label: str | None
    revoked: bool
    created_at: datetime
    facilities: list[str]
    all_facilities: bool
    scoped: bool


class WebhookRequest(FacilityScopeFields):
    """Subscribe a URL to events (``secret`` generated when not given).

    ``facilities`` or ``all_facilities`` is required: events carry patient context, so
    a subscription receives only events about reports of the facilities it names.
    """

    url: AnyHttpUrl
    events: list[
        Literal["report.drafted", "critical.detected", "critical.overdue", "report.signed"]
    ] = Field(min_length=1, max_length=4)
    secret: Annotated[str, Field(min_length=16, max_length=200)] | None = None


class WebhookOut(Strict):
    """A subscription; ``secret`` only in the response that created it."""

    id: str
    url: str
    events: list[str]
    active: bool
    facilities: list[str]
    all_facilities: bool
    secret: str | None = None


class Health(Strict):
    """Liveness and readiness."""

    status: Literal["ok"]
    database: str
    queue: dict[str, int]
