"""The report as plain-text lines: the one reading of a signed version every format shares.

The PDF, the FHIR ``presentedForm`` text and the HL7 TX OBX lines all come from
:func:`report_lines`, so "the same report" means the same lines in every format and a test
can compare them line for line. Each line carries the LOINC code of the section it belongs
to (HL7 OBX-3 needs it) and is at most :data:`LINE_WIDTH` characters *after* HL7 escaping,
so no format has to re-wrap and no receiving system truncates a line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from reportdraft.models import (
    CommunicationRecord,
    Report,
    ReportStatus,
    ReportVersion,
    SectionKind,
    Statement,
)
from reportdraft.models.report import Addendum, Radiologist
from reportdraft.render.trust import PREVIEW_LABEL, is_preview

LINE_WIDTH = 80
"""Longest line (counted as its HL7-escaped form); RIS displays wrap or cut beyond 80."""

HL7_SPECIALS = frozenset("|^&~\\")
"""Characters HL7 v2 escapes as three-character sequences (``\\F\\`` and friends)."""


@dataclass(frozen=True)
class SectionCode:
    """A report section as the wire formats code it (LOINC)."""

    key: str
    title: str
    loinc: str
    display: str


SECTION_CODES: dict[str, SectionCode] = {
    code.key: code
    for code in (
        SectionCode("preview", PREVIEW_LABEL, "18782-3", "Radiology Study observation"),
        SectionCode("technique", "TECHNIQUE", "55111-9", "Current imaging procedure description"),
        SectionCode("comparison", "COMPARISON", "18834-2", "Radiology Comparison study"),
        SectionCode("clinical_history", "CLINICAL HISTORY", "11329-0", "History general"),
        SectionCode("findings", "FINDINGS", "59776-5", "Procedure findings"),
        SectionCode("impression", "IMPRESSION", "19005-8", "Radiology Impression"),
        SectionCode(
            "critical",
            "CRITICAL RESULT COMMUNICATION",
            "73568-8",
            "Communication of critical results",
        ),
        SectionCode("ai", "AI ASSISTANCE", "18782-3", "Radiology Study observation"),
        SectionCode("signature", "SIGNATURE", "18782-3", "Radiology Study observation"),
        SectionCode("addendum", "ADDENDUM", "55107-7", "Addendum"),
    )
}
"""Section keys in reading order with their LOINC document-section codes.

The preview notice, the AI statement and the signature block have no section code of their
own; they travel under 18782-3 (the narrative study observation), which every RIS displays as
report text.
"""

PREVIEW_NOTICE = (
    "Preview of an unsigned draft. It has not been reviewed and signed by a radiologist and "
    "must not be used for patient care."
)
"""The first paragraph of every preview, in every format (before any finding is read)."""

STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.DRAFT: "DRAFT - NOT FOR CLINICAL USE",
    ReportStatus.PRELIMINARY: "PRELIMINARY",
    ReportStatus.FINAL: "FINAL",
    ReportStatus.AMENDED: "FINAL (AMENDED)",
    ReportStatus.CORRECTED: "FINAL (CORRECTED)",
    ReportStatus.APPENDED: "FINAL (ADDENDUM)",
}
"""How each status is printed under the signature."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class TextLine:
    """One line of the report text and the section it belongs to."""

    section: str
    text: str

    @property
    def code(self) -> SectionCode:
        """The section's codes."""
        return SECTION_CODES[self.section]


def clean(text: str) -> str:
    """``text`` as one line: NFC-normalised, control characters and runs of space removed.

    A model or a dictation may leave newlines, tabs or stray control bytes in a statement;
    HL7 would read a carriage return as a segment end and PDF would print a box, so every
    renderer sees the same cleaned text.
    """
    text = unicodedata.normalize("NFC", text)
    return " ".join(_CONTROL.sub(" ", text).split())


