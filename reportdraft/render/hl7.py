"""The signed report as an HL7 v2.5.1 ORU^R01 message (ER7, ``\\r`` between segments).

Segments: MSH, PID, PV1, ORC (``RE``), OBR (OBR-3 accession, OBR-4 procedure, OBR-7
acquisition time, OBR-22 status change time, OBR-24 ``RAD``, OBR-25 P/F/C, OBR-32 principal
result interpreter), one TX OBX per report line (:func:`reportdraft.render.text.report_lines`,
≤ 80 characters once escaped, OBX-3 the section's LOINC code) and, when a PDF is given, an
ED OBX carrying it base64-encoded.

An unsigned draft is sent only as a preview (``preview=True``): OBR-25 and OBX-11 ``R``,
ORC-5 ``IP``, no OBR-32 interpreter, an NTE after the OBR saying DRAFT - NOT FOR CLINICAL
USE, and the preview notice as the first TX lines. Why ``R``: HL7 v2.5.1 table 0123 (OBR-25)
defines ``R`` as "results stored; not yet verified", which is exactly an unsigned draft;
``P`` means a *verified* early result (our signed preliminary read) and ``I`` means no
results are available, yet the preview carries text. Table 0085 (OBX-11) has the same
code, ``R`` "results entered - not verified".

hl7apy validates structure but leaves ``^`` and ``&`` in a value unescaped, so every value
goes through :func:`escape` here. The message is built once, as text, and checked before it
is returned by the fast structural validation of :mod:`reportdraft.render.hl7_structure`
(segment order, field counts, required fields, data types and lengths of HL7 v2.5.1, in
well under a millisecond). hl7apy's strict parse of the whole message (:func:`validate_er7`)
cost ~150 ms per report, 96 % of a rendering; it runs with ``strict=True`` (``reportdraft
render --strict``) and in the tests, which parse every message back with it. hl7apy's
strict parser types OBX-5 as ST (≤ 199 characters), which no PDF fits, so there the ED
payload is checked separately (valid base64 of the given bytes) and stands in as a short
placeholder during the strict parse.
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime

from reportdraft.errors import RenderError
from reportdraft.models import Report, ReportStatus, ReportVersion
from reportdraft.render.hl7_structure import is_base64, oru_structure
from reportdraft.render.text import TextLine, clean, report_lines
from reportdraft.render.trust import PREVIEW_LABEL, is_preview, renderable

SEGMENT_SEPARATOR = "\r"
ENCODING = "^~\\&"
RESULT_STATUS: dict[ReportStatus, str] = {
    ReportStatus.PRELIMINARY: "P",
    ReportStatus.FINAL: "F",
    ReportStatus.AMENDED: "C",
    ReportStatus.CORRECTED: "C",
    ReportStatus.APPENDED: "C",
}
"""OBR-25 / OBX-11: a change after the final read is resent as a correction (``C``)."""
PREVIEW_RESULT_STATUS = "R"
"""OBR-25 / OBX-11 of a draft preview: results stored, not yet verified (module docstring)."""
ORDER_STATUS_DONE = "CM"
ORDER_STATUS_PREVIEW = "IP"
"""ORC-5 (HL7 table 0038): the order is completed by a signed report, in process for a draft."""
SEX = {"male": "M", "female": "F", "other": "O", "unknown": "U"}
PDF_CODE = "18748-4^Diagnostic imaging study^LN"

_ESCAPES = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}
_UNESCAPES = {"E": "\\", "F": "|", "S": "^", "T": "&", "R": "~"}
_ESCAPE_SEQ = re.compile(r"\\(E|F|S|T|R|X[0-9A-Fa-f]*|\.br)\\")


def escape(value: str) -> str:
    """``value`` as HL7 text: delimiters escaped, line breaks and control bytes removed."""
    return "".join(_ESCAPES.get(ch, ch) for ch in clean(value))


def unescape(value: str) -> str:
    """The inverse of :func:`escape` (also decodes ``\\Xhh..\\`` and drops ``\\.br\\``)."""

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in _UNESCAPES:
            return _UNESCAPES[code]
        if code.startswith("X"):
            return bytes.fromhex(code[1:]).decode("utf-8", errors="replace")
        return " "

    return _ESCAPE_SEQ.sub(replace, value)


def dtm(value: datetime) -> str:
    """An HL7 DTM with seconds and UTC offset: ``20261127140500-0800``."""
    return value.strftime("%Y%m%d%H%M%S%z")


def _segment(name: str, *fields: str) -> str:
    return "|".join([name, *fields]).rstrip("|")


def _hd(text: str) -> str:
    """An HD namespace id (≤ 20 characters in 2.5.1), escaped."""
    return escape(clean(text)[:20])


def _cnn(version: ReportVersion) -> str:
    """OBR-32 principal result interpreter: ``id&family&given&middle&&&degree``."""
    signer = version.signer
    if signer is None:
        return ""
    given = list(signer.name.given)
    parts = [
        signer.npi or signer.id,
        signer.name.family,
        given[0],
        " ".join(given[1:]),
        "",
        "",
        signer.credentials[0] if signer.credentials else "",
    ]
    return "&".join(escape(p) for p in parts).rstrip("&")


def _ordering(version: ReportVersion) -> str:
    physician = version.case.study.ordering_physician
    return f"{escape(physician.npi or '')}^{escape(physician.name)}"


def _procedure(version: ReportVersion) -> str:
    procedure = version.case.study.procedure
    # HL7 table 0396: LN for LOINC; anything else travels as a local code (L).
    system = "LN" if procedure.system == "http://loinc.org" else "L"
    return f"{escape(procedure.code)}^{escape(procedure.display)}^{system}"


def header_segments(
    version: ReportVersion, *, control_id: str, now: datetime, receiver: str
) -> list[str]:
    """MSH, PID, PV1, ORC and OBR for ``version``."""
    study, patient = version.case.study, version.case.patient
    facility = _hd(study.performing_facility.identifier or study.performing_facility.name)
    signature = version.signature
    changed = dtm(signature.signed_at if signature else version.created_at)
    preview = is_preview(version)
    status = PREVIEW_RESULT_STATUS if preview else RESULT_STATUS[version.status]
    placer = escape(study.service_request_id or "")
    accession = escape(study.accession_number)
    given = list(patient.name.given)
    name = "^".join(escape(p) for p in (patient.name.family, given[0], " ".join(given[1:])))
    obr = [""] * 32
    obr[0:4] = ["1", placer, accession, _procedure(version)]
    obr[6] = dtm(study.acquisition_time)
    obr[15] = _ordering(version)
    obr[21] = changed
    obr[23] = "RAD"
    obr[24] = status
    obr[31] = "" if preview else _cnn(version)
    return [
        _segment(
            "MSH",
            ENCODING,
            "REPORTDRAFT",
            facility,
            _hd(receiver),
            facility,
            dtm(now),
            "",
            "ORU^R01^ORU_R01",
            escape(control_id),
            "P",
            "2.5.1",
            "",
            "",
            "AL",
            "NE",
            "",
            "UNICODE UTF-8",
        ),
        _segment(
            "PID",
            "1",
            "",
            f"{escape(patient.id)}^^^{facility}^MR",
            "",
            name,
            "",
            patient.birth_date.strftime("%Y%m%d"),
            SEX[patient.sex],
        ),
        _segment("PV1", "1", "U"),
        _segment(
            "ORC",
            "RE",
            placer,
            accession,
            "",
            ORDER_STATUS_PREVIEW if preview else ORDER_STATUS_DONE,
            "",
            "",
            "",
            changed,
            "",
            "",
            _ordering(version),
        ),
        _segment("OBR", *obr),
        *(
            [_segment("NTE", "1", "L", escape(f"{PREVIEW_LABEL}: unsigned draft preview"))]
            if preview
            else []
        ),
    ]


def obx_segments(lines: list[TextLine], status: str, start: int = 1) -> list[str]:
    """One TX OBX per line; OBX-4 numbers the lines within each section."""
    segments = []
    within: dict[str, int] = {}
    for number, line in enumerate(lines, start=start):
        within[line.section] = within.get(line.section, 0) + 1
        code = line.code
        segments.append(
            _segment(
                "OBX",
                str(number),
                "TX",
                f"{code.loinc}^{escape(code.display)}^LN",
                str(within[line.section]),
                escape(line.text),
                "",
                "",
                "",
                "",
                "",
                status,
            )
        )
    return segments


def _ed_segment(number: int, pdf: bytes, status: str) -> str:
    payload = base64.b64encode(pdf).decode("ascii")
    return _segment(
        "OBX",
        str(number),
        "ED",
        PDF_CODE,
        "1",
        f"^AP^PDF^Base64^{payload}",
        "",
        "",
        "",
        "",
        "",
        status,
    )


def validate_er7(message: str) -> None:
    """Parse ``message`` with hl7apy in strict mode and validate it; RenderError if it fails.

    An ED OBX payload is replaced by a placeholder first (hl7apy types OBX-5 as ST, ≤ 199).
    """
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message

    segments = message.split(SEGMENT_SEPARATOR)
    for index, segment in enumerate(segments):
        fields = segment.split("|")
        if fields[0] == "OBX" and len(fields) > 5 and fields[2] == "ED":
            data = fields[5].split("^")
            if not is_base64(data[-1]):
                raise RenderError(f"OBX {fields[1]}: ED data is not base64")
            fields[5] = "^".join([*data[:-1], "UERG"])
            segments[index] = "|".join(fields)
    try:
        parsed = parse_message(
            SEGMENT_SEPARATOR.join(segments),
            validation_level=VALIDATION_LEVEL.STRICT,
            find_groups=True,
        )
        valid = parsed.validate()
    except Exception as exc:  # hl7apy raises its own error classes for every failure
        raise RenderError(f"HL7 ORU^R01 failed hl7apy strict validation: {exc}") from exc
    if valid is False:
        raise RenderError("HL7 ORU^R01 failed hl7apy strict validation")


def render_hl7(
    report: Report | ReportVersion,
    *,
    pdf: bytes | None = None,
    control_id: str | None = None,
    now: datetime | None = None,
    receiver: str = "RIS",
    preview: bool = False,
    strict: bool = False,
) -> str:
    """The current version of ``report`` as an ORU^R01 message in ER7 (``\\r`` separators).

    ``pdf`` adds an ED OBX with the PDF. ``control_id`` (MSH-10) and ``now`` (MSH-7)
    default to a fresh id and the clock; pass them for a reproducible message. Raises
    :class:`RenderError` for a message that fails the structural validation, and with
    ``strict`` also for one hl7apy's strict parse rejects. An unsigned version is
    rendered only with ``preview=True`` (result status ``R``, see the module docstring);
    without it :class:`~reportdraft.render.trust.NotSignedError` is raised.
    """
    version = renderable(report, preview=preview)
    status = PREVIEW_RESULT_STATUS if is_preview(version) else RESULT_STATUS[version.status]
    lines = report_lines(version)
    segments = header_segments(
        version,
        control_id=control_id or uuid.uuid4().hex[:20],
        now=now or datetime.now(UTC),
        receiver=receiver,
    )
    segments += obx_segments(lines, status)
    if pdf is not None:
        segments.append(_ed_segment(len(lines) + 1, pdf, status))
    message = SEGMENT_SEPARATOR.join(segments)
    oru_structure().check(message)
    if strict:
        validate_er7(message)
    return message


def text_lines(message: str) -> list[str]:
    """The unescaped TX OBX values of an ER7 message, in order (the report text back)."""
    out = []
    for segment in message.split(SEGMENT_SEPARATOR):
        fields = segment.split("|")
        if fields[0] == "OBX" and len(fields) > 5 and fields[2] == "TX":
            out.append(unescape(fields[5]))
    return out


def pdf_from_hl7(message: str) -> bytes | None:
    """The PDF carried by the message's ED OBX, or None."""
    for segment in message.split(SEGMENT_SEPARATOR):
        fields = segment.split("|")
        if fields[0] == "OBX" and len(fields) > 5 and fields[2] == "ED":
            return base64.b64decode(fields[5].split("^")[-1])
    return None
