"""HL7 v2.5.1 ORU^R01: strict hl7apy validation and parse-back to the report text, line for line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import hl7
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from reportdraft.errors import RenderError
from reportdraft.models import Report, ReportStatus
from reportdraft.render import pdf_from_hl7, render_hl7, render_pdf, report_lines, text_lines
from reportdraft.render.hl7 import escape, unescape, validate_er7
from reportdraft.render.text import LINE_WIDTH, escaped_width
from tests.render.signed_examples import (
    corrected,
    load_case,
    open_report,
    sign_case,
    signed_example,
    with_addendum,
)


def _hl7apy_lines(message: str) -> list[tuple[str, str, str]]:
    """(OBX-3 code, OBX-5 unescaped, OBX-11) of the TX OBX, parsed by hl7apy in strict mode."""
    parsed = parse_message(message, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert parsed.validate()
    order = parsed.oru_r01_patient_result.oru_r01_order_observation
    out = []
    for group in order.oru_r01_observation:
        obx = group.obx
        if obx.obx_2.value == "TX":
            out.append((obx.obx_3.obx_3_1.value, unescape(obx.obx_5.value), obx.obx_11.value))
    return out


def _python_hl7_lines(message: str) -> list[str]:
    parsed = hl7.parse(message)
    return [parsed.unescape(str(seg[5])) for seg in parsed.segments("OBX") if str(seg[2]) == "TX"]


def test_message_validates_strictly_and_parses_back_line_for_line(signed: Report) -> None:
    message = render_hl7(signed)
    assert "\n" not in message
    segments = message.split("\r")
    assert [s[:3] for s in segments[:5]] == ["MSH", "PID", "PV1", "ORC", "OBR"]
    lines = report_lines(signed)
    expected = [line.text for line in lines]
    by_hl7apy = _hl7apy_lines(message)
    assert [text for _, text, _ in by_hl7apy] == expected
    assert [code for code, _, _ in by_hl7apy] == [line.code.loinc for line in lines]
    assert {status for _, _, status in by_hl7apy} == {"F"}
    assert _python_hl7_lines(message) == expected
    assert text_lines(message) == expected
    assert all(escaped_width(text) <= LINE_WIDTH for text in expected)


def test_header_fields_follow_the_design() -> None:
    report = signed_example("ct_head_ich")
    version = report.current
    message = render_hl7(report, control_id="MSG-1", now=datetime(2026, 11, 27, 23, 10, tzinfo=UTC))
    parsed = hl7.parse(message)
    assert str(parsed.segment("MSH")[9]) == "ORU^R01^ORU_R01"
    assert str(parsed.segment("MSH")[10]) == "MSG-1"
    assert str(parsed.segment("MSH")[12]) == "2.5.1"
    assert str(parsed.segment("ORC")[1]) == "RE"
    obr = parsed.segment("OBR")
    assert str(obr[3]) == version.case.study.accession_number
    assert str(obr[4][0][0]) == version.case.study.procedure.code
    assert str(obr[7]) == "20261127140500-0800"
    assert str(obr[22]) == "20261127150500-0800"
    assert str(obr[24]) == "RAD"
    assert str(obr[25]) == "F"
    interpreter = str(obr[32])
    assert version.signer is not None
    assert interpreter.split("&")[:3] == ["1548263970", "Rivera", "Elena"]
    pid = parsed.segment("PID")
    assert str(pid[3][0][0]) == version.case.patient.id
    assert str(pid[5][0][0]) == version.case.patient.name.family


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda: sign_case(load_case("cta_chest_pe"), status=ReportStatus.PRELIMINARY), "P"),
        (
            lambda: corrected(
                signed_example("us_scrotum_torsion"),
                new_text="Left testicular torsion.",
                reason="Laterality corrected after review.",
            ),
            "C",
        ),
        (lambda: with_addendum(signed_example("mr_knee"), "Outside MRI reviewed."), "C"),
    ],
)
def test_result_status_follows_the_lifecycle(make: Any, status: str) -> None:
    report = make()
    message = render_hl7(report)
    parsed = hl7.parse(message)
    assert str(parsed.segment("OBR")[25]) == status
    assert {s for _, _, s in _hl7apy_lines(message)} == {status}
    assert _python_hl7_lines(message) == [line.text for line in report_lines(report)]


def test_pdf_travels_in_an_ed_obx() -> None:
    report = signed_example("ct_chest_nodule")
    pdf = render_pdf(report)
    message = render_hl7(report, pdf=pdf)
    last = message.split("\r")[-1]
    assert last.startswith(f"OBX|{len(report_lines(report)) + 1}|ED|18748-4^")
    assert pdf_from_hl7(message) == pdf
    parsed = hl7.parse(message)
    assert str(parsed.segments("OBX")[-1][5][0][1]) == "AP"
    assert str(parsed.segments("OBX")[-1][5][0][2]) == "PDF"


def test_a_draft_is_not_sent() -> None:
    with pytest.raises(RenderError, match="not signed"):
        render_hl7(open_report(load_case("xr_chest_normal")))


def test_strict_validation_rejects_a_broken_message() -> None:
    message = render_hl7(signed_example("xr_chest_normal"))
    broken = message.replace("\rOBR|", "\rOBR|1|" + "x" * 300 + "|", 1)
    with pytest.raises(RenderError, match="strict"):
        validate_er7(broken)


@pytest.mark.parametrize(
    "text", ["a|b^c&d~e\\f", "\\F\\ literally", "naïve café Ø µ", "<b>&amp;</b>", "plain"]
)
def test_escape_round_trips_with_our_and_python_hl7_unescape(text: str) -> None:
    escaped = escape(text)
    assert not set("|^&~") & set(escaped)
    assert unescape(escaped) == text
    message = f"MSH|^~\\&|A|B|C|D|20260101||ORU^R01|1|P|2.5.1\rOBX|1|TX|x^y^LN|1|{escaped}"
    parsed = hl7.parse(message)
    assert parsed.unescape(str(parsed.segment("OBX")[5])) == text
