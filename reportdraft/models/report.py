"""The report: the radiologist's edited, attested document and the chain of its versions.

A :class:`Report` is a chain of :class:`ReportVersion` values. Version 1 starts as a
``draft`` (the model's draft plus the radiologist's edits, decisions and acknowledgements,
still changeable); signing it makes it ``preliminary`` (a resident's read) or ``final``
(an attending's). Once a version carries a :class:`Signature` it never changes again: a
later change (``final`` by the attending over a prelim, ``amended``, ``corrected``, or an
addendum, ``appended``) is a *new* version that references the previous one by number and
sha256. Every version carries the whole transition history, so one signed version is a
self-contained legal document; the renderers (PDF, FHIR, HL7) read only this module.

The signature covers the canonical JSON of a version without its ``signature`` field
(see ``reportdraft.attest.signing``); the ``sha256`` of a :class:`VersionRef` is over the
canonical JSON of the *whole* referenced version, signature included.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from reportdraft.models.case import REGION, AIFinding, Case, Decision, PersonName
from reportdraft.models.communication import CommunicationRecord
from reportdraft.models.critical import CriticalMention
from reportdraft.models.draft import Draft, DraftSection, SectionKind, Statement
from reportdraft.models.primitives import Strict

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
KeyId = Annotated[str, Field(pattern=r"^[0-9a-f]{16,64}$")]
UserId = Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_.@]{1,64}$")]
Reason = Annotated[str, Field(min_length=3, max_length=1000)]

DEFAULT_AI_STATEMENT = (
    "This report was drafted with the assistance of an artificial intelligence (AI) system "
    "({backend}, model {model}) from the radiologist's dictation and the image-analysis "
    "findings the radiologist confirmed. The interpreting radiologist reviewed, edited as "
    "needed and approved the entire content of this report."
)
"""Default text of the AI-assistance statement; ``{backend}``/``{model}`` come from the draft."""


class ReportStatus(StrEnum):
    """Lifecycle status of a report version (FHIR DiagnosticReport status, HL7 OBR-25)."""

    DRAFT = "draft"
    PRELIMINARY = "preliminary"
    FINAL = "final"
    AMENDED = "amended"
    CORRECTED = "corrected"
    APPENDED = "appended"


SIGNED_STATUSES = frozenset(
    {
        ReportStatus.PRELIMINARY,
        ReportStatus.FINAL,
        ReportStatus.AMENDED,
        ReportStatus.CORRECTED,
        ReportStatus.APPENDED,
    }
)
"""Statuses that exist only as a signed, immutable version."""


class RadiologistRole(StrEnum):
    """What the signer may do: a resident signs preliminary reads, an attending signs final."""

    RESIDENT = "resident"
    ATTENDING = "attending"


class License(Strict):
    """A medical license: the signer must hold an active one where the patient was imaged.

    ``region`` uses the same spelling as ``StudyContext.patient_location`` (``CA`` or
    ``US-CA``); :attr:`state` gives the bare code both are compared on.
    """

    region: Annotated[str, Field(pattern=REGION)]
    number: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\-./ ]+$")]
    expires: date
    issued: date | None = None

    @property
    def state(self) -> str:
        """The two-letter state/region code (``US-CA`` → ``CA``)."""
        return self.region.split("-")[-1]

    def active_on(self, day: date) -> bool:
        """True when the license is valid on ``day`` (issued on/before, expiring on/after)."""
        return (self.issued is None or self.issued <= day) and day <= self.expires


class Radiologist(Strict):
    """A radiologist profile: who signs, with what credentials, licenses and signing key.

    ``key_id`` names the Ed25519 key registered for this radiologist; a signature made
    with any other key is refused.
    """

    id: UserId
    name: PersonName
    credentials: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        default_factory=list, max_length=10, description="Post-nominals, e.g. ['MD', 'FACR']."
    )
    role: RadiologistRole
    npi: Annotated[str, Field(pattern=r"^\d{10}$")] | None = None
    licenses: list[License] = Field(default_factory=list, max_length=60)
    key_id: KeyId | None = None

    def display(self) -> str:
        """Name as printed under a report: ``Given Family, MD, FACR``."""
        return ", ".join([self.name.display(), *self.credentials])

    def licenses_for(self, state: str, on: date) -> list[License]:
        """The licenses active on ``on`` in ``state`` (bare code, e.g. ``CA``)."""
        return [lic for lic in self.licenses if lic.state == state and lic.active_on(on)]


class Transition(Strict):
    """One lifecycle transition: from, to, who, when, why (``reason`` required post-sign)."""

    version: Annotated[int, Field(ge=1)]
    from_status: ReportStatus | None = Field(
        description="Status before the transition; None when the report was created."
    )
    to_status: ReportStatus
    by: UserId
    at: AwareDatetime
    reason: Reason | None = None


class FindingDecision(Strict):
    """The radiologist's decision on one AI finding (overrides the case's ``decision``)."""

    finding_id: Annotated[str, Field(pattern=r"^A\d{1,3}$")]
    decision: Decision
    by: UserId
    at: AwareDatetime
    reason: Reason | None = None


class FlagAcknowledgement(Strict):
    """A radiologist's acknowledgement of a verifier flag, with the reason it may stand."""

    flag_id: Annotated[str, Field(pattern=r"^F\d+$")]
    by: UserId
    reason: Reason
    at: AwareDatetime


