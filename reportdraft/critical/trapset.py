"""Scoring a detector against a trap set: expected mentions per text, alert precision/recall.

Shared by the trap-set test and the benchmark so that both count the same way, and usable
by sites that write trap sets for their own lexicon. A detector under test is any function
from a trap item to predicted ``(code, assertion, alert)`` triples in reading order, so the
baselines (medspaCy defaults, negspaCy) are scored by the same code as ours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from reportdraft.critical.finding_lexicon import Code
from reportdraft.models.critical import Assertion, Category, StudyScope, Temporality
from reportdraft.models.draft import SectionKind
from reportdraft.models.primitives import Strict
from reportdraft.vocab import load_file


class Expected(Strict):
    """One expected mention. ``temporality`` is checked only when given ("none": the text
    states no time course)."""

    code: Code
    category: Category
    assertion: Assertion
    alert: bool
    section: SectionKind | None = None
    temporality: Temporality | Literal["none"] | None = None


class TrapItem(Strict):
    """One text with its expected mentions, in reading order. ``body_part`` is the study
    the text reports, passed to the detector as its :class:`StudyScope`."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,80}$")]
    rule: Annotated[str, Field(min_length=1, max_length=60)]
    text: Annotated[str, Field(min_length=1)]
    section: SectionKind | None = None
    section_aware: bool = False
    body_part: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    note: str | None = None
    expect: list[Expected]

    def study(self) -> StudyScope | None:
        """The study context to give the detector (None when the item names none)."""
        return StudyScope(body_part=self.body_part) if self.body_part else None


class TrapSet(Strict):
    """A trap-set file."""

    schema_id: Literal["reportdraft.critical.trapset/1"] = Field(alias="schema")
    items: list[TrapItem] = Field(min_length=1)


def load_trap_set(path: Path) -> TrapSet:
    """Load and validate a trap-set YAML file."""
    return load_file(path, TrapSet, "trap set")


@dataclass(frozen=True, slots=True)
class Predicted:
    """What a detector said about one mention (``temporality``: None when it states none or
    the detector does not report one)."""

    code: str
    assertion: str
    alert: bool
    temporality: str | None = None


@dataclass(slots=True)
class Score:
    """Counts over a trap set; ``errors`` lists what went wrong, item by item."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    assertion_right: int = 0
    matched: int = 0
    missed_mentions: int = 0
    spurious_mentions: int = 0
    temporality_checked: int = 0
    temporality_right: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Alert precision (1.0 when nothing alerted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Alert recall (1.0 when nothing should alert)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def assertion_accuracy(self) -> float:
        """Share of matched mentions whose assertion is the expected one."""
        return self.assertion_right / self.matched if self.matched else 1.0

    @property
    def temporality_accuracy(self) -> float:
        """Share of matched mentions with an expected temporality that got it right."""
        return (
            self.temporality_right / self.temporality_checked if self.temporality_checked else 1.0
        )

    def summary(self) -> dict[str, float | int]:
        """The numbers, for JSON."""
        return {
            "alert_precision": round(self.precision, 4),
            "alert_recall": round(self.recall, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "assertion_accuracy": round(self.assertion_accuracy, 4),
            "temporality_accuracy": round(self.temporality_accuracy, 4),
            "temporality_checked": self.temporality_checked,
            "matched_mentions": self.matched,
            "missed_mentions": self.missed_mentions,
            "spurious_mentions": self.spurious_mentions,
        }


def score(items: Iterable[TrapItem], predict: Callable[[TrapItem], list[Predicted]]) -> Score:
    """Run ``predict`` on every item and count alert outcomes mention by mention.

    Predictions are paired with expectations per finding code, in reading order (the
    k-th predicted pneumothorax with the k-th expected one). An unpaired prediction that
    alerts is a false positive; an unpaired expectation that should alert is a miss.
    """
    result = Score()
    for item in items:
        predicted = predict(item)
        by_code: dict[str, list[Predicted]] = defaultdict(list)
        for p in predicted:
            by_code[p.code].append(p)
        used: dict[str, int] = defaultdict(int)
        for exp in item.expect:
            index = used[exp.code]
            used[exp.code] += 1
            got = by_code[exp.code][index] if index < len(by_code[exp.code]) else None
            if got is None:
                result.missed_mentions += 1
                if exp.alert:
                    result.fn += 1
                    result.errors.append(f"{item.id}: missed {exp.code} (should alert)")
                continue
            result.matched += 1
            if got.assertion == exp.assertion.value:
                result.assertion_right += 1
            else:
                result.errors.append(
                    f"{item.id}: {exp.code} {got.assertion} (expected {exp.assertion.value})"
                )
            if exp.temporality is not None:
                _check_time_course(result, exp.temporality, got.temporality, item.id, exp.code)
            _count(result, exp.alert, got.alert, item.id, exp.code)
        for code, preds in by_code.items():
            for extra in preds[used[code] :]:
                result.spurious_mentions += 1
                if extra.alert:
                    result.fp += 1
                    result.errors.append(f"{item.id}: spurious alerting {code}")
    return result


def _check_time_course(
    result: Score, expected: str, got: str | None, item_id: str, code: str
) -> None:
    result.temporality_checked += 1
    if (got or "none") == expected:
        result.temporality_right += 1
    else:
        result.errors.append(f"{item_id}: {code} temporality {got} (expected {expected})")


def _count(result: Score, expected: bool, got: bool, item_id: str, code: str) -> None:
    if expected and got:
        result.tp += 1
    elif expected:
        result.fn += 1
        result.errors.append(f"{item_id}: {code} did not alert")
    elif got:
        result.fp += 1
        result.errors.append(f"{item_id}: {code} alerted wrongly")
    else:
        result.tn += 1
