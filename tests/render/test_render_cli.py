"""``reportdraft render`` and ``reportdraft validate fhir`` on real files."""

from __future__ import annotations

import json
from pathlib import Path

import hl7
import pytest
from click.testing import CliRunner

from reportdraft.cli.render import COMMANDS, render_command, validate_group
from reportdraft.io import dump_json
from reportdraft.render import report_lines
from tests.render.conftest import pdf_text
from tests.render.signed_examples import signed_example, signing_key


def _report_file(tmp_path: Path) -> Path:
    path = tmp_path / "report.json"
    path.write_text(dump_json(signed_example("us_abd_cholecystitis")), encoding="utf-8")
    return path


def _trust(tmp_path: Path) -> list[str]:
    """``--trust`` with the signing key's public half (render verifies before it writes)."""
    path = tmp_path / "trusted.pub.pem"
    path.write_bytes(signing_key().verify_key.public_pem())
    return ["--trust", str(path)]


def test_commands_are_exported() -> None:
    assert {c.name for c in COMMANDS} == {"render", "validate"}


def test_render_all_writes_three_valid_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [str(_report_file(tmp_path)), "--out", str(out), *_trust(tmp_path)]
    result = CliRunner().invoke(render_command, args)
    assert result.exit_code == 0, result.output
    report = signed_example("us_abd_cholecystitis")
    stem = f"{report.current.case.study.accession_number}-v1"
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == [f"{stem}.fhir.json", f"{stem}.hl7", f"{stem}.pdf"]
    assert "IMPRESSION" in pdf_text((out / f"{stem}.pdf").read_bytes())
    message = (out / f"{stem}.hl7").read_bytes().decode("utf-8")
    parsed = hl7.parse(message)
    tx = [parsed.unescape(str(s[5])) for s in parsed.segments("OBX") if str(s[2]) == "TX"]
    assert tx == [line.text for line in report_lines(report)]
    ok = CliRunner().invoke(validate_group, ["fhir", str(out / f"{stem}.fhir.json")])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("ok:")


def test_render_one_format(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [str(_report_file(tmp_path)), "--format", "hl7", "--out", str(out), *_trust(tmp_path)]
    result = CliRunner().invoke(render_command, args)
    assert result.exit_code == 0, result.output
    assert [p.suffix for p in out.iterdir() if not p.name.startswith(".")] == [".hl7"]


def test_validate_fhir_prints_every_violation(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [str(_report_file(tmp_path)), "--format", "fhir", "--out", str(out)]
    CliRunner().invoke(render_command, [*args, *_trust(tmp_path)])
    bundle_file = next(out.glob("*.fhir.json"))
    bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    dr = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DiagnosticReport"
    )
    dr["status"] = "signed"
    del dr["subject"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(validate_group, ["fhir", str(bad)])
    assert result.exit_code == 1
    fails = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(fails) >= 2
    assert any("status: binding" in f for f in fails)
    assert any("subject: required" in f for f in fails)


def test_render_refuses_an_invalid_report_file(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text('{"id": "x"}', encoding="utf-8")
    result = CliRunner().invoke(render_command, [str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "invalid_input" in result.output


def test_strict_runs_hl7apys_strict_parse_and_a_failure_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reportdraft.errors import RenderError
    from reportdraft.render import hl7 as hl7_module

    seen: list[str] = []
    real = hl7_module.validate_er7

    def spy(message: str) -> None:
        seen.append(message)
        real(message)

    monkeypatch.setattr(hl7_module, "validate_er7", spy)
    args = [str(_report_file(tmp_path)), "--format", "hl7", *_trust(tmp_path)]
    fast = CliRunner().invoke(render_command, [*args, "--out", str(tmp_path / "fast")])
    assert fast.exit_code == 0, fast.output
    assert seen == []  # the fast structural validation only
    strict = CliRunner().invoke(
        render_command, [*args, "--strict", "--out", str(tmp_path / "strict")]
    )
    assert strict.exit_code == 0, strict.output
    assert len(seen) == 1
    written = next((tmp_path / "strict").glob("*.hl7")).read_bytes().decode("utf-8")
    assert written == seen[0]

    def refuse(message: str) -> None:
        raise RenderError("HL7 ORU^R01 failed hl7apy strict validation: test")

    monkeypatch.setattr(hl7_module, "validate_er7", refuse)
    failed = CliRunner().invoke(
        render_command, [*args, "--strict", "--out", str(tmp_path / "refused")]
    )
    assert failed.exit_code != 0
    assert "hl7apy strict validation" in failed.output
    assert "Traceback" not in failed.output
