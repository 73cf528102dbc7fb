"""BERTScore as a metric plugin, with the encoder read from a local folder.

The scoring is the ``bert-score`` package's (greedy cosine matching of contextual token
embeddings); this module only loads the encoder from the path the suite names, never
from a hub, and scores the same reference scope as ROUGE-L::

    plugins:
      - name: bertscore
        entry: reportdraft.evaluation.bertscore:BertScore
        weights: /models/roberta-large        # any local Hugging Face encoder folder
        options: {num_layers: 17, batch_size: 32}

``num_layers`` (which hidden layer's embeddings are matched) defaults to the encoder's
last layer, read from its ``config.json``. Install with ``pip install 'reportdraft[bertscore]'``.

Why it is worth having beside the finding metrics: the error-injection table shows what
it is blind to. A laterality swap or a flipped negation changes one token, and BERTScore
barely moves; the finding F1 and the verifier's error counts do.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any, ClassVar

from reportdraft.errors import ConfigurationError
from reportdraft.evaluation.metrics.metric_group import MetricInfo, Values
from reportdraft.evaluation.plugins import MetricPlugin
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope


def _last_layer(weights: Path) -> int:
    config = weights / "config.json"
    try:
        layers = json.loads(config.read_text(encoding="utf-8"))["num_hidden_layers"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError(
            f"bertscore: cannot read num_hidden_layers from {config} ({exc}); "
            "give options.num_layers"
        ) from exc
    return int(layers)


class BertScore(MetricPlugin):
    """BERTScore F1 ×100 of the draft against the reference (bert-score, local encoder)."""

    name: ClassVar[str] = "bertscore"
    infos: ClassVar[tuple[MetricInfo, ...]] = (
        MetricInfo(
            name="bertscore_f1",
            label="BERTScore F1",
            higher_is_better=True,
            basis="reference",
            scale=100.0,
            description=(
                "BERTScore F1 ×100 against the reference (bert-score package, encoder from "
                "the suite's local weights folder, no baseline rescaling)."
            ),
        ),
    )

    def __init__(self, *, weights: Path, options: dict[str, Any]) -> None:
        """Keep the folder and options; the encoder loads on the first score."""
        super().__init__(weights=weights, options=options)
        self._scorer: Any = None

    def available(self) -> str | None:
        """None when ``bert-score`` is installed."""
        if importlib.util.find_spec("bert_score") is None:
            return "bert-score is not installed (pip install 'reportdraft[bertscore]')"
        return None

    def _bert_scorer(self) -> Any:
        if self._scorer is None:
            from bert_score import BERTScorer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # ours shows
            layers = self.options.get("num_layers") or _last_layer(self.weights)
            self._scorer = BERTScorer(
                model_type=str(self.weights),
                num_layers=int(layers),
                batch_size=int(self.options.get("batch_size", 32)),
                device=str(self.options.get("device", "cpu")),
            )
        return self._scorer

    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """BERTScore F1 of the candidate over the reference scope (0 for an empty side)."""
        scope = reference_scope(ctx.item.reference)
        if scope is None:
            return {"bertscore_f1": None}
        text = scope.candidate_text(candidate)
        if not text.strip() or not scope.reference_text.strip():
            return {"bertscore_f1": 0.0}
        _precision, _recall, f1 = self._bert_scorer().score([text], [scope.reference_text])
        return {"bertscore_f1": float(f1[0]) * 100}
