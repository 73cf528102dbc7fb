"""The attestation commands end to end through click: keys, sign, verify, addendum, audit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from reportdraft.cli import attest as attest_cli
from reportdraft.cli import redline_cmd
from reportdraft.models.report import Report, ReportStatus
from tests.attest.attest_factories import (
    communication,
    high_flag,
    make_case,
    make_draft,
    make_radiologist,
    pneumothorax_mention,
)

AT = "2026-11-27T15:10:00Z"


@pytest.fixture(scope="module")
def cli() -> click.Group:
    """A group holding exactly the commands these modules export (as the lead registers them)."""
    group = click.Group("reportdraft")
    for command in [*attest_cli.COMMANDS, *redline_cmd.COMMANDS]:
        group.add_command(command)
    return group


def run(cli: click.Group, *args: str, env: dict[str, str] | None = None) -> Result:
    """Invoke the CLI and return the result (exit code, output)."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def files(tmp_path: Path, cli: click.Group) -> dict[str, Path]:
    """A generated key, and case/draft/signer/signoff files for a report with blockers."""
    keys = tmp_path / "keys"
    result = run(cli, "keys", "generate", "--out", str(keys))
    assert result.exit_code == 0, result.output
    key_id = (keys / "key_id.txt").read_text().strip()
    assert key_id in result.output
    from reportdraft.attest import load_signing_key

    signer = make_radiologist(load_signing_key(keys / "signing_key.pem"))
    paths = {
        "key": keys / "signing_key.pem",
        "pub": keys / "signing_key.pub.pem",
        "case": tmp_path / "case.json",
        "draft": tmp_path / "draft.json",
        "signer": tmp_path / "signer.json",
        "signoff": tmp_path / "signoff.json",
        "out": tmp_path / "out" / "report.json",
        "audit": tmp_path / "audit.jsonl",
    }
    paths["case"].write_text(make_case().model_dump_json())
    draft = make_draft(flags=[high_flag()], critical=[pneumothorax_mention()])
    paths["draft"].write_text(draft.model_dump_json())
    paths["signer"].write_text(signer.model_dump_json())
    paths["signoff"].write_text(
        json.dumps(
            {
                "statement_edits": [{"id": "S2", "text": "Left lower lobe nodule measuring 7 mm."}],
                "decisions": {"A1": "confirmed"},
                "communications": [communication().model_dump(mode="json")],
            }
        )
    )
    return paths


def _sign(cli: click.Group, f: dict[str, Path], *extra: str) -> Result:
    return run(
        cli,
        "sign",
        "--case",
        str(f["case"]),
        "--draft",
        str(f["draft"]),
        "--signer",
        str(f["signer"]),
        "--key",
        str(f["key"]),
        "--at",
        AT,
        "--audit",
        str(f["audit"]),
        "--out",
        str(f["out"]),
        *extra,
    )


def test_sign_refuses_with_reason_codes_and_writes_nothing(
    cli: click.Group, files: dict[str, Path]
) -> None:
    result = _sign(cli, files)
    assert result.exit_code == 2
    for code in ("ai_finding_pending", "high_flag_unresolved", "critical_communication_missing"):
        assert code in result.output
    assert not files["out"].exists()
    assert not files["audit"].exists()


def test_sign_verify_tamper_addendum_audit(cli: click.Group, files: dict[str, Path]) -> None:
    result = _sign(cli, files, "--signoff", str(files["signoff"]))
    assert result.exit_code == 0, result.output
    report = Report.model_validate_json(files["out"].read_text())
    assert report.status is ReportStatus.FINAL
    assert report.current.statement("S2").generator == "radiologist"  # type: ignore[union-attr]

    ok = run(cli, "report", "verify", str(files["out"]), "--trust", str(files["pub"]))
    assert ok.exit_code == 0, ok.output

    appended = files["out"].with_name("report2.json")
    result = run(
        cli,
        "addendum",
        str(files["out"]),
        "--text",
        "Prior CT reviewed.",
        "--signer",
        str(files["signer"]),
        "--at",
        "2026-11-27T16:00:00Z",
        "--audit",
        str(files["audit"]),
        "--out",
        str(appended),
        env={"REPORTDRAFT_SIGNING_KEY": files["key"].read_text()},
    )
    assert result.exit_code == 0, result.output
    assert run(cli, "report", "verify", str(appended)).exit_code == 0

    text = files["out"].read_text()
    files["out"].write_text(text.replace("measuring 7 mm", "measuring 9 mm", 1))
    bad = run(cli, "report", "verify", str(files["out"]))
    assert bad.exit_code == 1
    assert "signature_invalid" in bad.output

    assert run(cli, "audit", "verify", str(files["audit"])).exit_code == 0
    lines = files["audit"].read_text().splitlines()
    del lines[2]
    files["audit"].write_text("\n".join(lines) + "\n")
    broken = run(cli, "audit", "verify", str(files["audit"]))
    assert broken.exit_code == 1
    assert "entry 3" in broken.output


