"""The signed report as a PDF a clinician recognises (reportlab Platypus).

Layout: facility header, patient and study block, the sections of the report, the
critical-result communication statement, the AI-assistance statement, the signature block
and any addenda after it. Every page carries a footer with patient, accession and
"Page n of m"; a preliminary report carries a diagonal PRELIMINARY watermark. An unsigned
draft is rendered only as a preview (``preview=True``): a diagonal DRAFT / NOT FOR CLINICAL
USE watermark and a banner on every page, the preview notice first, no signature block.

Two traps this module exists to avoid: the default Helvetica is not embedded
and cannot print non-Latin-1 letters, so DejaVu Sans (shipped inside matplotlib's wheel)
is embedded; and Platypus reads ``<``/``&`` as markup, silently dropping text, so every
value from the model or the case is escaped before it becomes a ``Paragraph``.
The output is byte-for-byte reproducible for the same report (reportlab's invariant mode),
so the FHIR ``presentedForm`` hash of a stored report can be checked again later.
"""

from __future__ import annotations

import importlib.util
import io
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from reportdraft.errors import RenderError
from reportdraft.models import Report, ReportStatus, ReportVersion
from reportdraft.render.text import (
    SECTION_CODES,
    format_time,
    report_paragraphs,
    signer_text,
)
from reportdraft.render.trust import PREVIEW_LABEL, is_preview, renderable

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
WATERMARK_STATUSES = frozenset({ReportStatus.PRELIMINARY})
"""Signed statuses printed with the PRELIMINARY watermark (not yet an attending's final read)."""
PREVIEW_WATERMARK = ("DRAFT", "NOT FOR CLINICAL USE")
"""The diagonal watermark of a preview, one line each."""


def _font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RenderError("PDF font not found: install matplotlib (it ships DejaVu Sans)")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


