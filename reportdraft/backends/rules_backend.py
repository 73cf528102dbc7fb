"""The ``rules`` backend: no model at all; drafting uses the deterministic drafter alone.

It exists so that ``--backend rules`` goes through the same registry and pipeline as the
model backends (no special case in the CLI or API). ``generates_text`` is False, which tells
the drafter to return the deterministic draft unchanged.
"""

from __future__ import annotations

from typing import ClassVar

from reportdraft.backends.interface import Backend, BackendOptions, Generation, GenerationRequest
from reportdraft.backends.registry import register
from reportdraft.errors import BackendUnavailableError


@register("rules")
class RulesBackend(Backend):
    """The deterministic drafter as a backend (no model, no tokens)."""

    name: ClassVar[str] = "rules"
    generates_text: ClassVar[bool] = False

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.model_id = "rules"

    def generate(self, request: GenerationRequest) -> Generation:
        """Never called by drafting; a caller asking for text gets a clear error."""
        raise BackendUnavailableError(
            "the rules backend drafts deterministically and generates no text"
        )
