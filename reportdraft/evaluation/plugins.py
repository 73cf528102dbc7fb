"""Optional heavier metrics (RadGraph F1, GREEN, BERTScore) behind a plugin interface.

These metrics need model weights. The project never downloads weights at run time, so a
plugin is given a *local path* the user provides (``weights:`` in the suite) and must load
from it only; a value that is not an existing local path (a hub id such as
``microsoft/deberta-xlarge-mnli``) is refused before the plugin is even imported.

A plugin is a :class:`~reportdraft.evaluation.metrics.MetricGroup` subclass whose
constructor takes ``weights: Path`` and ``options: dict``; it is named in the suite as
``module:Class``::

    plugins:
      - name: bertscore
        entry: my_site.metrics:BertScoreGroup
        weights: /models/roberta-large
        options: {batch_size: 16}
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportdraft.errors import ConfigurationError
from reportdraft.evaluation.metrics import MetricGroup
from reportdraft.evaluation.suite import PluginSpec


class MetricPlugin(MetricGroup):
    """Base class of weight-loading metric plugins: stores the local path and options."""

    def __init__(self, *, weights: Path, options: dict[str, Any]) -> None:
        """Keep the local ``weights`` path (already checked to exist) and the options."""
        self.weights = weights
        self.options = options


def local_weights(spec: PluginSpec, base: Path | None = None) -> Path:
    """The plugin's weights as an existing local path; anything else is refused."""
    path = Path(spec.weights).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.exists():
        raise ConfigurationError(
            f"plugin {spec.name!r}: weights {spec.weights!r} is not an existing local path; "
            "weights are never downloaded at run time — download them yourself and give "
            "the folder"
        )
    return path


def load_plugins(specs: Sequence[PluginSpec], base: Path | None = None) -> list[MetricGroup]:
    """Instantiate the suite's plugins (after checking each one's local weights)."""
    groups: list[MetricGroup] = []
    for spec in specs:
        weights = local_weights(spec, base)
        module_name, _, class_name = spec.entry.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigurationError(
                f"plugin {spec.name!r}: cannot import {module_name}: {exc}"
            ) from exc
        cls = getattr(module, class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, MetricPlugin)):
            raise ConfigurationError(f"plugin {spec.name!r}: {spec.entry} is not a MetricPlugin")
        groups.append(cls(weights=weights, options=dict(spec.options)))
    return groups
