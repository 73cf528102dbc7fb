"""Suite YAML and cases JSONL: validation names the field and the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from reportdraft.errors import ConfigurationError, InputError
from reportdraft.evaluation.suite import (
    EvalCase,
    Reference,
    Threshold,
    dump_cases,
    load_cases,
    load_suite,
)
from tests.evaluation.helpers import make_item, suite_dict


def write(tmp_path: Path, data: object, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_suite_loads_and_resolves_cases_relative_to_the_file(tmp_path: Path) -> None:
    suite = load_suite(
        write(tmp_path, suite_dict(thresholds={"echo": {"finding_f1": {"min": 0.5}}}))
    )
    assert suite.cases_path() == tmp_path.resolve() / "cases.jsonl"
    assert suite.thresholds["echo"]["finding_f1"].min == 0.5
    assert suite.stats.seed == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sytems": []}, "sytems"),
        ({"systems": [{"name": "a", "backend": "rules", "modle": "x"}]}, "modle"),
        ({"thresholds": {"nosuch": {"rouge_l": {"min": 1}}}}, "unknown system"),
        ({"thresholds": {"echo": {"rouge_l": {}}}}, "min and/or max"),
        (
            {"systems": [{"name": "a", "backend": "rules"}, {"name": "a", "backend": "rules"}]},
            "duplicate",
        ),
    ],
)
def test_suite_errors_name_the_problem(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_suite(write(tmp_path, suite_dict(**change)))


def test_missing_suite_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        load_suite(tmp_path / "nope.yaml")


def test_threshold_check() -> None:
    assert Threshold(min=0.5).check(0.6) is None
    assert "min" in (Threshold(min=0.5).check(0.4) or "")
    assert "max" in (Threshold(max=0.1).check(0.2) or "")
    assert "no value" in (Threshold(max=0.1).check(None) or "")


def test_cases_round_trip(tmp_path: Path) -> None:
    items = [make_item("A-1", "Lungs clear.", "Normal."), make_item("A-2", "No effusion.", None)]
    path = tmp_path / "cases.jsonl"
    path.write_text(dump_cases(items), encoding="utf-8")
    loaded = load_cases(path)
    assert [c.case_id for c in loaded] == ["a-1", "a-2"]
    assert loaded[0].reference.impression == "Normal."
    assert loaded[1].reference.empty
    assert load_cases(path, limit=1)[0].case_id == "a-1"


def test_bad_case_line_names_line_and_field(tmp_path: Path) -> None:
    good = dump_cases([make_item("A-1", "Lungs clear.", "Normal.")])
    bad = json.loads(good)
    bad["case"]["study"]["modality"] = "XRAY"
    path = tmp_path / "cases.jsonl"
    path.write_text(good + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"cases.jsonl:2: case.study.modality"):
        load_cases(path)


def test_duplicate_case_ids_are_rejected(tmp_path: Path) -> None:
    item = make_item("A-1", "Lungs clear.", "Normal.")
    path = tmp_path / "cases.jsonl"
    path.write_text(dump_cases([item, item]), encoding="utf-8")
    with pytest.raises(InputError, match="duplicate case id"):
        load_cases(path)


def test_reference_rejects_unknown_sections_and_keys() -> None:
    with pytest.raises(ValueError, match="unknown section"):
        Reference(sections={"impresion": "x"})
    with pytest.raises(ValueError, match="extra"):
        EvalCase.model_validate(
            {**json.loads(dump_cases([make_item("A-1", "x.", None)])), "extra": 1}
        )
