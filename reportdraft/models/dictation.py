"""The normalised dictation: sentences with stable ids and offsets into the raw transcript."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from reportdraft.models.base import Strict
from reportdraft.models.draft import SectionKind


class DictationSentence(Strict):
    """One dictated sentence after normalisation.

    ``id`` is ``D1``, ``D2``, ... in dictation order, stable for the same transcript.
    ``start``/``end`` are character offsets into the *raw* transcript, so a reviewer can
    highlight exactly what the radiologist said. ``section`` is the report section the
    radiologist dictated it under ("impression colon ..."), or None when no header was spoken.
    """

    id: Annotated[str, Field(pattern=r"^D\d+$")]
    text: Annotated[str, Field(min_length=1)]
    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    section: SectionKind | None = None
    paragraph: Annotated[int, Field(ge=0)] = 0


class NormalizedDictation(Strict):
    """The transcript and its normalised sentences.

    ``raw`` is kept byte for byte (no whitespace stripping), because sentence offsets index it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    raw: str
    sentences: list[DictationSentence]

    def by_id(self, sentence_id: str) -> DictationSentence | None:
        """The sentence with ``sentence_id``, or None."""
        return next((s for s in self.sentences if s.id == sentence_id), None)
