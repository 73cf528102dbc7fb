"""A batch of separate reports (JSON Lines): validation first, each report analysed alone."""

from __future__ import annotations

import json

import pytest

from reportdraft.critical.batch import detect_documents, read_jsonl, to_jsonl
from reportdraft.errors import InputError
from reportdraft.models.critical import StudyScope


def lines(*objects: object) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n"


def test_each_report_is_analysed_alone() -> None:
    first = {"id": "r1", "text": "FINDINGS: No pneumothorax.\nHISTORY: Rule out"}
    second = {"id": "r2", "text": "  Large right pneumothorax."}
    results = detect_documents(read_jsonl(lines(first, second)), section_aware=True)
    assert [r["id"] for r in results] == ["r1", "r2"]
    (neg,) = results[0]["mentions"]
    assert (neg["assertion"], neg["alert"]) == ("negated", False)
    (ptx,) = results[1]["mentions"]
    assert (ptx["section"], ptx["assertion"], ptx["alert"]) == (None, "present", True)
    # offsets index the line's own text, leading spaces included
    assert second["text"][ptx["start"] : ptx["end"]] == "pneumothorax"
    assert ptx["temporality"] is None
    # the same texts run together: the first report's History header takes the second
    joined = detect_documents(
        read_jsonl(lines({"id": "x", "text": first["text"] + second["text"]})),
        section_aware=True,
    )
    assert [m["alert"] for m in joined[0]["mentions"]] == [False, False]


def test_study_per_line_or_default() -> None:
    docs = read_jsonl(
        lines(
            {"id": "a", "text": "Spiculated 2 cm nodule.", "body_part": "chest"},
            {"id": "b", "text": "Spiculated 2 cm nodule."},
            {"id": "c", "text": "Spiculated 2 cm nodule.", "body_part": "thyroid"},
        )
    )
    plain = detect_documents(docs)
    assert [len(r["mentions"]) for r in plain] == [1, 0, 0]
    chest = detect_documents(docs, study=StudyScope(body_part="chest"))
    assert [len(r["mentions"]) for r in chest] == [1, 1, 0]


def test_output_is_one_compact_line_per_report() -> None:
    results = detect_documents(read_jsonl(lines({"id": "é1", "text": "Acute PE."})))
    out = to_jsonl(results)
    assert out.count("\n") == 1
    assert out.startswith('{"id": "é1", "mentions": [{')
    assert json.loads(out)["mentions"][0]["finding_code"] == "pulmonary_embolism"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "input line 1: not JSON"),
        (lines({"id": "a", "text": "x"}, "[1, 2]"), "input line 2: expected an object"),
        (lines({"id": "a"}), "input line 1: text: Field required"),
        (lines({"id": "", "text": "x"}), "input line 1: id: String should have at least 1"),
        (lines({"id": "a", "text": "x", "lang": "en"}), "lang: Extra inputs"),
        (lines({"id": 3, "text": "x"}), "id: Input should be a valid string"),
        (lines({"id": "a", "text": "x"}, "", {"id": "a", "text": "y"}), "line 3: duplicate id"),
        ("\n\n", "holds no documents"),
    ],
)
def test_bad_input_names_the_line(content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_jsonl(content)
