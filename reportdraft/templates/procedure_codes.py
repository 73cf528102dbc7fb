"""Procedure codes as templates claim them: one key per code, whatever the feed's spelling.

A template lists the procedure codes it serves; a study arrives with one code, spelled as
its RIS or HL7 feed spells the code system. Both the template check (no code listed twice
in one template) and the library (no code claimed by two templates; selection by code)
compare codes through :func:`code_key`, so the two can never disagree on what "the same
code" means.
"""

from __future__ import annotations

LOINC = "http://loinc.org"
RADLEX = "http://www.radlex.org"
CPT = "http://www.ama-assn.org/go/cpt"

_SYSTEM_ALIASES = {
    "http://loinc.org": LOINC,
    "loinc": LOINC,
    "ln": LOINC,  # HL7 v2 coding-system name for LOINC
    "urn:oid:2.16.840.1.113883.6.1": LOINC,
    "http://www.radlex.org": RADLEX,
    "http://radlex.org": RADLEX,
    "radlex": RADLEX,
    "rpid": RADLEX,
    "http://www.ama-assn.org/go/cpt": CPT,
    "cpt": CPT,
    "cpt4": CPT,
    "cpt-4": CPT,
    "c4": CPT,  # HL7 v2 coding-system name for CPT-4
    "urn:oid:2.16.840.1.113883.6.12": CPT,
}
"""Spellings of the same code system seen in RIS and HL7 feeds, folded so a code matches."""

_SYSTEM_NAMES = {LOINC: "LOINC", RADLEX: "RadLex", CPT: "CPT"}


def code_key(system: str, code: str) -> tuple[str, str]:
    """(system, code) as compared: known spellings of LOINC and RadLex folded to one URL,
    other systems lower-cased without a trailing slash, the code upper-cased."""
    norm = system.strip().lower().rstrip("/")
    return _SYSTEM_ALIASES.get(norm, norm), code.strip().upper()


def system_name(system: str) -> str:
    """A code system's name for messages (``LOINC``, ``RadLex``), else ``system`` itself."""
    return _SYSTEM_NAMES.get(code_key(system, "")[0], system)