@cache
def register_fonts() -> None:
    """Register DejaVu Sans (regular, bold) with reportlab once per process."""
    folder = _font_dir()
    try:
        pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    except Exception as exc:  # reportlab raises TTFError or OSError for a bad/missing file
        raise RenderError(f"cannot load the PDF font from {folder}: {exc}") from exc
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=13.5, spaceAfter=4)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=11),
        "facility": ParagraphStyle(
            "facility", parent=body, fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=1
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=12, leading=16, spaceBefore=6
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=10.5,
            spaceBefore=8,
            spaceAfter=2,
            keepWithNext=1,
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9, leading=11.5, spaceAfter=0),
        "label": ParagraphStyle(
            "label", parent=body, fontName=FONT_BOLD, fontSize=9, leading=11.5, spaceAfter=0
        ),
        "warning": ParagraphStyle(
            "warning",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=12,
            leading=16,
            spaceBefore=4,
            textColor=colors.Color(0.75, 0.05, 0.05),
            keepWithNext=1,
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of *plain* text: escaped so ``<``, ``&`` and ``>`` print as themselves."""
    return Paragraph(escape(text), style)


def _identification(version: ReportVersion, st: dict[str, ParagraphStyle]) -> Table:
    study, patient = version.case.study, version.case.patient
    name = f"{patient.name.family}, {' '.join(patient.name.given)}"
    rows = [
        ("Patient", name, "MRN", patient.id),
        ("DOB", patient.birth_date.isoformat(), "Sex", patient.sex),
        ("Accession", study.accession_number, "Priority", study.priority.value.upper()),
        (
            "Procedure",
            f"{study.procedure.display} ({study.procedure.code})",
            "Modality",
            study.modality.value,
        ),
        (
            "Exam date",
            format_time(study.acquisition_time),
            "Signed",
            format_time(version.signature.signed_at) if version.signature else "not signed",
        ),
        ("Ordering physician", study.ordering_physician.name, "Indication", study.indication),
    ]
    data = [
        [_p(a, st["label"]), _p(b, st["cell"]), _p(c, st["label"]), _p(d, st["cell"])]
        for a, b, c, d in rows
    ]
    width = LETTER[0] - 1.5 * inch
    table = Table(
        data, colWidths=[1.25 * inch, width / 2 - 1.25 * inch, 1.0 * inch, width / 2 - 1.0 * inch]
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),  # the default would add Helvetica
                ("BOX", (0, 0), (-1, -1), 0.6, colors.grey),
                ("BACKGROUND", (0, 0), (-1, -1), colors.Color(0.96, 0.96, 0.96)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _signature_box(paragraphs: list[str], st: dict[str, ParagraphStyle]) -> Table:
    table = Table(
        [[[_p(text, st["body"]) for text in paragraphs]]], colWidths=[LETTER[0] - 1.5 * inch]
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def story(version: ReportVersion) -> list[Flowable]:
    """The flowables of the report, in reading order (exposed for layout tests)."""
    register_fonts()
    st = _styles()
    facility = version.case.study.performing_facility
    flow: list[Flowable] = [_p(facility.name, st["facility"])]
    if facility.address:
        flow.append(_p(facility.address, st["small"]))
    flow.append(_p(f"RADIOLOGY REPORT - {version.case.study.procedure.display}", st["title"]))
    flow.append(Spacer(1, 4))
    flow.append(_identification(version, st))
    for key, paragraphs in report_paragraphs(version):
        title = SECTION_CODES[key].title
        if key == "signature":
            flow.append(Spacer(1, 6))
            flow.append(KeepTogether([_p(title, st["heading"]), _signature_box(paragraphs, st)]))
            continue
        if key == "preview":
            flow.append(Spacer(1, 6))
            flow.append(KeepTogether([_p(title, st["warning"]), _signature_box(paragraphs, st)]))
            continue
        style = st["small"] if key == "ai" else st["body"]
        flow.append(_p(title, st["heading"]))
        flow.extend(_p(text, style) for text in paragraphs)
    return flow


class _NumberedCanvas(Canvas):
    """A canvas that knows the page count when it draws each footer ("Page n of m")."""

    footer_left = ""
    watermark: tuple[str, ...] = ()
    banner = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Platypus passes initialFontName=None; without DejaVu here an unembedded Helvetica
        # is referenced by every page.
        kwargs["initialFontName"] = kwargs.get("initialFontName") or FONT
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's API name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        width, height = self._pagesize
        self.saveState()
        if self.watermark:
            self.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.18))
            self.translate(width / 2, height / 2)
            self.rotate(45)
            if len(self.watermark) == 1:
                self.setFont(FONT_BOLD, 72)
                self.drawCentredString(0, -24, self.watermark[0])
            else:
                self.setFont(FONT_BOLD, 72)
                self.drawCentredString(0, 12, self.watermark[0])
                self.setFont(FONT_BOLD, 34)
                for index, line in enumerate(self.watermark[1:], start=1):
                    self.drawCentredString(0, 12 - 48 * index, line)
            self.rotate(-45)
            self.translate(-width / 2, -height / 2)
        if self.banner:
            self.setFillColor(colors.Color(0.75, 0.05, 0.05))
            self.setFont(FONT_BOLD, 10)
            self.drawCentredString(width / 2, height - 0.45 * inch, self.banner)
        self.setFillColor(colors.grey)
        self.setFont(FONT, 8)
        self.drawString(0.75 * inch, 0.5 * inch, self.footer_left)
        self.drawRightString(width - 0.75 * inch, 0.5 * inch, f"Page {self._pageNumber} of {total}")
        self.restoreState()


def _canvas_class(
    footer: str, watermark: tuple[str, ...], banner: str = ""
) -> type[_NumberedCanvas]:
    return type(
        "ReportCanvas",
        (_NumberedCanvas,),
        {"footer_left": footer, "watermark": watermark, "banner": banner},
    )


def render_pdf(report: Report | ReportVersion, *, preview: bool = False) -> bytes:
    """Render the current version of ``report`` as PDF bytes (reproducible for equal input).

    An unsigned version is rendered only with ``preview=True``, as a watermarked preview
    (see :mod:`reportdraft.render.trust`); without it :class:`NotSignedError` is raised.
    Raises :class:`RenderError` when the font cannot be loaded or layout fails (e.g. a
    single flowable taller than a page).
    """
    version = renderable(report, preview=preview)
    draft_preview = is_preview(version)
    register_fonts()
    patient, study = version.case.patient, version.case.study
    shown_status = PREVIEW_LABEL if draft_preview else version.status.value.upper()
    footer = (
        f"{patient.name.family}, {' '.join(patient.name.given)} | MRN {patient.id} | "
        f"Acc {study.accession_number} | {shown_status}"
    )
    if draft_preview:
        watermark: tuple[str, ...] = PREVIEW_WATERMARK
    elif version.status in WATERMARK_STATUSES:
        watermark = ("PRELIMINARY",)
    else:
        watermark = ()
    banner = f"{PREVIEW_LABEL} - UNSIGNED PREVIEW" if draft_preview else ""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=0.75 * inch,
        rightMargin=0.75 * inch,
        topMargin=0.7 * inch,
        bottomMargin=0.8 * inch,
        title=(
            f"{PREVIEW_LABEL}: draft radiology report {study.accession_number}"
            if draft_preview
            else f"Radiology report {study.accession_number}"
        ),
        author=signer_text(version.signer)
        if version.signer and not draft_preview
        else "reportdraft",
        subject=f"{study.procedure.display}; status {version.status.value}",
        creator="reportdraft",
        invariant=True,
    )
    try:
        doc.build(
            story(version),
            canvasmaker=_canvas_class(footer, watermark, banner),
        )
    except RenderError:
        raise
    except Exception as exc:  # reportlab's LayoutError and friends
        raise RenderError(f"PDF layout failed: {exc}") from exc
    return buffer.getvalue()
