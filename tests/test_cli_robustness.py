"""Every command: one ``error [code]: ...`` line and exit 2/1 on failure, never a traceback.

Probes on the base commit (``python -m reportdraft.cli``-style, from the worktree root)::

    python -c 'from reportdraft.cli import main; main()' draft /bin/ls-head.json -b rules
    -> Traceback ... UnicodeDecodeError (exit 1)
    ... draft case-with-bom.json -b rules      -> error [invalid_input]: ... Unexpected UTF-8 BOM
    ... draft case-utf16.json -b rules         -> Traceback ... UnicodeDecodeError
    ... draft CASE --out afile/sub             -> Traceback ... NotADirectoryError
    ... draft CASE --out /proc/x               -> Traceback ... FileNotFoundError
    ... draft CASE --out DIR (DIR/draft.json a folder) -> Traceback ... IsADirectoryError

Each test below runs the real ``reportdraft`` group through click's CliRunner with
``catch_exceptions=False``, so a traceback would fail the test instead of being recorded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from reportdraft.cli import main
from reportdraft.cli.common import reports_errors
from reportdraft.resources import data_dir

EXAMPLE = data_dir("examples") / "ct_head_ich.json"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def one_error_line(result: Result, code: str, status: int = 2) -> str:
    """The single stderr line of a failed run, checked for its code and exit status."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.output + result.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error [{code}]: "), lines[0]
    assert result.exit_code == status, (result.exit_code, lines)
    return lines[0]


def draft(case: Path, out: Path) -> Result:
    return run("draft", str(case), "--backend", "rules", "--out", str(out))


def test_binary_case_file_is_an_encoding_error(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    line = one_error_line(draft(case, tmp_path / "out"), "encoding_error")
    assert str(case) in line
    assert "not UTF-8" in line
    assert not (tmp_path / "out").exists()


def test_utf16_case_file_is_named_as_utf16(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_bytes(EXAMPLE.read_text(encoding="utf-8").encode("utf-16"))
    line = one_error_line(draft(case, tmp_path / "out"), "encoding_error")
    assert "UTF-16-LE" in line


def test_utf8_case_with_a_bom_drafts(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    result = draft(case, tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "draft.json").is_file()


def test_critical_reads_stdin_with_a_bom_and_refuses_utf16_stdin() -> None:
    ok = CliRunner().invoke(main, ["critical", "-"], input=b"\xef\xbb\xbfTension pneumothorax.")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)
    bad = CliRunner().invoke(main, ["critical", "-"], input="Pneumothorax.".encode("utf-16"))
    assert "UTF-16" in one_error_line(bad, "encoding_error")


def test_out_under_a_regular_file_is_an_io_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    line = one_error_line(draft(EXAMPLE, tmp_path / "afile" / "sub"), "io_error")
    assert f"{tmp_path / 'afile'} is not a directory" in line
    assert (tmp_path / "afile").read_text() == "x"


def test_out_in_proc_is_an_io_error() -> None:
    if not Path("/proc").is_dir():
        pytest.skip("no /proc here")
    line = one_error_line(draft(EXAMPLE, Path("/proc/reportdraft-x")), "io_error")
    assert "/proc/reportdraft-x" in line


def test_an_output_file_that_is_a_folder_leaves_nothing_written(tmp_path: Path) -> None:
    """draft.json is a folder: base crashed with IsADirectoryError (exit 1, a traceback);
    now one line, and the folder holds only what it held."""
    (tmp_path / "draft.json").mkdir()
    line = one_error_line(draft(EXAMPLE, tmp_path), "io_error")
    assert "draft.json: is a directory" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.json"]


def test_draft_outputs_are_all_or_nothing_when_the_second_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk on draft.txt: draft.json keeps its previous content (base: replaced)."""
    first = draft(EXAMPLE, tmp_path)
    assert first.exit_code == 0, first.stderr
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    (tmp_path / "draft.json").write_text('{"previous": true}\n')
    before["draft.json"] = b'{"previous": true}\n'
    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == "draft.txt":
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    line = one_error_line(draft(EXAMPLE, tmp_path), "io_error")
    assert line.endswith("draft.txt: No space left on device")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_unexpected_errors_are_one_line_unless_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug inside a command: error [internal_error], exit 1; --debug re-raises it."""

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("reportdraft.drafting.draft_case", broken)
    line = one_error_line(draft(EXAMPLE, tmp_path / "out"), "internal_error", status=1)
    assert "ZeroDivisionError: boom" in line
    with pytest.raises(ZeroDivisionError):
        run("--debug", "draft", str(EXAMPLE), "--backend", "rules", "--out", str(tmp_path / "o"))
    with pytest.raises(ZeroDivisionError):
        run(
            "draft",
            str(EXAMPLE),
            "--backend",
            "rules",
            "--out",
            str(tmp_path / "o"),
            env={"REPORTDRAFT_DEBUG": "1"},
        )


def test_usage_errors_are_one_line_too() -> None:
    line = one_error_line(run("draft", "--no-such-option"), "usage_error")
    assert "--no-such-option" in line
    assert "draft --help" in line


def test_every_command_has_the_error_boundary() -> None:
    """Walk the group: every leaf command's callback is wrapped by ``reports_errors``."""
    wrapped_name = reports_errors(lambda: None).__code__.co_name

    def leaves(group: click.Group) -> list[click.Command]:
        found: list[click.Command] = []
        for command in group.commands.values():
            found += leaves(command) if isinstance(command, click.Group) else [command]
        return found

    missing = [
        c.name
        for c in leaves(main)
        if c.callback is None or c.callback.__code__.co_name != wrapped_name
    ]
    assert missing == []


def test_broken_pipe_exits_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(*_: object, **__: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(click, "echo", closed)
    result = CliRunner().invoke(main, ["templates"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
