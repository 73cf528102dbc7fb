"""Reading inputs and writing outputs: clear errors in, all-or-nothing files out."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from reportdraft.errors import (
    CaseValidationError,
    DraftValidationError,
    EncodingError,
    FileSystemError,
    InputError,
    OutputExistsError,
    PayloadTooLargeError,
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


_UTF8_BOM = b"\xef\xbb\xbf"
_FOREIGN_BOMS = (
    # UTF-32 first: the UTF-32-LE mark begins with the UTF-16-LE one.
    (b"\xff\xfe\x00\x00", "UTF-32-LE"),
    (b"\x00\x00\xfe\xff", "UTF-32-BE"),
    (b"\xff\xfe", "UTF-16-LE"),
    (b"\xfe\xff", "UTF-16-BE"),
)


def decode_text(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text (a leading UTF-8 byte-order mark is dropped).

    Anything else is refused with :class:`~reportdraft.errors.EncodingError` naming the
    problem: a UTF-16/32 byte-order mark, NUL bytes (binary or UTF-16/32 without a mark), or
    the first invalid byte. Guessing another encoding would turn a misread file into
    plausible-looking clinical text.
    """
    for bom, name in _FOREIGN_BOMS:
        if data.startswith(bom):
            raise EncodingError(f"{source} is {name} text, not UTF-8: save it as UTF-8")
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    nul = data.find(b"\x00")
    if nul >= 0:
        raise EncodingError(
            f"{source} is not UTF-8 text: NUL byte at offset {nul} (a binary file, or "
            "UTF-16/32 without a byte-order mark)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"{source} is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None


def read_text(path: Path | str, *, what: str, limit: int = MAX_INPUT_BYTES) -> str:
    """Read a text input from ``path`` (``-`` is stdin): size-checked, UTF-8 (BOM allowed).

    The one reader for every text file a command takes (JSON documents, dictation or report
    text, YAML policies), so each gets the same size limit and encoding errors.
    """
    if str(path) == "-":
        import sys

        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text-only stdin (embedding): it is already decoded
            text = sys.stdin.read(limit + 1)
            if len(text) > limit:
                raise PayloadTooLargeError(f"{what} on stdin exceeds {limit} bytes")
            return text.removeprefix("\ufeff")
        data = stream.read(limit + 1)
        source = f"{what} on stdin"
    else:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{what} file not found: {p}")
        with p.open("rb") as handle:
            data = handle.read(limit + 1)
        source = f"{what} file {p}"
    if len(data) > limit:
        raise PayloadTooLargeError(f"{source} exceeds {limit} bytes")
    return decode_text(data, source)


def read_json(path: Path | str, *, what: str) -> object:
    """Read a JSON document from ``path`` (``-`` is stdin) with size, encoding and syntax checks."""
    text = read_text(path, what=what)
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


def fsync_directory(path: Path) -> None:
    """Make a rename or new file in ``path`` durable (best effort where the OS cannot)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the rename itself is still atomic
    finally:
        os.close(fd)


def ensure_directory(path: Path) -> None:
    """Create ``path`` (and parents), naming the part that is not a directory when it fails."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "not a directory" if probe == path else f"{probe} is not a directory"
        raise FileSystemError(f"{path}: {where}")
    path.mkdir(parents=True, exist_ok=True)


class StagedFiles:
    """Output files written to temporary files beside their targets, not yet in place.

    Use as a context manager from :func:`stage_files`: :meth:`commit` renames every file into
    place, or none (a failure part-way puts back what the earlier renames replaced); leaving
    the block without committing deletes the temporary files. Splitting staging from commit
    lets a caller do one more step between them (append an audit entry) and commit both or
    neither.
    """

    def __init__(self, files: Mapping[Path, str | bytes], *, overwrite: bool) -> None:
        self.overwrite = overwrite
        self._staged: list[tuple[Path, Path]] = []
        if not overwrite:
            _refuse_existing(list(files))
        try:
            for target, content in files.items():
                ensure_directory(target.parent)
                if target.is_dir():
                    raise FileSystemError(f"{target}: is a directory")
                self._staged.append((_write_temp(target, content), target))
        except BaseException:
            self.discard()
            raise

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def commit(self) -> list[Path]:
        """Move every staged file into place, all or none; returns the final paths."""
        done: list[tuple[Path, Path | None]] = []
        try:
            for temp, target in self._staged:
                backup = _backup(target) if self.overwrite else None
                try:
                    if self.overwrite:
                        os.replace(temp, target)
                    else:
                        _link_new(temp, target)
                except BaseException:
                    if backup is not None:
                        backup.unlink(missing_ok=True)
                    raise
                done.append((target, backup))
        except BaseException:
            _roll_back(done)
            raise
        for _, backup in done:
            if backup is not None:
                backup.unlink(missing_ok=True)
        written = [target for _, target in self._staged]
        for directory in {target.parent for target in written}:
            fsync_directory(directory)
        return written

    def discard(self) -> None:
        """Delete the temporary files (those committed by rename are gone already)."""
        for temp, _ in self._staged:
            temp.unlink(missing_ok=True)
        self._staged = []


def stage_files(
    out_dir: Path, files: Mapping[str, str | bytes], *, overwrite: bool = True
) -> StagedFiles:
    """Write ``files`` (name -> text or bytes) to fsynced temporary files in ``out_dir``.

    With ``overwrite=False`` an existing target raises
    :class:`~reportdraft.errors.OutputExistsError` before anything is written, and the
    commit never replaces a file that appeared meanwhile.
    """
    if not overwrite:
        _refuse_existing([out_dir / name for name in files])
    ensure_directory(out_dir)
    return StagedFiles(
        {out_dir / name: content for name, content in files.items()}, overwrite=overwrite
    )


def write_files(
    out_dir: Path, files: Mapping[str, str | bytes], *, overwrite: bool = True
) -> list[Path]:
    """Write ``files`` into ``out_dir`` all-or-nothing; returns the paths written.

    Each file goes to a temporary file in its target folder, is flushed and fsynced, and is
    renamed into place (then the folder is fsynced), so a reader never sees a half-written
    file; if any write or rename fails, the folder is left as it was (files the earlier
    renames replaced are put back). ``overwrite=False`` refuses to replace an existing file
    (:class:`~reportdraft.errors.OutputExistsError`, code ``output_exists``).
    """
    with stage_files(out_dir, files, overwrite=overwrite) as staged:
        return staged.commit()


def write_paths(files: Mapping[Path, str | bytes], *, overwrite: bool = True) -> list[Path]:
    """Like :func:`write_files` for outputs in different folders (``--json`` and ``--html``)."""
    with StagedFiles(files, overwrite=overwrite) as staged:
        return staged.commit()


def _refuse_existing(targets: list[Path]) -> None:
    existing = [t for t in targets if t.exists() or t.is_symlink()]
    if existing:
        raise OutputExistsError(
            f"{existing[0]} already exists: not replaced (pass --force to replace it)"
        )


def _write_temp(target: Path, content: str | bytes) -> Path:
    if not isinstance(content, str | bytes):
        raise TypeError(
            f"{target.name}: content must be str or bytes, not {type(content).__name__}"
        )
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _backup(target: Path) -> Path | None:
    """A hard link to ``target``'s current file (a copy where links are unsupported)."""
    if not target.exists():
        return None
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".bak", dir=target.parent)
    os.close(fd)
    backup = Path(name)
    backup.unlink()
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)
    return backup


def _link_new(temp: Path, target: Path) -> None:
    """Put ``temp``'s file at ``target`` only if ``target`` does not exist (atomically).

    ``temp`` stays behind as a second name for the file; :meth:`StagedFiles.discard` removes it.
    """
    try:
        os.link(temp, target)
    except FileExistsError:
        raise OutputExistsError(
            f"{target} already exists: not replaced (pass --force to replace it)"
        ) from None


def _roll_back(done: list[tuple[Path, Path | None]]) -> None:
    """Undo the renames of a failed commit, newest first: restore replaced files, remove new."""
    for target, backup in reversed(done):
        if backup is not None:
            os.replace(backup, target)
        else:
            target.unlink(missing_ok=True)
