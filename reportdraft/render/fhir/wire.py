"""What every resource of the Bundle shares: code systems, ids, timestamps and References.

Every builder returns a plain JSON-ready dict (R4 wire form); the Bundle is validated as a
whole with ``fhir.resources.R4B`` only once it is assembled. Resource ids are name-based
UUIDs of the report id, version and the resource's key, so rendering the same signed
version twice gives the same Bundle (golden files, idempotent re-sends).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from reportdraft.models import ReportVersion
from reportdraft.render.text import clean

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
