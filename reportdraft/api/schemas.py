"""Request and response bodies of the HTTP API (pydantic; unknown keys rejected).

Domain values (``Case``, ``Draft``, ``ReportVersion``, ``CommunicationRecord``) appear in
the bodies as they are, so the OpenAPI document describes exactly what the pipeline and
the attestation module accept and produce.

Every request body carries an example (``examples`` in its JSON schema, or
``CASE_EXAMPLE`` / ``RADIOLOGIST_EXAMPLE`` for the domain models the endpoints take as
they are), so ``/docs`` offers a request that validates; a test checks each one does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, ConfigDict, Field, model_validator

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
from reportdraft.store import reports
from reportdraft.store.principals import FACILITY_ID_MAX, Role

Reason = Annotated[str, Field(min_length=3, max_length=1000)]
REPORT_STATES: tuple[str, ...] = (
    reports.QUEUED,
    reports.DRAFTING,
    reports.FAILED,
    *(status.value for status in ReportStatus),
)
"""Every value of a report's ``state`` (the store's pre-draft states, then the lifecycle)."""
ReportState = Annotated[
    str,
    Field(
        description=f"{', '.join(REPORT_STATES[:3])} (no draft), or the report's lifecycle "
        f"status: {', '.join(REPORT_STATES[3:])}"
    ),
]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


CASE_EXAMPLE: dict[str, Any] = {
    "study": {
        "accession_number": "HVIC-XR-26112714",
        "procedure": {
            "system": "http://loinc.org",
            "code": "36643-5",
            "display": "XR Chest 2 Views",
        },
        "modality": "XR",
        "body_part": "CHEST",
        "priority": "routine",
        "indication": "Cough for 2 weeks.",
        "ordering_physician": {"name": "Linda Park, MD"},
        "performing_facility": {"name": "Hudson Valley Imaging Center", "identifier": "HVIC"},
        "acquisition_time": "2026-11-27T09:12:00-05:00",
        "patient_location": "NY",
    },
    "patient": {
        "id": "HVIC-203391",
        "name": {"family": "Nguyen", "given": ["Thomas"]},
        "sex": "male",
        "birth_date": "1981-01-30",
    },
    "dictation": "the lungs are clear period no pleural effusion or pneumothorax period "
    "impression colon no acute cardiopulmonary process period",
    "ai_findings": [],
}
"""The request example of ``POST /v1/reports`` (a fictional patient)."""

RADIOLOGIST_EXAMPLE: dict[str, Any] = {
    "id": "dr-reyes",
    "name": {"family": "Reyes", "given": ["Alex"]},
    "credentials": ["MD"],
    "role": "attending",
    "npi": "1234567893",
    "licenses": [{"region": "NY", "number": "NY-0001234", "expires": "2030-12-31"}],
}
"""The request example of ``PUT /v1/admin/radiologists/{id}`` (a fictional radiologist)."""


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


class ReportWarning(Strict):
    """Something the caller should know that is not an error (the request was applied)."""

    code: Literal["duplicate_accession"]
    message: str
    report_ids: list[str] = Field(default_factory=list)


class CreatedReport(ReportOut):
    """A created (or idempotently replayed) report, with warnings about the request.

    ``duplicate_accession``: other reports of the same accession at the same facility
    exist (``report_ids``, all of that facility); the report was created all the same,
    since re-reads are legitimate, and its draft carries a low ``duplicate_accession`` flag.
    """

    warnings: list[ReportWarning] = Field(default_factory=list)


class ReportPage(Strict):
    """A page of reports, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[ReportSummary]
    next_cursor: str | None


class EditRequest(Strict):
    """Edit the draft version: statement edits, or the complete edited content."""

    model_config = _examples(
        {"statement_edits": [{"id": "S2", "text": "No pleural effusion or pneumothorax."}]}
    )

    statement_edits: list[StatementEdit] = Field(default_factory=list, max_length=500)
    content: list[DraftSection] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> EditRequest:
        if (self.content is None) == (not self.statement_edits):
            raise ValueError("give exactly one of statement_edits or content")
        return self


class DecisionsRequest(Strict):
    """Confirm or reject AI findings by id."""

    model_config = _examples({"decisions": {"A1": "confirmed"}})

    decisions: dict[
        Annotated[str, Field(pattern=r"^A\d{1,3}$")],
        Literal[Decision.CONFIRMED, Decision.REJECTED],
    ] = Field(min_length=1, max_length=50)


class FlagAckRequest(Strict):
    """Why a flag may stand."""

    model_config = _examples({"reason": "Reviewed against the images; the statement stands."})

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

    model_config = _examples(
        {
            "finding_code": "pneumothorax",
            "recipient": {"name": "Dr. Ana Ortiz", "role": "ordering physician"},
            "method": "phone",
            "notified_at": "2026-11-27T10:05:00-05:00",
            "read_back": True,
        }
    )

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

    model_config = _examples({"acknowledged_at": "2026-11-27T10:07:00-05:00", "read_back": True})

    acknowledged_at: datetime | None = None
    read_back: bool | None = None

    @model_validator(mode="after")
    def _aware(self) -> CommunicationAckRequest:
        if self.acknowledged_at is not None and self.acknowledged_at.tzinfo is None:
            raise ValueError("acknowledged_at must include a UTC offset")
        return self


class SignRequest(Strict):
    """Sign the draft: ``preliminary`` (radiologist or attending) or ``final`` (attending)."""

    model_config = _examples({"status": "final"})

    status: Literal[ReportStatus.PRELIMINARY, ReportStatus.FINAL]
    reason: Reason | None = None


class AmendRequest(Strict):
    """Change a signed report: a new signed ``amended`` or ``corrected`` version."""

    model_config = _examples(
        {
            "status": "amended",
            "reason": "Nodule size corrected after review of the source images.",
            "statement_edits": [
                {"id": "S3", "text": "A 7 mm solid nodule in the right upper lobe."}
            ],
        }
    )

    status: Literal[ReportStatus.AMENDED, ReportStatus.CORRECTED] = ReportStatus.AMENDED
    reason: Reason
    statement_edits: list[StatementEdit] = Field(default_factory=list, max_length=500)
    content: list[DraftSection] | None = None


class AddendumRequest(Strict):
    """Text appended to a signed report, signed by its author."""

    model_config = _examples(
        {"text": "Comparison with the outside CT of 2026-10-02: the nodule is unchanged."}
    )

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

    model_config = _examples(
        {
            "role": "radiologist",
            "radiologist_id": "dr-reyes",
            "label": "reading room 3",
            "facilities": ["HVIC"],
        }
    )

    role: Role
    radiologist_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_.@]{1,64}$")] | None = None
    label: Annotated[str, Field(max_length=200)] | None = None


class ApiKeyScopeRequest(FacilityScopeFields):
    """Replace a key's facility scope (how an admin scopes a key created before scoping)."""

    model_config = _examples({"facilities": ["HVIC", "HVIC-NORTH"]})


class KeyRevokeRequest(Strict):
    """Why a radiologist's signing key is revoked (kept with the key and published)."""

    model_config = _examples({"reason": "laptop holding an exported copy was lost"})

    reason: str = Field(min_length=3, max_length=200)


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

    model_config = _examples(
        {
            "url": "https://ris.example.org/hooks/reportdraft",
            "events": ["critical.detected"],
            "facilities": ["HVIC"],
        }
    )

    url: Annotated[
        AnyHttpUrl,
        Field(
            description="https, to a host that is not internal (loopback, private, "
            "link-local, ...) unless listed in REPORTDRAFT_WEBHOOK_ALLOW"
        ),
    ]
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
