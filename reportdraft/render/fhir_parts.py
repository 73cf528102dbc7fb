"""Building blocks of the FHIR R4 Bundle: codes, identifiers and the supporting resources.

Everything here returns plain JSON-ready dicts (R4 wire form); :mod:`reportdraft.render.fhir`
assembles them into a Bundle and validates the whole with ``fhir.resources.R4B``. Resource
ids are name-based UUIDs of the report id, version and the resource's key, so rendering the
same signed version twice gives the same Bundle (golden files, idempotent re-sends).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from reportdraft.models import AIFinding, CriticalMention, Decision, Modality, ReportVersion
from reportdraft.models.report import Radiologist
from reportdraft.render.text import clean, communication_sentence

JSON = dict[str, Any]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
NPI = "http://hl7.org/fhir/sid/us-npi"
DICOM_UID = "urn:dicom:uid"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
SYSTEM_BASE = "urn:reportdraft"
"""Prefix of the identifier systems we mint (MRN, accession, report, finding types).

A site maps these to its own OIDs/URLs; they are URNs so no one mistakes them for a
resolvable terminology server.
"""

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


def instant(value: datetime) -> str:
    """A timestamp in FHIR form (``2026-11-27T14:05:00-08:00``); always with an offset."""
    return value.isoformat()


def full_url(version: ReportVersion, kind: str, key: str = "") -> str:
    """A stable ``urn:uuid`` for one resource of one report version."""
    name = f"reportdraft/{version.report_id}/v{version.version}/{kind}/{key}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def ref(url: str, display: str | None = None) -> JSON:
    """A Reference to a Bundle entry by its fullUrl."""
    out: JSON = {"reference": url}
    if display:
        out["display"] = display
    return out


def site_system(kind: str, version: ReportVersion) -> str:
    """An identifier system scoped to the performing facility (MRNs are per site)."""
    facility = version.case.study.performing_facility
    scope = clean(facility.identifier or facility.name).replace(" ", "_")
    return f"{SYSTEM_BASE}:{kind}:{scope}"


def human_name(family: str, given: list[str]) -> JSON:
    """A HumanName with text, family and given names."""
    return {"use": "official", "text": " ".join([*given, family]), "family": family, "given": given}


def patient(version: ReportVersion) -> JSON:
    """The Patient (US Core: identifier, name, gender), identified by MRN."""
    pt = version.case.patient
    return {
        "resourceType": "Patient",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
                "system": site_system("mrn", version),
                "value": pt.id,
            }
        ],
        "name": [human_name(pt.name.family, list(pt.name.given))],
        "gender": pt.sex,
        "birthDate": pt.birth_date.isoformat(),
    }


def practitioner(person: Radiologist, version: ReportVersion) -> JSON:
    """The signing radiologist: NPI, name, credentials and the licenses shown on the report."""
    identifiers: list[JSON] = []
    if person.npi:
        identifiers.append({"system": NPI, "value": person.npi})
    identifiers.append({"system": f"{SYSTEM_BASE}:user", "value": person.id})
    name = human_name(person.name.family, list(person.name.given))
    if person.credentials:
        name["suffix"] = list(person.credentials)
    qualifications = [
        {
            "identifier": [{"system": f"{SYSTEM_BASE}:license:{lic.state}", "value": lic.number}],
            "code": {"text": f"Medical license, {lic.state}"},
            "period": {"end": lic.expires.isoformat()},
        }
        for lic in version.signer_licenses
    ]
    out: JSON = {"resourceType": "Practitioner", "identifier": identifiers, "name": [name]}
    if qualifications:
        out["qualification"] = qualifications
    return out


def organization(version: ReportVersion) -> JSON:
    """The performing facility."""
    facility = version.case.study.performing_facility
    out: JSON = {"resourceType": "Organization", "active": True, "name": facility.name}
    if facility.identifier:
        out["identifier"] = [{"system": f"{SYSTEM_BASE}:facility", "value": facility.identifier}]
    if facility.address:
        out["address"] = [{"text": facility.address}]
    return out


def device(version: ReportVersion) -> JSON:
    """The drafting model as a Device (the author agent of the Provenance)."""
    prov = version.draft.provenance
    names = [{"name": f"reportdraft {prov.backend} backend", "type": "user-friendly-name"}]
    if prov.model:
        names.append({"name": prov.model, "type": "model-name"})
    out: JSON = {"resourceType": "Device", "status": "active", "deviceName": names}
    if prov.prompt_version:
        out["version"] = [{"type": {"text": "prompt"}, "value": prov.prompt_version}]
    return out


def accession_identifier(version: ReportVersion) -> JSON:
    """The accession number as an identifier of type ACSN."""
    return {
        "type": {"coding": [{"system": V2_0203, "code": "ACSN", "display": "Accession ID"}]},
        "system": site_system("accession", version),
        "value": version.case.study.accession_number,
    }


def imaging_study(version: ReportVersion, patient_url: str) -> JSON:
    """The ImagingStudy the report interprets (accession and, when known, Study UID)."""
    study = version.case.study
    identifiers = [accession_identifier(version)]
    if study.study_instance_uid:
        identifiers.insert(0, {"system": DICOM_UID, "value": f"urn:oid:{study.study_instance_uid}"})
    modality = "DX" if study.modality is Modality.XR else study.modality.value
    return {
        "resourceType": "ImagingStudy",
        "identifier": identifiers,
        "status": "available",
        "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": modality}],
        "subject": ref(patient_url),
        "started": instant(study.acquisition_time),
        "description": study.procedure.display,
    }


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
