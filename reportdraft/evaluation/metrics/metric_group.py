"""The metric interface: a named group of values computed per case, found by name.

A suite lists metric *groups* (``findings``, ``lexical``, ...); each group computes one
or more named values per case (``finding_precision``, ``finding_recall``, ...). Per-case
values are what the bootstrap resamples and what the CSV holds; the headline number of a
value is the mean over the cases that have one (None means "not defined for this case",
e.g. recall when the reference names no finding, and is left out rather than counted 0).
A group may also add corpus-level values (corpus BLEU, micro-averaged F1) that have no
per-case form. Groups are registered by name, like backends, never chosen by ``if/elif``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from reportdraft.errors import ConfigurationError
from reportdraft.evaluation.scope import Candidate, CaseContext

Basis = Literal["reference", "inputs", "usage"]
"""What a value is measured against: the signed reference, the case inputs, or nothing."""

Values = dict[str, float | None]


@dataclass(frozen=True, kw_only=True)
class MetricInfo:
    """Describes one value: how to read it and which direction is better."""

    name: str
    label: str
    higher_is_better: bool
    basis: Basis
    description: str
    needs_draft: bool = False
    percent: bool = False
    scale: float = 1.0
    """The size of the metric's range (100 for 0-100 scores; 1 for shares and counts), so
    that changes of different metrics can be compared as a share of their scale."""


class MetricGroup(ABC):
    """A group of related metric values; subclasses set ``name`` and ``infos``."""

    name: ClassVar[str]
    infos: ClassVar[tuple[MetricInfo, ...]]

    def available(self) -> str | None:
        """None when the group can run here, else why not (a missing stage module)."""
        return None

    @abstractmethod
    def score(self, ctx: CaseContext, candidate: Candidate) -> Values:
        """The per-case values of this group (every name in ``infos``; None = undefined)."""

    def corpus(self, ctxs: Sequence[CaseContext], candidates: Sequence[Candidate]) -> Values:
        """Corpus-level values with no per-case form; none by default."""
        return {}

    def corpus_infos(self) -> tuple[MetricInfo, ...]:
        """Descriptions of the values :meth:`corpus` returns."""
        return ()


_GROUPS: dict[str, Callable[[], MetricGroup]] = {}


def register_group(factory: type[MetricGroup]) -> type[MetricGroup]:
    """Class decorator: make the group available to suites under ``factory.name``."""
    if factory.name in _GROUPS and _GROUPS[factory.name] is not factory:
        raise ConfigurationError(f"metric group {factory.name!r} is already registered")
    _GROUPS[factory.name] = factory
    return factory


REPORT_ORDER = (
    "findings",
    "grounding",
    "errors",
    "critical",
    "recommendations",
    "structure",
    "edits",
    "lexical",
    "usage",
)
"""Built-in groups in the order reports show them (clinical first, lexical and cost last)."""


def group_names() -> list[str]:
    """Every registered metric group name: built-ins in report order, then plugins' groups."""
    known = [n for n in REPORT_ORDER if n in _GROUPS]
    return known + [n for n in _GROUPS if n not in known]


def build_groups(names: Sequence[str] | None) -> list[MetricGroup]:
    """Instantiate the named groups (all when ``names`` is None); unknown names fail loudly."""
    wanted = group_names() if names is None else list(names)
    unknown = [n for n in wanted if n not in _GROUPS]
    if unknown:
        raise ConfigurationError(
            f"unknown metric group(s) {', '.join(unknown)}; known: {', '.join(group_names())}"
        )
    return [_GROUPS[n]() for n in wanted]


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, None when the denominator is zero."""
    return numerator / denominator if denominator else None
