"""Closed-loop communication of critical results (ACR / Joint Commission documentation)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from reportdraft.models.critical import Category
from reportdraft.models.primitives import Strict


class CommunicationMethod(StrEnum):
    """How the result reached the recipient."""

    PHONE = "phone"
    IN_PERSON = "in_person"
    SECURE_MESSAGE = "secure_message"
    PAGE = "page"
    VIDEO = "video"


class CommunicationState(StrEnum):
    """Where a critical result stands, computed from the record's timestamps and the clock."""

    PENDING = "pending"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    OVERRIDDEN = "overridden"


class IdentifiedFrom(StrEnum):
    """What ``identified_at`` rests on: the evidence for when the finding was known.

    ``draft``: the draft's creation (the notification came after it). ``dictation``: the
    notification came before the draft existed and the dictation itself documents the call
    (the radiologist phoned, then dictated "discussed with Dr X at 14:05"); the finding was
    identified from the dictation's own statement, no later than the call. ``notification``:
    a call before the draft that the dictation does not mention; the call itself is the
    earliest evidence, so the finding counts as identified at the call.
    """

    DRAFT = "draft"
    DICTATION = "dictation"
    NOTIFICATION = "notification"


class Recipient(Strict):
    """Who received the result."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Annotated[str, Field(min_length=1, max_length=80)] = "ordering physician"


class CommunicationRecord(Strict):
    """The documentation of one alerting critical finding.

    The six documented fields: finding, time identified, communicating radiologist,
    recipient, time received/acknowledged, method; plus read-back. An explicit decision
    not to communicate is ``override_code`` (one of the listed reasons,
    ``reportdraft/data/critical/communication.yaml``) with ``override_reason`` (the
    radiologist's own words). Records stored before override codes existed carry only the
    free-text ``override_reason``: they still load, and the sign-off rules say what they
    lack (:func:`reportdraft.critical.closed_loop.record_problems`).
    ``identified_from`` says what ``identified_at`` rests on (None on older records).
    """

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_]{1,64}$")]
    finding_code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")]
    finding_label: Annotated[str, Field(min_length=1, max_length=200)]
    category: Category
    identified_at: datetime
    communicating_radiologist: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    recipient: Recipient | None = None
    method: CommunicationMethod | None = None
    notified_at: datetime | None = None
    acknowledged_at: datetime | None = None
    read_back: bool = False
    escalated_at: datetime | None = None
    override_reason: Annotated[str, Field(min_length=3, max_length=500)] | None = None
    override_code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")] | None = None
    identified_from: IdentifiedFrom | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CommunicationRecord:
        if self.notified_at is not None and (
            self.recipient is None or self.method is None or self.communicating_radiologist is None
        ):
            raise ValueError("a notification needs recipient, method and communicating_radiologist")
        if self.override_code is not None and self.override_reason is None:
            raise ValueError("override_code needs override_reason (the radiologist's words)")
        if self.acknowledged_at is not None and self.notified_at is None:
            raise ValueError("acknowledged_at needs notified_at")
        if self.notified_at is not None and self.notified_at < self.identified_at:
            raise ValueError("notified_at is before identified_at")
        if (
            self.acknowledged_at is not None
            and self.notified_at is not None
            and self.acknowledged_at < self.notified_at
        ):
            raise ValueError("acknowledged_at is before notified_at")
        return self

    @property
    def documented(self) -> bool:
        """True when a notification or an override is recorded (whether it is complete
        enough to sign is :func:`reportdraft.critical.closed_loop.record_problems`)."""
        return self.notified_at is not None or self.override_reason is not None
