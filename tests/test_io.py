"""Input reading and all-or-nothing output writing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportdraft.errors import InputError, PayloadTooLargeError
from reportdraft.io import MAX_INPUT_BYTES, load_case, read_json, write_files
from tests.factories import case_dict


def test_load_case_reads_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case_dict()))
    assert load_case(path).study.accession_number == "ACC-TEST-1"


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text('{"study": ,}')
    with pytest.raises(InputError, match=r"not valid JSON: .* line 1 column"):
        read_json(path, what="case")


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_json(tmp_path / "nope.json", what="case")
    big = tmp_path / "big.json"
    big.write_text(" " * (MAX_INPUT_BYTES + 1))
    with pytest.raises(PayloadTooLargeError):
        read_json(big, what="case")


def test_write_files_is_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_files(out, {"a.txt": "a", "b/c.txt": "c"})
    assert (out / "a.txt").read_text() == "a"
    assert (out / "b" / "c.txt").read_text() == "c"

    with pytest.raises(TypeError):
        write_files(out, {"new1.txt": "x", "new2.txt": 123})  # type: ignore[dict-item]
    assert not (out / "new1.txt").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".staging")] == []
