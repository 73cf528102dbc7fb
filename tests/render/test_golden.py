"""Golden files: one signed case rendered in each format, compared with the stored output.

Volatile values are fixed (clock and message control id) or masked (the Ed25519 signature,
made with a key generated per test session; the PDF bytes, which depend on the reportlab
version and are checked by their extracted text instead). To accept a deliberate change::

    REPORTDRAFT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render/test_golden.py
"""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reportdraft.render import render_fhir, render_hl7, render_pdf
from tests.render.conftest import pdf_text
from tests.render.signed_examples import signed_example

GOLDEN = Path(__file__).parent / "golden"
CASE = "ct_head_ich"
UPDATE = os.environ.get("REPORTDRAFT_UPDATE_GOLDEN") == "1"


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        pytest.skip(f"updated {path}")
    assert path.is_file(), f"missing golden file {path}; run with REPORTDRAFT_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual.splitlines() == expected.splitlines()


def _mask_fhir(bundle: dict[str, Any]) -> dict[str, Any]:
    masked = copy.deepcopy(bundle)
    for entry in masked["entry"]:
        resource = entry["resource"]
        for form in resource.get("presentedForm", []):
            if form["contentType"] == "application/pdf":
                form.update(data="<pdf>", size=0, hash="<sha1>")
        for signature in resource.get("signature", []):
            signature["data"] = "<ed25519 signature>"
    return masked


def test_pdf_text_matches_golden() -> None:
    _compare(f"{CASE}.pdf.txt", pdf_text(render_pdf(signed_example(CASE))) + "\n")


def test_fhir_bundle_matches_golden() -> None:
    bundle = _mask_fhir(render_fhir(signed_example(CASE)))
    _compare(f"{CASE}.fhir.json", json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")


def test_hl7_message_matches_golden() -> None:
    message = render_hl7(
        signed_example(CASE),
        control_id="GOLDEN-0001",
        now=datetime(2026, 11, 27, 23, 30, tzinfo=UTC),
    )
    _compare(f"{CASE}.hl7", message.replace("\r", "\n") + "\n")
