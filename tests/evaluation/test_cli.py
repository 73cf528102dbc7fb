"""The ``eval`` and ``eval-build`` commands through click's runner, on real parts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from reportdraft.cli.evaluation import eval_build, eval_command
from reportdraft.evaluation.suite import load_cases
from reportdraft.resources import data_dir

ROOT = Path(__file__).resolve().parents[2]


def test_eval_build_examples_writes_cases(tmp_path: Path) -> None:
    (tmp_path / "examples.references.yaml").write_text(
        (ROOT / "eval" / "examples.references.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = CliRunner().invoke(eval_build, ["examples", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    cases = load_cases(tmp_path / "examples.cases.jsonl")
    assert len(cases) == len(list(data_dir("examples").glob("*.json")))


def test_eval_build_without_data_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPORTDRAFT_DATA", raising=False)
    result = CliRunner().invoke(eval_build, ["openi", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "REPORTDRAFT_DATA" in result.output


def test_eval_with_a_bad_suite_exits_2(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump({"name": "x", "cases": "c.jsonl", "systms": []}))
    result = CliRunner().invoke(eval_command, [str(suite), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "error [configuration_error]" in result.output
    assert "systms" in result.output


def _small_suite(tmp_path: Path, thresholds: dict[str, object]) -> Path:
    lines = (ROOT / "eval" / "examples.cases.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "cases.jsonl").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    suite = {
        "name": "cli",
        "cases": "cases.jsonl",
        "systems": [{"name": "rules", "backend": "rules"}],
        "thresholds": {"rules": thresholds},
        "stats": {"resamples": 200},
        "injection": {"max_cases": 2},
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def test_eval_runs_the_rules_backend_and_writes_reports(tmp_path: Path) -> None:
    suite = _small_suite(tmp_path, {"section_completeness": {"min": 0.99}})
    out = tmp_path / "out"
    result = CliRunner().invoke(eval_command, [str(suite), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "PASS rules.section_completeness min 0.99" in result.output
    assert {p.name for p in out.iterdir()} >= {"results.json", "cases.csv", "report.html", "cache"}
    again = CliRunner().invoke(eval_command, [str(suite), "--out", str(out), "-q", "--no-html"])
    assert again.exit_code == 0
    assert "3 cached" in again.output


def test_eval_exits_1_naming_the_failed_threshold(tmp_path: Path) -> None:
    suite = _small_suite(tmp_path, {"rouge_l": {"min": 101}})
    result = CliRunner().invoke(
        eval_command, [str(suite), "--out", str(tmp_path / "out"), "-q", "--no-injection"]
    )
    assert result.exit_code == 1
    assert "FAIL rules.rouge_l min 101" in result.output
    assert "threshold_failed" in result.output


def test_eval_concurrency_changes_no_result(tmp_path: Path) -> None:
    suite = _small_suite(tmp_path, {"finding_f1": {"min": 0.0}})
    lines = []
    for workers in ("1", "3"):
        result = CliRunner().invoke(
            eval_command,
            [
                str(suite),
                *("--out", str(tmp_path / f"out{workers}"), "-q", "--no-html"),
                *("--no-injection", "--concurrency", workers),
            ],
        )
        assert result.exit_code == 0, result.output
        lines.append([line for line in result.output.splitlines() if "finding F1" in line])
    assert lines[0] == lines[1]
    assert "3 cases, 0 failed" in lines[0][0]
    refused = CliRunner().invoke(eval_command, [str(suite), "--concurrency", "0"])
    assert refused.exit_code == 2
