"""Who takes part in the report: the Patient, the signing Practitioner, the Organization
and the drafting model as a Device.

The DiagnosticReport names them (subject, performer, resultsInterpreter) and the Provenance
makes the Practitioner the verifier and the Device the author, each on behalf of the
Organization. The Bundle sends the Patient and the Practitioner with ``ifNoneExist`` on an
identifier (the MRN; the NPI, or our user id where there is none), so a receiver that
already holds them does not create them again.
"""

from __future__ import annotations

from reportdraft.models import ReportVersion
from reportdraft.models.report import Radiologist
from reportdraft.render.fhir.wire import JSON, NPI, SYSTEM_BASE, V2_0203, site_system


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
