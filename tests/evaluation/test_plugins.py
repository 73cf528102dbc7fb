"""Weight-loading metric plugins: local paths only, loaded by entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportdraft.errors import ConfigurationError
from reportdraft.evaluation.plugins import load_plugins
from reportdraft.evaluation.scope import Candidate, CaseContext
from reportdraft.evaluation.suite import PluginSpec
from tests.evaluation.helpers import make_item

ENTRY = "tests.evaluation.plugin_example:WeightedOverlap"


def test_plugin_loads_from_a_local_path_and_scores(tmp_path: Path) -> None:
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"effusion": 2.0, "pneumothorax": 1.0}))
    (plugin,) = load_plugins([PluginSpec(name="w", entry=ENTRY, weights="weights.json")], tmp_path)
    item = make_item("A-1", "x.", "Left effusion. No pneumothorax.")
    values = plugin.score(CaseContext(item=item), Candidate.from_text("Small effusion."))
    assert values["weighted_overlap"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("weights", ["microsoft/deberta-xlarge-mnli", "/nonexistent/model"])
def test_hub_ids_and_missing_paths_are_refused(weights: str) -> None:
    with pytest.raises(ConfigurationError, match="never downloaded"):
        load_plugins([PluginSpec(name="w", entry=ENTRY, weights=weights)])


def test_entry_must_be_a_metric_plugin(tmp_path: Path) -> None:
    spec = PluginSpec(
        name="w", entry="reportdraft.evaluation.stats:Interval", weights=str(tmp_path)
    )
    with pytest.raises(ConfigurationError, match="not a MetricPlugin"):
        load_plugins([spec])
