"""Our profile checks for the FHIR Bundles we send (US Core DiagnosticReport for Report and Note).

``fhir.resources`` checks structure only: it accepts ``status="foo"``, a missing
``subject`` or a reference to the wrong resource type. A receiving EHR does
not, so :func:`check_us_core` checks what we claim on top of it and returns *every*
violation as one line ``<resource path>: <rule>: <problem>`` (an empty list means the
Bundle conforms). The rules are the US Core 6.1 DiagnosticReport Note profile's required
elements and bindings (status, category LP29684-5, LOINC code, subject → Patient,
us-core-10 effective[x], reference targets), US Core Patient's required elements, the ONC
rule that note text travels not only as PDF, and the integrity of attachments (size and
SHA-1 hash must match the data).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

JSON = dict[str, Any]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
US_CORE_NOTE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-diagnosticreport-note"
NOTE_CATEGORIES = frozenset({"LP29684-5", "LP29708-2", "LP7839-6"})
"""US Core DiagnosticReport category codes (radiology, cardiology, pathology)."""
RADIOLOGY = "LP29684-5"

DR_STATUSES = frozenset(
    {
        "registered",
        "partial",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "appended",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
OBS_STATUSES = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
EFFECTIVE_REQUIRED = frozenset(
    {"partial", "preliminary", "final", "amended", "corrected", "appended"}
)
"""us-core-10: effective[x] SHALL be present when the status is one of these."""
GENDERS = frozenset({"male", "female", "other", "unknown"})
TEXT_FORMS = ("text/plain", "text/html")

DR_TARGETS: dict[str, frozenset[str]] = {
    "subject": frozenset({"Patient"}),
    "performer": frozenset({"Practitioner", "Organization", "PractitionerRole", "CareTeam"}),
    "resultsInterpreter": frozenset(
        {"Practitioner", "Organization", "PractitionerRole", "CareTeam"}
    ),
    "result": frozenset({"Observation"}),
    "imagingStudy": frozenset({"ImagingStudy"}),
    "basedOn": frozenset(
        {
            "ServiceRequest",
            "CarePlan",
            "ImmunizationRecommendation",
            "MedicationRequest",
            "NutritionOrder",
        }
    ),
}
"""Reference targets the DiagnosticReport elements allow."""


class _Checker:
    """Collects violations while walking one Bundle."""

    def __init__(self, bundle: JSON) -> None:
        self.bundle = bundle
        self.problems: list[str] = []
        self.by_url: dict[str, JSON] = {}
        for index, entry in enumerate(_list(bundle.get("entry"))):
            url = entry.get("fullUrl") if isinstance(entry, dict) else None
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                self.add(f"Bundle.entry[{index}]", "bundle", "entry has no resource")
                continue
            if not url:
                self.add(f"Bundle.entry[{index}]", "bundle", "entry has no fullUrl")
                continue
            if url in self.by_url:
                self.add(f"Bundle.entry[{index}]", "bundle", f"duplicate fullUrl {url}")
            self.by_url[url] = resource

    def add(self, where: str, rule: str, problem: str) -> None:
        self.problems.append(f"{where}: {rule}: {problem}")

    def target_type(self, reference: Any) -> str | None:
        """The resource type a Reference points to, or None when it cannot be told."""
        if not isinstance(reference, dict):
            return None
        literal = reference.get("reference")
        if isinstance(literal, str):
            if literal in self.by_url:
                return str(self.by_url[literal].get("resourceType"))
            if literal.startswith("urn:"):
                return None
            head = literal.split("/")
            return head[-2] if len(head) >= 2 else None
        kind = reference.get("type")
        return kind if isinstance(kind, str) else None

    def reference(
        self, where: str, reference: Any, allowed: frozenset[str], *, required: bool = False
    ) -> None:
        if reference is None:
            if required:
                self.add(where, "required", "missing")
            return
        if not isinstance(reference, dict):
            self.add(where, "structure", "not a Reference")
            return
        literal = reference.get("reference")
        if isinstance(literal, str) and literal.startswith("urn:") and literal not in self.by_url:
            self.add(where, "reference", f"{literal} does not resolve within the Bundle")
            return
        if literal is None and reference.get("identifier") is None:
            self.add(where, "reference", "neither reference nor identifier")
            return
        kind = self.target_type(reference)
        if kind is None:
            self.add(where, "reference", "target resource type cannot be determined")
        elif kind not in allowed:
            self.add(
                where, "reference", f"points to {kind}, expected {' | '.join(sorted(allowed))}"
            )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _codings(concept: Any) -> list[JSON]:
    if not isinstance(concept, dict):
        return []
    return [c for c in _list(concept.get("coding")) if isinstance(c, dict)]


def _has_code(concepts: Iterable[Any], system: str, codes: Iterable[str]) -> bool:
    wanted = set(codes)
    return any(
        c.get("system") == system and c.get("code") in wanted
        for concept in concepts
        for c in _codings(concept)
    )


def _check_attachment(ck: _Checker, where: str, form: Any) -> str | None:
    """Check one presentedForm attachment; return its base content type."""
    if not isinstance(form, dict):
        ck.add(where, "structure", "not an Attachment")
        return None
    content_type = form.get("contentType")
    if not content_type:
        ck.add(where, "us-core", "contentType is required")
        return None
    data = form.get("data")
    if data is None:
        if not form.get("url"):
            ck.add(where, "us-core", "neither data nor url")
        return str(content_type).split(";")[0].strip()
    try:
        raw = base64.b64decode(str(data), validate=True)
    except (binascii.Error, ValueError):
        ck.add(where, "attachment", "data is not valid base64")
        return str(content_type).split(";")[0].strip()
    if form.get("size") is None:
        ck.add(where, "reportdraft", "size is required with inline data")
    elif form.get("size") != len(raw):
        ck.add(where, "attachment", f"size {form.get('size')} != {len(raw)} bytes of data")
    digest = base64.b64encode(hashlib.sha1(raw).digest()).decode("ascii")
    if form.get("hash") is None:
        ck.add(where, "reportdraft", "hash is required with inline data")
    elif form.get("hash") != digest:
        ck.add(where, "attachment", "hash is not the SHA-1 of the data")
    return str(content_type).split(";")[0].strip()


def _check_report(ck: _Checker, where: str, dr: JSON) -> None:
    profiles = _list((dr.get("meta") or {}).get("profile"))
    if US_CORE_NOTE not in profiles:
        ck.add(where, "reportdraft", f"meta.profile must claim {US_CORE_NOTE}")
    status = dr.get("status")
    if status is None:
        ck.add(where + ".status", "required", "missing")
    elif status not in DR_STATUSES:
        ck.add(where + ".status", "binding", f"{status!r} is not a DiagnosticReport status")
    categories = _list(dr.get("category"))
    if not categories:
        ck.add(where + ".category", "required", "missing")
    elif not _has_code(categories, LOINC, NOTE_CATEGORIES):
        ck.add(where + ".category", "binding", "no US Core note category (LOINC LP29684-5 ...)")
    elif not _has_code(categories, LOINC, {RADIOLOGY}):
        ck.add(where + ".category", "reportdraft", "a radiology report has category LP29684-5")
    code = dr.get("code")
    if not isinstance(code, dict):
        ck.add(where + ".code", "required", "missing")
    elif not any(c.get("system") == LOINC and c.get("code") for c in _codings(code)):
        ck.add(where + ".code", "binding", "no LOINC coding")
    ck.reference(where + ".subject", dr.get("subject"), DR_TARGETS["subject"], required=True)
    has_effective = dr.get("effectiveDateTime") is not None or dr.get("effectivePeriod") is not None
    if status in EFFECTIVE_REQUIRED and not has_effective:
        ck.add(where, "us-core-10", f"effective[x] is required when status is {status}")
    if status in EFFECTIVE_REQUIRED and dr.get("issued") is None:
        ck.add(where + ".issued", "reportdraft", f"issued is required when status is {status}")
    for element in ("performer", "resultsInterpreter", "result", "imagingStudy", "basedOn"):
        for index, item in enumerate(_list(dr.get(element))):
            ck.reference(f"{where}.{element}[{index}]", item, DR_TARGETS[element])
    if not _list(dr.get("performer")):
        ck.add(where + ".performer", "reportdraft", "the signing radiologist must be named")
    forms = _list(dr.get("presentedForm"))
    types = [_check_attachment(ck, f"{where}.presentedForm[{i}]", f) for i, f in enumerate(forms)]
    if "application/pdf" not in types:
        ck.add(where + ".presentedForm", "reportdraft", "no PDF form")
    if not any(t in TEXT_FORMS for t in types):
        ck.add(where + ".presentedForm", "onc", "note text must also be sent as text/plain or html")


def _check_observation(ck: _Checker, where: str, obs: JSON) -> None:
    status = obs.get("status")
    if status is None:
        ck.add(where + ".status", "required", "missing")
    elif status not in OBS_STATUSES:
        ck.add(where + ".status", "binding", f"{status!r} is not an Observation status")
    if not isinstance(obs.get("code"), dict):
        ck.add(where + ".code", "required", "missing")
    ck.reference(where + ".subject", obs.get("subject"), frozenset({"Patient"}), required=True)
    quantities = [obs.get("valueQuantity")] + [
        c.get("valueQuantity") for c in _list(obs.get("component")) if isinstance(c, dict)
    ]
    for quantity in quantities:
        if isinstance(quantity, dict) and (
            quantity.get("system") != UCUM or not quantity.get("code")
        ):
            ck.add(where, "reportdraft", "measurements must be UCUM quantities (system and code)")


def _check_patient(ck: _Checker, where: str, patient: JSON) -> None:
    identifiers = _list(patient.get("identifier"))
    if not any(isinstance(i, dict) and i.get("system") and i.get("value") for i in identifiers):
        ck.add(where + ".identifier", "us-core", "an identifier with system and value is required")
    names = [n for n in _list(patient.get("name")) if isinstance(n, dict)]
    if not any(n.get("family") or n.get("given") for n in names):
        ck.add(where + ".name", "us-core", "a name with family or given is required")
    if patient.get("gender") not in GENDERS:
        ck.add(where + ".gender", "us-core", "gender is required (male|female|other|unknown)")


def _check_provenance(ck: _Checker, where: str, prov: JSON) -> None:
    targets = _list(prov.get("target"))
    if not targets:
        ck.add(where + ".target", "required", "missing")
    for index, target in enumerate(targets):
        ck.reference(f"{where}.target[{index}]", target, frozenset({"DiagnosticReport"}))
    if prov.get("recorded") is None:
        ck.add(where + ".recorded", "required", "missing")
    agents = [a for a in _list(prov.get("agent")) if isinstance(a, dict)]
    roles = {c.get("code") for a in agents for c in _codings(a.get("type"))}
    if "verifier" not in roles:
        ck.add(where + ".agent", "reportdraft", "the attesting radiologist (verifier) is missing")
    for index, agent in enumerate(agents):
        ck.reference(
            f"{where}.agent[{index}].who",
            agent.get("who"),
            frozenset({"Practitioner", "PractitionerRole", "Device", "Organization", "Patient"}),
            required=True,
        )
    signatures = [s for s in _list(prov.get("signature")) if isinstance(s, dict)]
    if not signatures:
        ck.add(where + ".signature", "reportdraft", "the attestation signature is missing")
    for index, sig in enumerate(signatures):
        for element in ("type", "when", "who", "data"):
            if not sig.get(element):
                ck.add(f"{where}.signature[{index}].{element}", "reportdraft", "missing")


_CHECKS = {
    "DiagnosticReport": _check_report,
    "Observation": _check_observation,
    "Patient": _check_patient,
    "Provenance": _check_provenance,
}


def structure_problems(bundle: Any) -> list[str]:
    """fhir.resources R4B validation errors of ``bundle``, one line each (empty when valid)."""
    from fhir.resources.R4B.bundle import Bundle

    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in err['loc']) or 'Bundle'}: structure: {err['msg']}"
            for err in exc.errors()
        ]
    return []


def check_us_core(bundle: dict[str, Any]) -> list[str]:
    """Every profile violation of ``bundle`` (structure first), ``[]`` when it conforms."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return ["Bundle: structure: not a Bundle"]
    problems = structure_problems(bundle)
    ck = _Checker(bundle)
    if bundle.get("type") not in ("transaction", "collection", "batch", "document", "message"):
        ck.add("Bundle.type", "reportdraft", f"unexpected Bundle type {bundle.get('type')!r}")
    reports = 0
    for index, entry in enumerate(_list(bundle.get("entry"))):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        kind = str(resource.get("resourceType"))
        reports += kind == "DiagnosticReport"
        check = _CHECKS.get(kind)
        if check is not None:
            check(ck, f"Bundle.entry[{index}].resource({kind})", resource)
    if reports == 0:
        ck.add("Bundle", "reportdraft", "no DiagnosticReport")
    return problems + ck.problems
