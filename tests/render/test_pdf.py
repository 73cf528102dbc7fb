"""PDF rendering: every signed example opens and carries its whole report as text."""

from __future__ import annotations

import io
from typing import Any

import pypdf

from reportdraft.models import Report, ReportStatus, SectionKind
from reportdraft.render import render_pdf
from reportdraft.render.text import SECTION_CODES, report_paragraphs
from tests.render.conftest import pdf_text, squash
from tests.render.signed_examples import load_case, sign_case, signed_example, with_addendum


def _fonts(pdf: bytes) -> dict[str, bool]:
    """Base font name → embedded? for every font any page uses."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts: dict[str, bool] = {}
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            fonts[str(font["/BaseFont"])] = embedded
    return fonts


def test_pdf_has_every_section_signature_and_identifiers(signed: Report) -> None:
    pdf = render_pdf(signed)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    flat = squash(text)
    version = signed.current
    study, patient = version.case.study, version.case.patient
    for kind in SectionKind:
        for statement in version.section(kind):
            assert squash(statement.text) in flat, statement.text
    for key, paragraphs in report_paragraphs(version):
        assert SECTION_CODES[key].title in text
        for paragraph in paragraphs:
            assert squash(paragraph) in flat, paragraph
    for value in (
        patient.id,
        patient.name.family,
        study.accession_number,
        study.procedure.display,
        patient.birth_date.isoformat(),
        study.ordering_physician.name,
        study.performing_facility.name,
    ):
        assert squash(value) in flat, value
    assert version.signer is not None
    assert "Electronically signed by" in text
    assert squash(version.signer.display()) in flat
    assert version.signer_licenses
    assert version.signer_licenses[0].number in text
    assert "Report status: FINAL" in text
    assert "PRELIMINARY" not in text
    assert "Page 1 of" in text


def test_pdf_embeds_only_dejavu_fonts() -> None:
    fonts = _fonts(render_pdf(signed_example("ct_head_ich")))
    assert fonts
    assert all("DejaVuSans" in name for name in fonts), fonts
    assert all(fonts.values()), f"not embedded: {fonts}"


def test_preliminary_report_carries_watermark_and_status() -> None:
    report = sign_case(load_case("cta_chest_pe"), status=ReportStatus.PRELIMINARY)
    assert report.current.status is ReportStatus.PRELIMINARY
    text = pdf_text(render_pdf(report))
    assert "Report status: PRELIMINARY" in text
    # The watermark is drawn on every page, so it is extracted once per page at least.
    pages = len(pypdf.PdfReader(io.BytesIO(render_pdf(report))).pages)
    assert text.count("PRELIMINARY") >= pages + 1


def test_pdf_is_reproducible_for_the_same_report() -> None:
    report = signed_example("mr_knee")
    assert render_pdf(report) == render_pdf(report)


def test_long_report_spans_pages_with_numbers_and_headings_kept_with_text() -> None:
    sentence = (
        "The visualized structure number {n} is within normal limits without focal abnormality, "
        "mass, collection or acute process, and is unchanged in appearance from the prior study."
    )
    edits = [
        {"section": "findings", "subsection": f"region_{n % 7}", "text": sentence.format(n=n)}
        for n in range(70)
    ]
    report = sign_case(load_case("xr_chest_normal"), extra_edits=edits)
    pdf = render_pdf(report)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    total = len(reader.pages)
    assert total >= 3
    titles = {f"{code.title}" for code in SECTION_CODES.values()}
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {total}" in text
        body = [ln.strip() for ln in text.splitlines() if ln.strip()]
        # Drop the footer (patient line and page number) and check the last body line.
        body = [
            ln
            for ln in body
            if not ln.startswith(("Page ", report.current.case.patient.name.family))
        ]
        assert body[-1] not in titles, f"page {number} ends with heading {body[-1]!r}"
    flat = squash(pdf_text(pdf))
    for n in range(70):
        assert squash(sentence.format(n=n)) in flat


def test_addendum_follows_signature() -> None:
    report = with_addendum(signed_example("ct_chest_nodule"), "Prior CT from 2024 reviewed.")
    text = pdf_text(render_pdf(report))
    assert text.index("SIGNATURE") < text.index("ADDENDUM") < text.index("Prior CT from 2024")
    assert "Addendum signed by" in text
    assert report.current.status is ReportStatus.APPENDED
