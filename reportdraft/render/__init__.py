"""Rendering the signed report for delivery: PDF, FHIR R4 (US Core) Bundle, HL7 v2 ORU^R01.

The public API (everything else in the package is internal)::

    pdf = render_pdf(report)                       # bytes, DejaVu embedded, reproducible
    bundle = render_fhir(report, pdf=pdf)          # transaction Bundle as a JSON-ready dict
    problems = check_us_core(bundle)               # [] when it conforms to our profile
    er7 = render_hl7(report, pdf=pdf)              # ORU^R01, segments separated by \\r
    lines = report_lines(report)                   # the text every format carries
    signed_pdf = sign_pdf(pdf, key=key, signer=radiologist)   # PAdES (optional pyhanko)

``report`` is a :class:`reportdraft.models.Report` (its current version is rendered) or a
single :class:`reportdraft.models.ReportVersion`. Only signed versions are rendered as
reports; an unsigned draft raises :class:`~reportdraft.render.trust.NotSignedError` (a
:class:`reportdraft.errors.RenderError`) unless ``preview=True`` is passed, which renders it
watermarked DRAFT / NOT FOR CLINICAL USE without a signature block or a final status. Any
output that fails its validator (fhir.resources, hl7apy strict mode) raises RenderError.
Signatures are checked before rendering, on the stored file:
``verified_report(data, keyring)`` (:mod:`reportdraft.render.trust`).
"""

from reportdraft.render.fhir import check_us_core, render_fhir
from reportdraft.render.hl7 import pdf_from_hl7, render_hl7, text_lines
from reportdraft.render.pades import sign_pdf
from reportdraft.render.pdf import render_pdf
from reportdraft.render.text import TextLine, report_lines, report_text
from reportdraft.render.trust import (
    NoTrustedKeysError,
    NotSignedError,
    SignatureInvalidError,
    is_preview,
    verified_report,
)

__all__ = [
    "NoTrustedKeysError",
    "NotSignedError",
    "SignatureInvalidError",
    "TextLine",
    "check_us_core",
    "is_preview",
    "pdf_from_hl7",
    "render_fhir",
    "render_hl7",
    "render_pdf",
    "report_lines",
    "report_text",
    "sign_pdf",
    "text_lines",
    "verified_report",
]