class Signature(Strict):
    """A detached signature over the canonical bytes of a version (or an addendum).

    ``payload_sha256`` is the sha256 of exactly the bytes that were signed; ``public_key``
    is the raw Ed25519 public key (base64) whose sha256 prefix is ``key_id``, so a verifier
    can check the signature alone and then check ``key_id`` against the signer's profile.
    ``signed_at`` sits outside the signed bytes, so it must equal a signed time: the
    version's last transition's ``at`` (or the addendum's ``created_at``).
    """

    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: KeyId
    public_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{43}=$")]
    value: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{86}==$")]
    signed_at: AwareDatetime
    payload_sha256: Sha256Hex


class VersionRef(Strict):
    """A reference to a report version: its number and the sha256 of its canonical JSON."""

    report_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_.]{1,64}$")]
    version: Annotated[int, Field(ge=1)]
    sha256: Sha256Hex


class Addendum(Strict):
    """Text added after signing, signed on its own by its author.

    ``appends`` names the signed version the addendum was written against; the addendum's
    own signature covers its canonical JSON without ``signature``.
    """

    id: Annotated[str, Field(pattern=r"^AD\d{1,3}$")]
    text: Annotated[str, Field(min_length=1, max_length=5000)]
    author: Radiologist
    created_at: AwareDatetime
    appends: VersionRef
    signature: Signature | None = None


class ReportVersion(Strict):
    """One version of a report: everything a signed diagnostic report needs.

    ``content`` is the radiologist's edited report in the draft's shape: statements they
    kept keep their ids, new statements get new ids and ``generator="radiologist"``.
    ``critical`` are the mentions detected in ``content``; ``communications`` document the
    alerting ones. ``signer_licenses`` are the signer's licenses valid in the patient's
    state on the signing day, copied at signing so the printed report shows them.
    Frozen like every model; once ``signature`` is set the attest module refuses any change.
    """

    schema_version: Literal["1"] = "1"
    report_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_.]{1,64}$")]
    version: Annotated[int, Field(ge=1)]
    status: ReportStatus
    created_at: AwareDatetime
    case: Case
    draft: Draft
    content: list[DraftSection] = Field(min_length=1)
    decisions: list[FindingDecision] = Field(default_factory=list)
    acknowledgements: list[FlagAcknowledgement] = Field(default_factory=list)
    critical: list[CriticalMention] = Field(default_factory=list)
    communications: list[CommunicationRecord] = Field(default_factory=list)
    addenda: list[Addendum] = Field(default_factory=list)
    ai_statement: Annotated[str, Field(min_length=1, max_length=2000)]
    previous: VersionRef | None = None
    transitions: list[Transition] = Field(default_factory=list)
    signer: Radiologist | None = None
    signer_licenses: list[License] = Field(default_factory=list)
    signature: Signature | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ReportVersion:
        ids = [st.id for st in self.statements()]
        if len(ids) != len(set(ids)):
            raise ValueError("content: statement ids must be unique")
        kinds = [sec.kind for sec in self.content]
        if len(kinds) != len(set(kinds)):
            raise ValueError("content: each section kind may appear once")
        if (self.version == 1) != (self.previous is None):
            raise ValueError("previous: required exactly when version > 1")
        if self.previous is not None and self.previous.version != self.version - 1:
            raise ValueError("previous: must reference the version just before this one")
        if self.transitions and self.transitions[-1].to_status != self.status:
            raise ValueError("status: must equal the last transition's to_status")
        if self.status in SIGNED_STATUSES and (self.signature is None or self.signer is None):
            raise ValueError(f"a {self.status.value} version must carry signer and signature")
        if self.status is ReportStatus.DRAFT and self.signature is not None:
            raise ValueError("a draft version cannot carry a signature")
        return self

    @property
    def is_signed(self) -> bool:
        """True once the version carries a signature (it is then immutable)."""
        return self.signature is not None

    def statements(self) -> list[Statement]:
        """All statements of the edited content in reading order."""
        return [st for sec in self.content for st in sec.statements]

    def section(self, kind: SectionKind) -> list[Statement]:
        """Statements of section ``kind`` of the edited content (empty when absent)."""
        return next((sec.statements for sec in self.content if sec.kind == kind), [])

    def statement(self, statement_id: str) -> Statement | None:
        """The edited statement ``statement_id``, or None."""
        return next((st for st in self.statements() if st.id == statement_id), None)

    def decision_for(self, finding: AIFinding) -> Decision:
        """The effective decision on ``finding``: the latest recorded one, else the case's."""
        recorded = [d for d in self.decisions if d.finding_id == finding.id]
        return recorded[-1].decision if recorded else finding.decision

    def acknowledged(self, flag_id: str) -> bool:
        """True when flag ``flag_id`` carries an acknowledgement."""
        return any(a.flag_id == flag_id for a in self.acknowledgements)


class Report(Strict):
    """A report as the chain of its versions, oldest first; the last one is current."""

    schema_version: Literal["1"] = "1"
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_.]{1,64}$")]
    versions: list[ReportVersion] = Field(min_length=1)

    @model_validator(mode="after")
    def _chain(self) -> Report:
        for number, version in enumerate(self.versions, start=1):
            if version.version != number or version.report_id != self.id:
                raise ValueError(f"versions[{number - 1}]: expected version {number} of {self.id}")
        for older in self.versions[:-1]:
            if not older.is_signed:
                raise ValueError(
                    f"version {older.version}: only the current version may be unsigned"
                )
        return self

    @property
    def current(self) -> ReportVersion:
        """The latest version."""
        return self.versions[-1]

    @property
    def status(self) -> ReportStatus:
        """The status of the current version."""
        return self.current.status

    def transitions(self) -> list[Transition]:
        """Every transition of the report, oldest first (the current version carries them all)."""
        return list(self.current.transitions)