def escaped_width(text: str) -> int:
    """Length of ``text`` once HL7-escaped (each special character becomes three)."""
    return len(text) + 2 * sum(1 for ch in text if ch in HL7_SPECIALS)


def wrap(text: str, width: int = LINE_WIDTH) -> list[str]:
    """Greedy word wrap of ``text`` so that each line's HL7-escaped width is ≤ ``width``.

    Words longer than a line are cut. Joining the lines with single spaces gives back
    :func:`clean` of the input exactly, unless a word had to be cut.
    """
    lines: list[str] = []
    current = ""
    for word in clean(text).split(" "):
        if not word:
            continue
        candidate = f"{current} {word}" if current else word
        if escaped_width(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        while escaped_width(word) > width:
            cut = len(word)
            while escaped_width(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def format_time(value: datetime) -> str:
    """A timestamp as printed on a report: ``2026-11-27 14:22 -08:00`` (or ``UTC``)."""
    offset = value.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
    return f"{value:%Y-%m-%d %H:%M} {zone}"


def humanize(identifier: str) -> str:
    """A subsection id as a heading: ``heart_mediastinum`` → ``Heart mediastinum``."""
    words = identifier.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def section_paragraphs(version: ReportVersion, kind: SectionKind) -> list[str]:
    """The paragraphs of one section as printed.

    Findings group consecutive statements of one subsection into a paragraph headed
    ``Subsection: ``; the impression numbers its statements when there are several;
    other sections are one paragraph.
    """
    statements = version.section(kind)
    if not statements:
        return []
    if kind is SectionKind.FINDINGS:
        return _findings_paragraphs(statements, version.draft.subsection_titles)
    if kind is SectionKind.IMPRESSION and len(statements) > 1:
        return [f"{n}. {clean(st.text)}" for n, st in enumerate(statements, start=1)]
    return [" ".join(clean(st.text) for st in statements)]


def _findings_paragraphs(statements: list[Statement], titles: dict[str, str]) -> list[str]:
    groups: list[tuple[str | None, list[str]]] = []
    for st in statements:
        if groups and groups[-1][0] == st.subsection:
            groups[-1][1].append(clean(st.text))
        else:
            groups.append((st.subsection, [clean(st.text)]))
    paragraphs = []
    for subsection, texts in groups:
        body = " ".join(texts)
        title = titles.get(subsection or "") or humanize(subsection or "")
        paragraphs.append(f"{title}: {body}" if subsection else body)
    return paragraphs


_METHODS = {
    "phone": "by telephone",
    "in_person": "in person",
    "secure_message": "by secure message",
    "page": "by page",
    "video": "by video call",
}


def communication_sentence(record: CommunicationRecord) -> str:
    """The documentation statement of one critical-result communication.

    Names the six documented elements (finding, time identified, communicating
    radiologist, recipient, time notified/acknowledged, method) and read-back, or the
    override reason when the radiologist decided not to call.
    """
    head = f"{record.finding_label} (ACR category {record.category})"
    identified = f"identified {format_time(record.identified_at)}"
    if record.notified_at is not None and record.recipient is not None:
        method = _METHODS.get(str(record.method), str(record.method))
        parts = [
            f"{head}, {identified}, was communicated {method} by "
            f"{record.communicating_radiologist} to {record.recipient.name} "
            f"({record.recipient.role}) at {format_time(record.notified_at)}"
        ]
        if record.acknowledged_at is not None:
            parts.append(f"receipt acknowledged at {format_time(record.acknowledged_at)}")
        if record.read_back:
            parts.append("read-back confirmed")
        return "; ".join(parts) + "."
    if record.override_reason is not None:
        return f"{head}, {identified}, was not separately communicated: {record.override_reason}"
    return f"{head}, {identified}: communication pending."


def license_text(version: ReportVersion) -> str:
    """The signer's license(s) valid in the patient's state, as printed."""
    if not version.signer_licenses:
        return f"no license on file for {version.case.study.state}"
    return "; ".join(f"{lic.state} {lic.number}" for lic in version.signer_licenses)


def signer_text(signer: Radiologist) -> str:
    """Name and credentials, plus NPI when known."""
    npi = f" (NPI {signer.npi})" if signer.npi else ""
    return f"{signer.display()}{npi}"


def signature_paragraphs(version: ReportVersion) -> list[str]:
    """The signature block: who signed, when, license, status, and why it changed."""
    status = STATUS_LABELS[version.status]
    if version.signer is None or version.signature is None:
        return [f"Not signed. Report status: {status}."]
    lines = [
        f"Electronically signed by {signer_text(version.signer)} on "
        f"{format_time(version.signature.signed_at)}.",
        f"License: {license_text(version)}.",
        f"Report status: {status}.",
    ]
    last = version.transitions[-1] if version.transitions else None
    if version.status in (ReportStatus.AMENDED, ReportStatus.CORRECTED) and last and last.reason:
        lines.append(f"Reason for {version.status.value} report: {last.reason}")
    return lines


def addendum_paragraphs(addendum: Addendum) -> list[str]:
    """One addendum: heading, text, and its own signature line."""
    return [
        f"Addendum {addendum.id} ({format_time(addendum.created_at)}):",
        addendum.text,
        f"Addendum signed by {signer_text(addendum.author)} on {format_time(addendum.created_at)}.",
    ]


def report_paragraphs(version: ReportVersion) -> list[tuple[str, list[str]]]:
    """The report body as (section key, paragraphs), in reading order, empty ones left out.

    A preview (an unsigned version, :func:`~reportdraft.render.trust.is_preview`) opens
    with the preview notice and has no signature block: nothing in it reads as attested.
    """
    preview = is_preview(version)
    body: list[tuple[str, list[str]]] = [("preview", [PREVIEW_NOTICE])] if preview else []
    for kind in SectionKind:
        paragraphs = section_paragraphs(version, kind)
        if paragraphs:
            body.append((kind.value, paragraphs))
    if version.communications:
        body.append(("critical", [communication_sentence(r) for r in version.communications]))
    body.append(("ai", [version.ai_statement]))
    if not preview:
        body.append(("signature", signature_paragraphs(version)))
    for addendum in version.addenda:
        body.append(("addendum", addendum_paragraphs(addendum)))
    return body


def report_lines(report: Report | ReportVersion) -> list[TextLine]:
    """The report body as lines: a ``TITLE:`` line per section, then its wrapped text."""
    version = report.current if isinstance(report, Report) else report
    lines: list[TextLine] = []
    for key, paragraphs in report_paragraphs(version):
        lines.append(TextLine(key, f"{SECTION_CODES[key].title}:"))
        for paragraph in paragraphs:
            lines.extend(TextLine(key, line) for line in wrap(paragraph))
    return lines


def header_lines(version: ReportVersion) -> list[str]:
    """Facility, patient and study identification printed above the body in the text form."""
    study, patient = version.case.study, version.case.patient
    facility = study.performing_facility
    fields = [
        facility.name,
        *([facility.address] if facility.address else []),
        f"Patient: {patient.name.family}, {' '.join(patient.name.given)}  MRN: {patient.id}",
        f"DOB: {patient.birth_date.isoformat()}  Sex: {patient.sex}",
        f"Accession: {study.accession_number}  Procedure: {study.procedure.display}",
        f"Exam date: {format_time(study.acquisition_time)}",
        f"Ordering physician: {study.ordering_physician.name}",
    ]
    return [line for field in fields for line in wrap(field)]


def report_text(report: Report | ReportVersion, *, header: bool = True) -> str:
    """The whole report as plain text (the FHIR ``text/plain`` presented form)."""
    version = report.current if isinstance(report, Report) else report
    parts = [*header_lines(version), ""] if header else []
    parts.extend(line.text for line in report_lines(version))
    return "\n".join(parts) + "\n"
