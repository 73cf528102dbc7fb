"""Shared fixtures of the verifier tests: the hand-written bundles and the public data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reportdraft.models import Flag, Template
from reportdraft.verification import verify
from tests.verify.bundles import Sample, load_bundles, load_templates

CASES = Path(__file__).parent / "cases"


def run_verifier(sample: Sample, draft=None) -> list[Flag]:  # type: ignore[no-untyped-def]
    """The verifier on ``sample`` (or on another draft of the same case)."""
    return verify(draft or sample.draft, sample.case, sample.dictation, sample.template)


@pytest.fixture(scope="session")
def samples() -> list[Sample]:
    """Every hand-written clean bundle of ``tests/verify/cases``."""
    return load_bundles(CASES)


@pytest.fixture(scope="session")
def templates() -> dict[str, Template]:
    """The templates the bundles use."""
    return load_templates(CASES / "templates.yaml")


@pytest.fixture(scope="session")
def public_data() -> Path:
    """The public report text folder (``REPORTDRAFT_DATA``, default ``../shared/data``)."""
    default = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    folder = Path(os.environ.get("REPORTDRAFT_DATA", default))
    if not (folder / "openi_opi").is_dir():
        pytest.skip(f"public report data not found at {folder} (set REPORTDRAFT_DATA)")
    return folder