def test_redline_command_writes_json_and_html(
    cli: click.Group, files: dict[str, Path], tmp_path: Path
) -> None:
    assert _sign(cli, files, "--signoff", str(files["signoff"])).exit_code == 0
    html_out = tmp_path / "redline.html"
    result = run(cli, "redline", str(files["draft"]), str(files["out"]), "--html", str(html_out))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [c["kind"] for c in data["changes"]] == ["number_changed"]
    page = html_out.read_text()
    assert "<del>6</del>" in page
    assert "<ins>7</ins>" in page


def test_sign_without_key_is_a_configuration_error(
    cli: click.Group, files: dict[str, Path]
) -> None:
    result = run(
        cli,
        "sign",
        "--case",
        str(files["case"]),
        "--draft",
        str(files["draft"]),
        "--signer",
        str(files["signer"]),
        "--out",
        str(files["out"]),
        env={"REPORTDRAFT_SIGNING_KEY": ""},
    )
    assert result.exit_code == 2
    assert "configuration_error" in result.output


# --- all-or-nothing report + audit, no silent overwrite (issue 13, point 6) -----------------
# Probe on the base commit: sign --audit onto a log whose last entry is damaged printed
# "error [conflict]" but had already written --out; sign --out onto an existing signed
# report replaced it (exit 0) and appended a second set of audit entries.


def _snapshot(*paths: Path) -> dict[str, bytes | None]:
    return {str(p): p.read_bytes() if p.is_file() else None for p in paths}


def test_sign_refuses_to_replace_an_existing_report_without_force(
    cli: click.Group, files: dict[str, Path]
) -> None:
    assert _sign(cli, files, "--signoff", str(files["signoff"])).exit_code == 0
    before = _snapshot(files["out"], files["audit"])
    again = _sign(cli, files, "--signoff", str(files["signoff"]))
    assert again.exit_code == 2
    assert again.stderr.startswith("error [output_exists]: ")
    assert str(files["out"]) in again.stderr
    assert "--force" in again.stderr
    assert _snapshot(files["out"], files["audit"]) == before

    forced = _sign(cli, files, "--signoff", str(files["signoff"]), "--force")
    assert forced.exit_code == 0, forced.output
    logged = before[str(files["audit"])] or b""
    assert len(files["audit"].read_bytes().splitlines()) > len(logged.splitlines())


def test_sign_writes_no_report_when_the_audit_append_fails(
    cli: click.Group, files: dict[str, Path]
) -> None:
    files["audit"].write_text('{"seq": 1, "hash": "damaged"}\n')
    before = _snapshot(files["out"], files["audit"])
    result = _sign(cli, files, "--signoff", str(files["signoff"]))
    assert result.exit_code == 2
    assert result.stderr.startswith("error [conflict]: ")
    assert _snapshot(files["out"], files["audit"]) == before
    assert list(files["out"].parent.iterdir()) == []


@pytest.mark.parametrize("log_exists", [True, False])
def test_sign_takes_the_audit_entries_back_when_the_report_rename_fails(
    cli: click.Group, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, log_exists: bool
) -> None:
    """The report's rename fails after the audit append: the log is as it was before."""
    if log_exists:
        assert _sign(cli, files, "--signoff", str(files["signoff"])).exit_code == 0
        files["out"].unlink()
    before = _snapshot(files["out"], files["audit"])
    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == files["out"]:
            raise OSError(30, "Read-only file system", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    result = _sign(cli, files, "--signoff", str(files["signoff"]), "--force")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error [io_error]: {files['out']}: Read-only file system"
    assert _snapshot(files["out"], files["audit"]) == before
    assert [p.name for p in files["out"].parent.iterdir()] == []
    monkeypatch.undo()
    assert run(cli, "audit", "verify", str(files["audit"])).exit_code == (0 if log_exists else 2)


def test_addendum_commits_report_and_audit_together(
    cli: click.Group, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _sign(cli, files, "--signoff", str(files["signoff"])).exit_code == 0
    appended = files["out"].with_name("report2.json")
    args = [
        "addendum",
        str(files["out"]),
        "--text",
        "Prior CT reviewed.",
        "--signer",
        str(files["signer"]),
        "--key",
        str(files["key"]),
        "--at",
        "2026-11-27T16:00:00Z",
        "--audit",
        str(files["audit"]),
        "--out",
    ]
    refused = run(cli, *args, str(files["out"]))
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error [output_exists]: ")

    before = _snapshot(files["out"], appended, files["audit"])

    def no_space(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise OSError(28, "No space left on device", str(dst))

    # without --force the report is put in place by os.link (never replacing a file)
    monkeypatch.setattr(os, "link", no_space)
    failed = run(cli, *args, str(appended))
    assert failed.exit_code == 2
    assert failed.stderr.strip() == f"error [io_error]: {appended}: No space left on device"
    assert _snapshot(files["out"], appended, files["audit"]) == before
    monkeypatch.undo()
    ok = run(cli, *args, str(appended))
    assert ok.exit_code == 0, ok.output
    assert run(cli, "audit", "verify", str(files["audit"])).exit_code == 0
