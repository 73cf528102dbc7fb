"""The attestation commands end to end through click: keys, sign, verify, addendum, audit."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from reportdraft.cli import attest as attest_cli
from reportdraft.cli import redline as redline_cli
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
    for command in [*attest_cli.COMMANDS, *redline_cli.COMMANDS]:
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
