"""Fixtures for the render tests: every example case signed through the attestation flow."""

from __future__ import annotations

import io

import pypdf
import pytest

from reportdraft.models import Report
from tests.render.signed_examples import EXAMPLE_NAMES, signed_example


@pytest.fixture(params=EXAMPLE_NAMES)
def signed(request: pytest.FixtureRequest) -> Report:
    """Each example case, drafted, reviewed and signed final (cached per session)."""
    return signed_example(request.param)


def pdf_text(pdf: bytes) -> str:
    """All text pypdf extracts from ``pdf``, pages joined by newlines."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    """``text`` without any whitespace: PDF line breaks fall anywhere inside a sentence."""
    return "".join(text.split())
