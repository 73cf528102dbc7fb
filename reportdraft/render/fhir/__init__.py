"""The signed report as a FHIR R4 transaction Bundle (US Core DiagnosticReport for Report and
Note), and our US Core checks of such a Bundle.

The Bundle holds the DiagnosticReport, its Observations (confirmed AI findings with
measurements, alerting critical results), the Provenance of the attestation and the
resources they reference (Patient, Practitioner, Organization, ImagingStudy, the drafting
model as a Device). ``fhir.resources.R4B`` validates its structure before it is returned;
:func:`check_us_core` checks what that library does not (status codes, required elements,
reference targets, us-core-10).

One module per concern, in the order :func:`~reportdraft.render.fhir.bundle.build_bundle`
uses them:

- :mod:`~reportdraft.render.fhir.bundle`: the entries in order, fullUrls, validation, and
  the public :func:`render_fhir` / :func:`structured_bundle`;
- :mod:`~reportdraft.render.fhir.participants`: Patient, Practitioner, Organization, Device;
- :mod:`~reportdraft.render.fhir.imaging_study`: the ImagingStudy;
- :mod:`~reportdraft.render.fhir.observations`: AI-finding and critical-result Observations;
- :mod:`~reportdraft.render.fhir.diagnostic_report`: the DiagnosticReport, its status
  mapping (the draft preview's ``partial`` included) and its attachments;
- :mod:`~reportdraft.render.fhir.provenance`: signer and signing time, the Provenance;
- :mod:`~reportdraft.render.fhir.wire`: code systems, stable ids, timestamps, References;
- :mod:`~reportdraft.render.fhir.us_core`: :func:`check_us_core`, the profile checks.
"""

from reportdraft.render.fhir.bundle import render_fhir, structured_bundle
from reportdraft.render.fhir.us_core import check_us_core

__all__ = ["check_us_core", "render_fhir", "structured_bundle"]
