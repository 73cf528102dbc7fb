"""The ImagingStudy the report interprets, identified by accession number and Study UID.

The accession number is what the ordering and imaging systems know the study by; the DICOM
Study Instance UID, when the case carries one, names the images themselves.
"""

from __future__ import annotations

from reportdraft.models import Modality, ReportVersion
from reportdraft.render.fhir.wire import DICOM_UID, JSON, V2_0203, instant, ref, site_system


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
