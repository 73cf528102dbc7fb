"""Markup, HL7 delimiters and non-ASCII letters survive PDF, FHIR and HL7 unchanged."""

from __future__ import annotations

import base64
from functools import cache

import hl7

from reportdraft.models import Report
from reportdraft.render import render_fhir, render_hl7, render_pdf, report_lines
from reportdraft.render.text import report_text
from tests.render.conftest import pdf_text, squash
from tests.render.signed_examples import TRICKY, load_case, sign_case

FAMILY = "Ñúñez-O'Brien & Søn"
GIVEN = "Zoë|Ann^Marie~\\"


@cache
def tricky_report() -> Report:
    """A signed report whose patient name and one finding hold every dangerous character."""
    case = load_case("xr_chest_normal", name={"family": FAMILY, "given": [GIVEN]})
    return sign_case(
        case, extra_edits=[{"section": "findings", "subsection": "other", "text": TRICKY}]
    )


def test_report_carries_the_tricky_statement() -> None:
    report = tricky_report()
    assert any(st.text == TRICKY for st in report.current.statements())
    for ch in "<&^|~\\éÅïØµΩП":
        assert ch in TRICKY


def test_pdf_prints_markup_and_unicode_literally() -> None:
    text = pdf_text(render_pdf(tricky_report()))
    flat = squash(text)
    assert squash(TRICKY) in flat
    assert "<b>not bold</b>" in text
    assert squash(f"{FAMILY}, {GIVEN}") in flat


def test_fhir_keeps_text_unchanged() -> None:
    report = tricky_report()
    bundle = render_fhir(report)
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert patient["name"][0]["family"] == FAMILY
    assert patient["name"][0]["given"] == [GIVEN]
    dr = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DiagnosticReport"
    )
    text_form = next(f for f in dr["presentedForm"] if f["contentType"].startswith("text/plain"))
    decoded = base64.b64decode(text_form["data"]).decode("utf-8")
    assert decoded == report_text(report)
    assert squash(TRICKY) in squash(decoded)


def test_hl7_escapes_delimiters_and_parses_back_unchanged() -> None:
    report = tricky_report()
    message = render_hl7(report)
    parsed = hl7.parse(message)
    back = [parsed.unescape(str(s[5])) for s in parsed.segments("OBX") if str(s[2]) == "TX"]
    assert back == [line.text for line in report_lines(report)]
    assert squash(TRICKY) in squash("".join(back))
    pid5 = str(parsed.segment("PID")[5])
    family, given = pid5.split("^")[:2]
    assert parsed.unescape(family) == FAMILY
    assert parsed.unescape(given) == GIVEN
    # The raw field holds no bare delimiter from the name: it parsed into exactly 3 components.
    assert len(parsed.segment("PID")[5][0]) == 3
