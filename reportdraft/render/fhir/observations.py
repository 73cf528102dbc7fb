"""The Observations of the report: confirmed AI findings and alerting critical results.

Each AI finding the radiologist confirmed (rejected ones are not sent) becomes an
Observation with its location, laterality and measurements; each critical finding that
alerts becomes an Observation flagged critical (``AA``) carrying its ACR category and the
documented communication. The DiagnosticReport lists them all under ``result``.
"""

from __future__ import annotations

from reportdraft.models import AIFinding, CriticalMention, Decision, ReportStatus, ReportVersion
from reportdraft.render.fhir.wire import (
    INTERPRETATION,
    JSON,
    OBS_CATEGORY,
    SNOMED,
    SYSTEM_BASE,
    UCUM,
    instant,
    ref,
)
from reportdraft.render.text import clean, communication_sentence

OBS_STATUS: dict[ReportStatus, str] = {
    ReportStatus.PRELIMINARY: "preliminary",
    ReportStatus.FINAL: "final",
    ReportStatus.AMENDED: "amended",
    ReportStatus.CORRECTED: "corrected",
    ReportStatus.APPENDED: "final",
}
"""Observation.status has no ``appended``: the findings of an appended report stay final."""

PREVIEW_OBS_STATUS = "preliminary"
"""Observation.status of a draft preview's findings: "data may be incomplete or unverified"."""

UCUM_CODES: dict[str, str] = {
    "mm": "mm",
    "cm": "cm",
    "mL": "mL",
    "cm3": "cm3",
    "HU": "[hnsf'U]",
    "%": "%",
    "mm2": "mm2",
    "cm2": "cm2",
    "g": "g",
    "mSv": "mSv",
}
"""Our measurement units → UCUM codes (Hounsfield units are ``[hnsf'U]`` in UCUM)."""

LATERALITY: dict[str, tuple[str, str]] = {
    "left": ("7771000", "Left"),
    "right": ("24028007", "Right"),
    "bilateral": ("51440002", "Right and left"),
}
"""SNOMED CT laterality qualifiers."""


def confirmed_findings(version: ReportVersion) -> list[AIFinding]:
    """AI findings whose effective decision is ``confirmed`` (rejected ones are not sent)."""
    return [f for f in version.case.ai_findings if version.decision_for(f) is Decision.CONFIRMED]


def alerting_mentions(version: ReportVersion) -> list[CriticalMention]:
    """One alerting mention per critical finding code, in report order."""
    seen: dict[str, CriticalMention] = {}
    for mention in version.critical:
        if mention.alert and mention.finding_code not in seen:
            seen[mention.finding_code] = mention
    return list(seen.values())


def _observation_base(version: ReportVersion, status: str, patient_url: str) -> JSON:
    return {
        "resourceType": "Observation",
        "status": status,
        "category": [
            {"coding": [{"system": OBS_CATEGORY, "code": "imaging", "display": "Imaging"}]}
        ],
        "subject": ref(patient_url),
        "effectiveDateTime": instant(version.case.study.acquisition_time),
    }


def body_site(location: str, laterality: str | None) -> JSON:
    """bodySite: the location as text, laterality as a SNOMED CT qualifier coding."""
    site: JSON = {"text": clean(location)}
    if laterality:
        code, display = LATERALITY[laterality]
        site["coding"] = [{"system": SNOMED, "code": code, "display": display}]
    return site


def finding_observation(
    version: ReportVersion, finding: AIFinding, status: str, patient_url: str
) -> JSON:
    """An Observation for one AI finding the radiologist confirmed.

    ``code`` is the finding type (our system; no standard code exists for most), ``value``
    the description, ``bodySite`` the location with laterality, and each measurement a
    ``component`` with a UCUM ``valueQuantity``.
    """
    obs = _observation_base(version, status, patient_url)
    obs["identifier"] = [{"system": f"{SYSTEM_BASE}:ai-finding", "value": finding.id}]
    obs["code"] = {
        "coding": [
            {
                "system": f"{SYSTEM_BASE}:finding-type",
                "code": finding.finding_type,
                "display": finding.finding_type.replace("_", " "),
            }
        ],
        "text": clean(finding.description),
    }
    obs["valueString"] = clean(f"{finding.description}, {finding.location}")
    obs["bodySite"] = body_site(finding.location, finding.laterality)
    obs["method"] = {"text": f"{finding.algorithm.name} {finding.algorithm.version}"}
    if finding.measurements:
        obs["component"] = [
            {
                "code": {"text": clean(m.label or "measurement")},
                "valueQuantity": {
                    "value": m.value,
                    "unit": m.unit,
                    "system": UCUM,
                    "code": UCUM_CODES[m.unit],
                },
            }
            for m in finding.measurements
        ]
    return obs


def critical_observation(
    version: ReportVersion, mention: CriticalMention, status: str, patient_url: str
) -> JSON:
    """An Observation for one alerting critical finding, flagged critical (``AA``).

    The note carries the documented communication when one was recorded, so the EHR sees
    who was told, when and how.
    """
    obs = _observation_base(version, status, patient_url)
    codings = [
        {
            "system": f"{SYSTEM_BASE}:critical-finding",
            "code": mention.finding_code,
            "display": clean(mention.label),
        }
    ]
    codings += [
        {k: v for k, v in {"system": c.system, "code": c.code, "display": c.display}.items() if v}
        for c in mention.codes
    ]
    obs["code"] = {"coding": codings, "text": clean(mention.label)}
    obs["valueString"] = clean(mention.text)
    obs["interpretation"] = [
        {"coding": [{"system": INTERPRETATION, "code": "AA", "display": "Critical abnormal"}]}
    ]
    obs["extension"] = [
        {
            "url": f"{SYSTEM_BASE}:acr-actionable-category",
            "valueInteger": mention.category,
        }
    ]
    notes = [
        communication_sentence(r)
        for r in version.communications
        if r.finding_code == mention.finding_code
    ]
    if notes:
        obs["note"] = [{"text": n} for n in notes]
    return obs
