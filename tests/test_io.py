"""Input reading and all-or-nothing output writing."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest

from reportdraft.errors import (
    EncodingError,
    FileSystemError,
    InputError,
    OutputExistsError,
    PayloadTooLargeError,
)
from reportdraft.io import (
    MAX_INPUT_BYTES,
    decode_text,
    load_case,
    read_json,
    read_text,
    write_files,
)
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


# --- encodings and all-or-nothing commits (issue 13, point 6) -------------------------------
# Probe on the base commit: read_json of a BOM file raised InputError "Unexpected UTF-8 BOM",
# of a UTF-16 or binary file a bare UnicodeDecodeError; write_files replaced an existing file
# with no way to refuse, and a failing second rename left the first file replaced.


def test_read_json_accepts_utf8_with_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(case_dict()).encode("utf-8"))
    assert load_case(path).study.accession_number == "ACC-TEST-1"


@pytest.mark.parametrize(
    ("encoding", "fragment"),
    [
        ("utf-16", "UTF-16-LE text, not UTF-8"),
        ("utf-16-be", "NUL byte at offset 0"),
        ("utf-32", "UTF-32-LE text, not UTF-8"),
        ("latin-1", "byte 0xe9 at offset"),
    ],
)
def test_other_encodings_are_refused_by_name(tmp_path: Path, encoding: str, fragment: str) -> None:
    path = tmp_path / "case.json"
    text = json.dumps(
        {**case_dict(), "dictation": "Caf\u00e9 lungs are clear."}, ensure_ascii=False
    )
    path.write_bytes(text.encode(encoding))  # utf-16/32 write a BOM, utf-16-be none
    with pytest.raises(EncodingError, match=re.escape(fragment)) as caught:
        read_json(path, what="case")
    assert caught.value.code == "encoding_error"
    assert str(path) in caught.value.message


def test_binary_input_is_an_encoding_error(tmp_path: Path) -> None:
    path = tmp_path / "image.json"
    path.write_bytes(bytes(range(256)))
    with pytest.raises(EncodingError, match="NUL byte at offset 0"):
        read_text(path, what="case")


def test_decode_text_drops_only_the_leading_bom() -> None:
    assert decode_text(b"\xef\xbb\xbfab\xef\xbb\xbfc", "x") == "ab\ufeffc"


def test_write_files_refuses_to_overwrite_unless_allowed(tmp_path: Path) -> None:
    write_files(tmp_path, {"report.json": "old"})
    with pytest.raises(OutputExistsError, match="already exists"):
        write_files(tmp_path, {"new.txt": "n", "report.json": "new"}, overwrite=False)
    assert (tmp_path / "report.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    write_files(tmp_path, {"report.json": "new"})
    assert (tmp_path / "report.json").read_text() == "new"


def test_a_failed_second_rename_puts_the_first_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """draft.json + draft.txt: the 2nd rename fails -> draft.json keeps its old content."""
    write_files(tmp_path, {"draft.json": "old json", "draft.txt": "old text"})
    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == "draft.txt":
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space"):
        write_files(tmp_path, {"draft.json": "new json", "draft.txt": "new text"})
    assert (tmp_path / "draft.json").read_text() == "old json"
    assert (tmp_path / "draft.txt").read_text() == "old text"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.json", "draft.txt"]


def test_a_failed_second_rename_removes_a_new_first_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == "b.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        write_files(tmp_path / "out", {"a.txt": "a", "b.txt": "b"})
    assert list((tmp_path / "out").iterdir()) == []


def test_write_files_fsyncs_each_file_and_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Base commit: no fsync at all (the probe counted 0 calls)."""
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    write_files(tmp_path, {"a.txt": "a", "b.txt": "b"})
    assert len(synced) >= 3  # two files and the folder


def test_out_dir_under_a_regular_file_is_a_clear_io_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FileSystemError, match="afile is not a directory") as caught:
        write_files(tmp_path / "afile" / "sub", {"a.txt": "a"})
    assert caught.value.code == "io_error"


def test_an_output_that_is_a_directory_is_a_clear_io_error(tmp_path: Path) -> None:
    (tmp_path / "draft.json").mkdir()
    with pytest.raises(FileSystemError, match=r"draft\.json: is a directory"):
        write_files(tmp_path, {"draft.txt": "t", "draft.json": "j"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.json"]
