"""The guidelines as versioned data: one loader for ``data/guidelines/*.yaml``.

Each file holds one guideline: its id (the interface's spelling), version, citation, the
phrase a report cites it with (``cite_as``), its thresholds and, per rule id, the finding
it covers and the management steps (action, interval in months, optional or not, the
guideline's words). The engine code decides *which* rule applies from the facts; *what*
the rule recommends lives here, so a new edition is a reviewed data change. The loader
validates everything and names the file and field of any mistake.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError

from reportdraft.errors import ConfigurationError
from reportdraft.models.guidelines import Action, GuidelineId, Interval
from reportdraft.models.primitives import Strict
from reportdraft.resources import package_data


class Step(Strict):
    """One management step or option of a rule."""

    action: Action
    interval: Interval | None = None
    optional: bool = False
    text: Annotated[str, Field(min_length=1, max_length=300)]


class Rule(Strict):
    """A rule: the finding it covers, the category it assigns (if any) and its steps."""

    category: Annotated[str, Field(max_length=8)] | None = None
    finding: Annotated[str, Field(min_length=1, max_length=300)]
    steps: list[Step] = Field(min_length=1)


class Guideline(Strict):
    """One guideline file."""

    id: GuidelineId
    version: Annotated[str, Field(min_length=1, max_length=40)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    citation: Annotated[str, Field(min_length=1, max_length=600)]
    cite_as: Annotated[str, Field(min_length=1, max_length=120)]
    thresholds: dict[str, Any] = Field(default_factory=dict)
    points: dict[str, dict[str, int]] = Field(default_factory=dict)
    levels: dict[str, int] = Field(default_factory=dict)
    thresholds_cm: dict[str, tuple[float | None, float | None]] = Field(default_factory=dict)
    rules: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]{0,60}$")], Rule] = Field(
        min_length=1
    )

    def rule(self, rule_id: str) -> Rule:
        """The rule ``rule_id``; a missing one is a broken data file, said loudly."""
        try:
            return self.rules[rule_id]
        except KeyError:
            raise ConfigurationError(
                f"guideline {self.id}: no rule {rule_id!r} in data/guidelines/{self.id}.yaml"
            ) from None

    def threshold(self, name: str) -> float:
        """A numeric threshold of ``thresholds`` (a missing one is a broken data file)."""
        value = self.thresholds.get(name)
        if not isinstance(value, int | float):
            raise ConfigurationError(
                f"guideline {self.id}: threshold {name!r} missing or not a number"
            )
        return float(value)

    def band(self, name: str) -> dict[str, float]:
        """A named group of thresholds (``solid: {cat3: 6, ...}``)."""
        value = self.thresholds.get(name)
        if not isinstance(value, dict) or not all(
            isinstance(v, int | float) for v in value.values()
        ):
            raise ConfigurationError(f"guideline {self.id}: threshold group {name!r} malformed")
        return {str(k): float(v) for k, v in value.items()}


GUIDELINE_IDS: tuple[str, ...] = (
    "fleischner-2017",
    "lung-rads-2022",
    "acr-tirads-2017",
    "acr-adrenal-2017",
    "bosniak-2019",
    "bi-rads-2013",
)
"""Every guideline the engine applies, in the order the output lists them."""


def load_guideline(guideline_id: str) -> Guideline:
    """Load and validate ``data/guidelines/<id>.yaml``."""
    path = package_data("guidelines", f"{guideline_id}.yaml")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read {path.name}: {exc}") from exc
    try:
        guideline = Guideline.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"{path.name}: {where}: {first['msg']}") from exc
    if guideline.id != guideline_id:
        raise ConfigurationError(f"{path.name}: id {guideline.id!r} does not match the file name")
    return guideline


@cache
def guideline(guideline_id: str) -> Guideline:
    """The bundled guideline ``guideline_id`` (loaded once)."""
    return load_guideline(guideline_id)
