"""The harness end to end with a deterministic drafter: scores, cache, thresholds, reports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from reportdraft.errors import BackendUnavailableError
from reportdraft.evaluation import BASELINE_NAME, Suite, run_suite, write_reports
from reportdraft.evaluation.runner import Drafter
from reportdraft.evaluation.suite import SystemSpec
from reportdraft.models import Case, Draft
from tests.evaluation.helpers import contexts, echo_drafter, make_item, suite_dict

ITEMS = [
    make_item(
        "ACC-1",
        "The lungs are clear. No acute cardiopulmonary process.",
        "No acute cardiopulmonary process.",
    ),
    make_item(
        "ACC-2-BAD",
        "Small left pleural effusion. Left basilar atelectasis.",
        "Small left pleural effusion with adjacent atelectasis.",
        modality="CT",
    ),
    make_item(
        "ACC-3",
        "Stable 6 mm nodule in the right upper lobe. No effusion.",
        "Stable 6 mm right upper lobe nodule.",
    ),
    make_item("ACC-4", "No pneumothorax. Mild cardiomegaly.", "Mild cardiomegaly."),
]


def echo_factory(spec: SystemSpec) -> Drafter:
    if spec.backend == "down":
        raise BackendUnavailableError("server down")
    return echo_drafter


def terse_factory(spec: SystemSpec) -> Drafter:
    """A second system: drafts only the first dictated sentence (omits the rest)."""

    def draft(case: Case) -> Draft:
        full = echo_drafter(case)
        first = full.sections[1].statements[:1]
        sections = [
            full.sections[0],
            full.sections[1].model_copy(update={"statements": first}),
            full.sections[2].model_copy(update={"statements": first}),
        ]
        return full.model_copy(update={"sections": sections})

    return draft if spec.name == "terse" else echo_drafter


def suite(**overrides: object) -> Suite:
    return Suite.model_validate(suite_dict(**overrides))


def run(tmp_path: Path, factory=echo_factory, **overrides: object):  # type: ignore[no-untyped-def]
    return run_suite(
        suite(**overrides),
        tmp_path,
        factory=factory,
        contexts=contexts(ITEMS),
        progress=False,
        prompt_version="test",
        injection=False,
    )


def test_scores_baseline_and_reports(tmp_path: Path) -> None:
    result = run(tmp_path)
    echo = result.system("echo")
    assert echo.failures == 0
    assert echo.cached == 0
    per_case = echo.scores.column("errors_laterality")
    assert per_case == [0.0, 1.0, 0.0, 0.0]
    baseline = result.system(BASELINE_NAME)
    assert baseline.scores.column("rouge_l")[0] > 50  # "No acute cardiopulmonary ..." floor
    assert baseline.scores.summary["hallucination_rate"] is None
    written = write_reports(result, tmp_path)
    assert [p.name for p in written] == ["results.json", "cases.csv", "report.html"]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["systems"][0]["name"] == "echo"
    assert data["baseline"]["metrics"]["rouge_l"]["n"] == 4
    rows = list(csv.DictReader(io.StringIO((tmp_path / "cases.csv").read_text())))
    assert len(rows) == 8
    assert {r["system"] for r in rows} == {"echo", BASELINE_NAME}
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html


def test_hallucination_rate_counts_flagged_statements(tmp_path: Path) -> None:
    result = run(tmp_path)
    column = result.system("echo").scores.column("hallucination_rate")
    # ACC-2-BAD: technique + 2 findings + 1 impression = 4 statements, S1 flagged.
    assert column == [0.0, 0.25, 0.0, 0.0]


def test_rerun_reads_the_cache_and_needs_no_backend(tmp_path: Path) -> None:
    first = run(tmp_path)
    calls: list[str] = []

    def counting(spec: SystemSpec) -> Drafter:
        calls.append(spec.name)
        return echo_drafter

    second = run(tmp_path, factory=counting)
    assert calls == []
    assert second.system("echo").cached == len(ITEMS)
    assert second.system("echo").scores.per_case == first.system("echo").scores.per_case
    # A different prompt version is a different key: everything is drafted again.
    third = run_suite(
        suite(),
        tmp_path,
        factory=counting,
        contexts=contexts(ITEMS),
        progress=False,
        prompt_version="other",
        injection=False,
    )
    assert calls == ["echo"]
    assert third.system("echo").cached == 0


def test_comparison_finds_the_worse_system(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        factory=terse_factory,
        systems=[{"name": "echo", "backend": "rules"}, {"name": "terse", "backend": "rules"}],
        stats={"resamples": 500},
    )
    recall = next(
        c
        for c in result.comparisons
        if c.metric == "finding_recall" and c.system == "terse" and c.against == "echo"
    )
    assert recall.result.delta < 0
    assert recall.verdict in {"worse", "no significant difference"}
    assert result.breakdowns["modality"]["terse"].keys() == {"CT", "XR"}


def test_threshold_failure_is_reported(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        thresholds={"echo": {"hallucination_rate": {"max": 0.01}, "finding_f1": {"min": 0.0}}},
    )
    assert not result.passed
    failed = [t for t in result.thresholds if not t.passed]
    assert len(failed) == 1
    assert failed[0].line().startswith("FAIL echo.hallucination_rate max 0.01")


def test_backend_that_cannot_start_fails_the_run(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError):
        run(tmp_path, systems=[{"name": "down", "backend": "down"}])


def test_max_cases_skips_without_failing_and_pairs_only_shared_cases(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        factory=terse_factory,
        systems=[
            {"name": "echo", "backend": "rules"},
            {"name": "terse", "backend": "rules", "max_cases": 2},
        ],
        stats={"resamples": 200},
    )
    terse = result.system("terse")
    assert (terse.failures, terse.skipped) == (0, 2)
    assert terse.scores.column("finding_f1")[2:] == [None, None]
    summary = terse.scores.summary["finding_f1"]
    assert summary is not None
    assert summary.n == 2
    rows = [c for c in result.comparisons if c.system == "terse" and c.against == "echo"]
    assert rows
    assert all(c.result.n <= 2 for c in rows)
    assert all(w.case_id in {"acc-1", "acc-2-bad"} for w in result.worst["terse"])


def test_a_changed_drafter_invalidates_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(tmp_path)
    from reportdraft.evaluation import harness

    monkeypatch.setattr(harness, "drafter_version", lambda template_dirs=(): "edited-drafter")
    again = run(tmp_path)
    assert again.system("echo").cached == 0


def test_drafter_version_covers_drafting_code_and_templates_not_metrics(tmp_path: Path) -> None:
    from reportdraft.evaluation.runner import tree_digest

    files = {
        "pkg/rules_drafter.py": "x = 1\n",
        "pkg/data/verify/findings.yaml": "a: 1\n",
        "pkg/data/evaluation/mtsamples.yaml": "b: 1\n",
        "pkg/evaluation/metrics.py": "y = 1\n",
        "templates/xr.yaml": "t: 1\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    roots = [(tmp_path / "pkg", "reportdraft"), (tmp_path / "templates", "templates")]
    before = tree_digest(roots)
    for unrelated in ("pkg/data/evaluation/mtsamples.yaml", "pkg/evaluation/metrics.py"):
        (tmp_path / unrelated).write_text("changed\n")
        assert tree_digest(roots) == before
    for related in ("pkg/rules_drafter.py", "pkg/data/verify/findings.yaml", "templates/xr.yaml"):
        (tmp_path / related).write_text("changed\n")
        assert tree_digest(roots) != before
        before = tree_digest(roots)
