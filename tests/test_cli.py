"""The CLI: outputs on good input; one clear line, exit 2 and nothing written on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportdraft.cli import main
from reportdraft.models import Draft
from reportdraft.resources import data_dir
from tests.factories import case_dict

EXAMPLE = data_dir("examples") / "ct_head_ich.json"


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def test_help_on_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    names = [
        line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()
    ]
    for name in names:
        sub = run(name, "--help")
        assert sub.exit_code == 0, name
        assert "Usage:" in sub.output


def test_draft_with_rules_writes_json_and_text(tmp_path: Path) -> None:
    result = run("draft", str(EXAMPLE), "--backend", "rules", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    draft = Draft.model_validate_json((tmp_path / "draft.json").read_text())
    assert draft.provenance.backend == "rules"
    text = (tmp_path / "draft.txt").read_text()
    assert "IMPRESSION" in text
    assert "hemorrhage" in text.lower()


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "case.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("payload", "code", "fragment"),
    [
        ('{"study": ', "invalid_input", "not valid JSON"),
        ({"patient": {}}, "invalid_case", "study: Field required"),
        (case_dict(modality="XQ"), "invalid_case", "study.modality"),
        (
            case_dict(
                procedure={"system": "http://loinc.org", "code": "99999-9", "display": "XR ear"},
                body_part="ear",
            ),
            "template_not_found",
            "99999-9",
        ),
        ({**case_dict(), "dictation": "period comma new paragraph"}, "empty_dictation", "empty"),
    ],
)
def test_bad_input_is_one_clear_line_and_writes_nothing(
    tmp_path: Path, payload: object, code: str, fragment: str
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            *("draft", str(_write(tmp_path, payload)), "--backend", "rules"),
            *("--out", str(out), "--strict-template"),
        ],
    )
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith(f"error [{code}]:")
    assert fragment in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_unknown_backend_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["draft", str(EXAMPLE), "--backend", "gpt9", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "gpt9" in result.stderr
    assert "rules" in result.stderr


def test_schema_and_templates() -> None:
    schema = json.loads(run("schema", "case").output)
    assert "study" in schema["properties"]
    assert "sections" in json.loads(run("schema", "draft").output)["properties"]
    listing = run("templates").output.strip().splitlines()
    assert len(listing) >= 12


def test_verify_passes_a_clean_draft_and_fails_a_tampered_one(tmp_path: Path) -> None:
    run("draft", str(EXAMPLE), "--backend", "rules", "--out", str(tmp_path))
    draft_path = tmp_path / "draft.json"
    ok = CliRunner().invoke(main, ["verify", str(EXAMPLE), str(draft_path)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == []
    tampered = draft_path.read_text().replace("right parietal", "left parietal")
    draft_path.write_text(tampered)
    bad = CliRunner().invoke(main, ["verify", str(EXAMPLE), str(draft_path)])
    assert bad.exit_code == 1
    assert any(f["kind"] == "laterality" for f in json.loads(bad.stdout))


def test_critical_reads_stdin() -> None:
    result = run("critical", "-", stdin="Acute pulmonary embolism. No pneumothorax.")
    mentions = json.loads(result.output)
    by_code = {m["finding_code"]: m for m in mentions}
    assert by_code["pulmonary_embolism"]["alert"] is True
    assert by_code["pneumothorax"]["alert"] is False
    assert by_code["pneumothorax"]["temporality"] is None


def test_critical_jsonl_writes_one_line_per_report(tmp_path: Path) -> None:
    source = tmp_path / "reports.jsonl"
    source.write_text(
        json.dumps({"id": "r1", "text": "HISTORY: Trauma.\nCOMPARISON: None.\nLarge pneumothorax."})
        + "\n"
        + json.dumps({"id": "r2", "text": "Stable 6 mm right upper lobe pulmonary nodule."})
        + "\n",
        encoding="utf-8",
    )
    result = run("critical", "--jsonl", "--section-aware", str(source))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == ["r1", "r2"]
    (ptx,) = out[0]["mentions"]
    assert (ptx["section"], ptx["assertion"], ptx["alert"]) == ("findings", "present", True)
    (nodule,) = out[1]["mentions"]
    assert (nodule["temporality"], nodule["alert"]) == ("unchanged", False)


def test_critical_jsonl_bad_line_is_one_error_and_no_output() -> None:
    stdin = json.dumps({"id": "a", "text": "Acute PE."}) + "\n{oops\n"
    result = CliRunner().invoke(main, ["critical", "--jsonl", "-"], input=stdin)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error [invalid_input]: stdin line 2: not JSON (")
    assert result.stderr.count("\n") == 1


def test_critical_body_part_places_an_unqualified_nodule() -> None:
    plain = run("critical", "-", stdin="Spiculated 2 cm nodule.")
    assert json.loads(plain.output) == []
    chest = run("critical", "--body-part", "chest", "-", stdin="Spiculated 2 cm nodule.")
    (nodule,) = json.loads(chest.output)
    assert nodule["finding_code"] == "suspicious_lung_nodule"
