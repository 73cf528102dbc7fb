"""The attestation in FHIR: who signed this version and when, and its Provenance resource.

:func:`signed` is the one place that refuses an unsigned version (everything that names the
signer or the signing time goes through it), and :func:`issued` the one answer to "when was
this version released", which both the Bundle's timestamp and the DiagnosticReport's
``issued`` carry. A draft preview has no Provenance (nobody attested it).
"""

from __future__ import annotations

from typing import Any

from reportdraft.errors import RenderError
from reportdraft.models import ReportStatus, ReportVersion
from reportdraft.render.fhir.wire import JSON, SYSTEM_BASE, instant, ref
from reportdraft.render.trust import is_preview

SIGNATURE_TYPE = {
    "system": "urn:iso-astm:E1762-95:2013",
    "code": "1.2.840.10065.1.12.1.5",
    "display": "Verification Signature",
}
COMPLETION = "http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion"
PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def signed(version: ReportVersion) -> tuple[Any, Any]:
    """The version's (signature, signer); :class:`RenderError` ``not_signed`` for a draft."""
    if version.status is ReportStatus.DRAFT or version.signature is None or version.signer is None:
        raise RenderError(
            f"report {version.report_id} v{version.version} is a draft: only signed "
            "versions are rendered for delivery",
            code="not_signed",
        )
    return version.signature, version.signer


def issued(version: ReportVersion) -> str:
    """When this version was released: its signature time, or for a preview its creation."""
    if is_preview(version):
        return instant(version.created_at)
    return instant(signed(version)[0].signed_at)


def provenance(version: ReportVersion, urls: dict[str, str]) -> JSON:
    """The attestation: the radiologist verified this version; the model drafted it.

    ``signature.data`` is the Ed25519 signature over the canonical JSON of the version as
    stored (``targetFormat`` application/json), so a receiver holding the stored report can
    check it; the FHIR JSON itself is never what was signed (it re-serialises timestamps).
    """
    signature, signer = signed(version)
    final = version.status is not ReportStatus.PRELIMINARY
    activity = ("LA", "legally authenticated") if final else ("AU", "authenticated")
    out: JSON = {
        "resourceType": "Provenance",
        "target": [ref(urls["report"], f"Report {version.report_id} version {version.version}")],
        "occurredDateTime": instant(signature.signed_at),
        "recorded": instant(signature.signed_at),
        "activity": {
            "coding": [{"system": COMPLETION, "code": activity[0], "display": activity[1]}]
        },
        "agent": [
            {
                "type": {"coding": [{"system": PARTICIPANT, "code": "verifier"}]},
                "who": ref(urls["practitioner"], signer.display()),
                "onBehalfOf": ref(urls["organization"]),
            },
            {
                "type": {"coding": [{"system": PARTICIPANT, "code": "author"}]},
                "who": ref(urls["device"], f"drafting model ({version.draft.provenance.backend})"),
                "onBehalfOf": ref(urls["organization"]),
            },
        ],
        "signature": [
            {
                "type": [SIGNATURE_TYPE],
                "when": instant(signature.signed_at),
                "who": ref(urls["practitioner"]),
                "targetFormat": "application/json",
                "sigFormat": "application/octet-stream",
                "data": signature.value,
            }
        ],
    }
    if version.previous is not None:
        out["entity"] = [
            {
                "role": "revision",
                "what": {
                    "identifier": {
                        "system": f"{SYSTEM_BASE}:report",
                        "value": f"{version.report_id}-v{version.previous.version}",
                    },
                    "display": f"sha256 {version.previous.sha256}",
                },
            }
        ]
    return out
