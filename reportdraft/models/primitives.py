"""Shared pydantic configuration and small value types used across the domain models."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base for every domain value: unknown keys are rejected, values are immutable.

    Immutability is what lets each pipeline stage return a *new* value instead of
    reaching back into an earlier stage's output (docs/ARCHITECTURE.md#data-flow).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Laterality(StrEnum):
    """Side of the body, as ordered, dictated or detected."""

    LEFT = "left"
    RIGHT = "right"
    BILATERAL = "bilateral"


class Severity(StrEnum):
    """Severity of a verifier flag; ``high`` blocks sign-off until acknowledged."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
