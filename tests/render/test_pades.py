"""PAdES: the report PDF signed with the radiologist's key, FHIR JSON embedded (needs pyhanko)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from reportdraft.attest import generate_signing_key
from reportdraft.cli.render import render_command
from reportdraft.errors import RenderError
from reportdraft.io import dump_json
from reportdraft.render import check_us_core, render_pdf, sign_pdf
from tests.render.conftest import pdf_text
from tests.render.signed_examples import signed_example, signing_key

pytest.importorskip("pyhanko")

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def _status(pdf: bytes) -> object:
    (embedded,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return validate_pdf_signature(embedded, ValidationContext(trust_roots=[embedded.signer_cert]))


def test_signed_pdf_validates_and_keeps_text_and_attachment() -> None:
    report = signed_example("ct_head_ich")
    assert report.current.signer is not None
    pdf = render_pdf(report)
    signed = sign_pdf(
        pdf,
        key=signing_key(),
        signer=report.current.signer,
        attachments={"report.fhir.json": (b'{"resourceType": "Bundle"}', "application/fhir+json")},
    )
    status = _status(signed)
    assert status.intact  # type: ignore[attr-defined]
    assert status.valid  # type: ignore[attr-defined]
    assert "ENTIRE_FILE" in str(status.coverage)  # type: ignore[attr-defined]
    assert "Rivera" in str(status.signing_cert.subject.human_friendly)  # type: ignore[attr-defined]
    reader = pypdf.PdfReader(io.BytesIO(signed))
    assert reader.attachments["report.fhir.json"] == [b'{"resourceType": "Bundle"}']
    assert pdf_text(signed) == pdf_text(pdf)


def test_tampering_breaks_the_signature() -> None:
    report = signed_example("mr_knee")
    assert report.current.signer is not None
    signed = sign_pdf(render_pdf(report), key=signing_key(), signer=report.current.signer)
    index = signed.index(b"Radiology report")
    tampered = signed[:index] + b"Radiology REPORT" + signed[index + 16 :]
    assert not _status(tampered).intact  # type: ignore[attr-defined]


def test_only_the_signers_registered_key_signs() -> None:
    report = signed_example("mr_knee")
    assert report.current.signer is not None
    with pytest.raises(RenderError, match="registered key"):
        sign_pdf(render_pdf(report), key=generate_signing_key(), signer=report.current.signer)


def test_cli_render_with_pades_key(tmp_path: Path) -> None:
    report = signed_example("us_abd_cholecystitis")
    (tmp_path / "report.json").write_text(dump_json(report), encoding="utf-8")
    (tmp_path / "key.pem").write_bytes(signing_key().private_pem())
    (tmp_path / "key.pub.pem").write_bytes(signing_key().verify_key.public_pem())
    out = tmp_path / "out"
    args = [
        str(tmp_path / "report.json"),
        "--out",
        str(out),
        "--pades-key",
        str(tmp_path / "key.pem"),
        "--trust",
        str(tmp_path / "key.pub.pem"),
    ]
    result = CliRunner().invoke(render_command, args)
    assert result.exit_code == 0, result.output
    pdf = next(out.glob("*.pdf")).read_bytes()
    assert _status(pdf).intact  # type: ignore[attr-defined]
    bundle = json.loads(next(out.glob("*.fhir.json")).read_text(encoding="utf-8"))
    assert check_us_core(bundle) == []
    dr = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DiagnosticReport"
    )
    pdf_form = next(f for f in dr["presentedForm"] if f["contentType"] == "application/pdf")
    assert base64.b64decode(pdf_form["data"]) == pdf  # the FHIR Bundle carries the signed PDF
    (name,) = pypdf.PdfReader(io.BytesIO(pdf)).attachments
    embedded = json.loads(pypdf.PdfReader(io.BytesIO(pdf)).attachments[name][0])
    assert embedded["resourceType"] == "Bundle"
    problems = check_us_core(embedded)
    assert any("no PDF form" in p for p in problems)  # by design: it lives inside that PDF
    assert [p for p in problems if "no PDF form" not in p] == []
