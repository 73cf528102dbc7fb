"""The case: what a reading workstation sends at the end of a read.

A case is the study context, the patient, the raw dictation transcript and the AI
findings with the radiologist's decision on each. Validation is strict (unknown keys are
errors) so that a typo in an integration shows up at once, named by its field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from reportdraft.models.primitives import Laterality, Strict

MAX_DICTATION_CHARS = 20_000
"""Largest transcript accepted; a read's dictation is a few thousand characters at most."""

Text = Annotated[str, Field(min_length=1, max_length=2_000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class Modality(StrEnum):
    """Imaging modality (DICOM-style abbreviations; plain radiography is ``XR``).

    ``NM`` nuclear medicine, ``PT`` PET, ``RF`` fluoroscopy, ``XA`` angiography and
    interventional, ``BMD`` bone densitometry (DEXA). Feeds that send DICOM's ``DX``/``CR``
    (digital / computed radiography) or ``DEXA``/``DXA`` are read as ``XR`` and ``BMD``
    (:data:`MODALITY_ALIASES`), so one procedure is one modality whatever the feed.
    """

    XR = "XR"
    CT = "CT"
    MR = "MR"
    US = "US"
    MG = "MG"
    NM = "NM"
    PT = "PT"
    RF = "RF"
    XA = "XA"
    BMD = "BMD"


MODALITY_ALIASES = {"DX": "XR", "CR": "XR", "DEXA": "BMD", "DXA": "BMD"}
"""Spellings of a modality that feeds send, folded to the one :class:`Modality` value."""


def _fold_modality(value: object) -> object:
    """``DX``/``CR`` → ``XR``, ``DEXA``/``DXA`` → ``BMD``; anything else is left to the enum."""
    if isinstance(value, str):
        return MODALITY_ALIASES.get(value.strip().upper(), value)
    return value


class Priority(StrEnum):
    """Reading priority; STAT studies are drafted first (target: signed in 30 minutes)."""

    STAT = "stat"
    ROUTINE = "routine"


class Contrast(StrEnum):
    """Intravenous contrast of the acquisition."""

    NONE = "none"
    WITH = "with"
    WITHOUT_AND_WITH = "without_and_with"


class Decision(StrEnum):
    """The radiologist's decision on an AI finding."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Coding(Strict):
    """A coded concept (LOINC, RadLex Playbook, SNOMED CT, ...)."""

    system: ShortText
    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-_:]+$")]
    display: ShortText


class Physician(Strict):
    """A physician referenced by the case (ordering, recipient of a communication)."""

    name: ShortText
    npi: Annotated[str, Field(pattern=r"^\d{10}$")] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None


class Facility(Strict):
    """The performing facility; its name heads the rendered report."""

    name: ShortText
    identifier: Annotated[str, Field(max_length=64)] | None = None
    address: Annotated[str, Field(max_length=300)] | None = None


class Dose(Strict):
    """Radiation dose indices of a CT acquisition, when the modality reports them."""

    ctdi_vol_mgy: Annotated[float, Field(gt=0, lt=10_000)] | None = None
    dlp_mgy_cm: Annotated[float, Field(gt=0, lt=100_000)] | None = None


class ComparisonStudy(Strict):
    """A prior study the radiologist compared with."""

    date: date
    modality: Modality
    description: ShortText | None = None
    report_text: Annotated[str, Field(max_length=MAX_DICTATION_CHARS)] | None = None

    _modality = field_validator("modality", mode="before")(_fold_modality)


ACCESSION = r"^[A-Za-z0-9\-_.]{1,32}$"
REGION = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"


class StudyContext(Strict):
    """Everything about the study that is not dictation or AI output."""

    accession_number: Annotated[str, Field(pattern=ACCESSION)]
    procedure: Coding
    modality: Modality
    body_part: ShortText
    laterality: Laterality | None = None
    contrast: Contrast = Contrast.NONE
    priority: Priority = Priority.ROUTINE
    indication: Text
    clinical_history: Text | None = None
    comparisons: list[ComparisonStudy] = Field(default_factory=list, max_length=20)
    ordering_physician: Physician
    performing_facility: Facility
    acquisition_time: datetime
    patient_location: Annotated[str, Field(pattern=REGION)] = Field(
        description="State/region where the patient was at acquisition, e.g. 'CA' or 'US-CA'; "
        "the signer must be licensed there."
    )
    views: Annotated[int, Field(ge=1, le=20)] | None = None
    dose: Dose | None = None
    study_instance_uid: Annotated[str, Field(pattern=r"^[0-9.]{1,64}$")] | None = None
    service_request_id: Annotated[str, Field(max_length=64)] | None = None

    _modality = field_validator("modality", mode="before")(_fold_modality)

    @field_validator("acquisition_time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must include a UTC offset (e.g. 2026-11-27T14:05:00Z)")
        return value

    @property
    def state(self) -> str:
        """The two-letter state/region code of the patient's location."""
        return (
            self.patient_location.split("-")[-1]
            if "-" in self.patient_location
            else (self.patient_location)
        )


class PersonName(Strict):
    """A person's name as FHIR and HL7 carry it."""

    family: ShortText
    given: list[ShortText] = Field(min_length=1, max_length=5)

    def display(self) -> str:
        """Name as printed on a report: ``Given Middle Family``."""
        return " ".join([*self.given, self.family])


class Patient(Strict):
    """The patient; ``id`` is the medical record number (MRN)."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_.]{1,64}$")]
    name: PersonName
    sex: Literal["male", "female", "other", "unknown"]
    birth_date: date


Unit = Literal["mm", "cm", "mL", "cm3", "HU", "%", "mm2", "cm2", "g", "mSv"]


class Measurement(Strict):
    """A measured value with its unit (UCUM-compatible spelling)."""

    value: Annotated[float, Field(gt=0, lt=100_000)]
    unit: Unit
    label: Annotated[str, Field(max_length=60)] | None = None


class AlgorithmRef(Strict):
    """The AI algorithm that produced a finding."""

    name: ShortText
    version: Annotated[str, Field(min_length=1, max_length=40)]


class AIFinding(Strict):
    """One finding of an image-analysis algorithm and the radiologist's decision on it."""

    id: Annotated[str, Field(pattern=r"^A\d{1,3}$")]
    algorithm: AlgorithmRef
    finding_type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")] = Field(
        description="Snake-case finding type, e.g. 'intracranial_hemorrhage', 'pulmonary_nodule'."
    )
    description: ShortText = Field(description="Human-readable finding, e.g. 'solid nodule'.")
    location: ShortText = Field(description="Anatomical location, e.g. 'right upper lobe'.")
    laterality: Laterality | None = None
    measurements: list[Measurement] = Field(default_factory=list, max_length=10)
    confidence: Annotated[float, Field(ge=0, le=1)]
    series_uid: Annotated[str, Field(pattern=r"^[0-9.]{1,64}$")] | None = None
    instance_uids: list[Annotated[str, Field(pattern=r"^[0-9.]{1,64}$")]] = Field(
        default_factory=list, max_length=50
    )
    decision: Decision = Decision.PENDING


class Case(Strict):
    """The input of one read: study context, patient, dictation, AI findings."""

    schema_version: Literal["1"] = "1"
    study: StudyContext
    patient: Patient
    dictation: Annotated[str, Field(max_length=MAX_DICTATION_CHARS)]
    ai_findings: list[AIFinding] = Field(default_factory=list, max_length=50)

    @field_validator("dictation")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not re.search(r"[A-Za-z0-9]", value):
            raise ValueError("dictation is empty: it must hold at least one word")
        return value

    @model_validator(mode="after")
    def _unique_ai_ids(self) -> Case:
        ids = [f.id for f in self.ai_findings]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"ai_findings: duplicate id(s) {', '.join(duplicates)}")
        return self

    def ai_finding(self, finding_id: str) -> AIFinding | None:
        """The AI finding with ``finding_id``, or None."""
        return next((f for f in self.ai_findings if f.id == finding_id), None)
