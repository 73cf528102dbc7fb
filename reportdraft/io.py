"""Reading inputs and writing outputs: clear errors in, all-or-nothing files out."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from reportdraft.errors import (
    CaseValidationError,
    DraftValidationError,
    InputError,
    ReportDraftError,
)
from reportdraft.models import Case, Draft

M = TypeVar("M", bound=BaseModel)

MAX_INPUT_BYTES = 2_000_000
"""Largest JSON document accepted from a file or request body."""


def describe_validation_error(error: ValidationError, *, limit: int = 5) -> str:
    """One line naming each failing field, e.g. ``study.modality: Input should be 'XR', ...``."""
    parts = []
    for item in error.errors()[:limit]:
        loc = ".".join(str(p) for p in item["loc"]) or "(document)"
        parts.append(f"{loc}: {item['msg']}")
    more = len(error.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_model(model: type[M], data: object, *, error: type[ReportDraftError], what: str) -> M:
    """Validate ``data`` as ``model``, raising ``error`` with a message that names the fields."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(f"invalid {what}: {describe_validation_error(exc)}") from None


def read_json(path: Path | str, *, what: str) -> object:
    """Read a JSON document from ``path`` (``-`` is stdin) with size and syntax checks."""
    if str(path) == "-":
        import sys

        text = sys.stdin.read(MAX_INPUT_BYTES + 1)
    else:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{what} file not found: {p}")
        if p.stat().st_size > MAX_INPUT_BYTES:
            from reportdraft.errors import PayloadTooLargeError

            raise PayloadTooLargeError(f"{what} file {p} exceeds {MAX_INPUT_BYTES} bytes")
        text = p.read_text(encoding="utf-8")
    if len(text) > MAX_INPUT_BYTES:
        from reportdraft.errors import PayloadTooLargeError

        raise PayloadTooLargeError(f"{what} exceeds {MAX_INPUT_BYTES} bytes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def load_case(path: Path | str) -> Case:
    """Load and validate a case file."""
    return parse_model(Case, read_json(path, what="case"), error=CaseValidationError, what="case")


def load_draft(path: Path | str) -> Draft:
    """Load and validate a draft file."""
    return parse_model(
        Draft, read_json(path, what="draft"), error=DraftValidationError, what="draft"
    )


def dump_json(value: BaseModel | Mapping[str, object] | list[object]) -> str:
    """Stable, readable JSON for files people open (models dump by alias, in JSON mode)."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_files(out_dir: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``files`` into ``out_dir`` all-or-nothing.

    Everything is written to a temporary directory beside ``out_dir`` first and moved into
    place only when every file is written, so a failure leaves no partial output.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        for name, content in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        written = []
        for name in files:
            final = out_dir / name
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, final)
            written.append(final)
        return written
    finally:
        for leftover in sorted(staging.rglob("*"), reverse=True):
            leftover.rmdir() if leftover.is_dir() else leftover.unlink()
        staging.rmdir()
