"""The normalised dictation: sentences with stable ids and offsets into the raw transcript."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from reportdraft.models.draft import SectionKind
from reportdraft.models.primitives import Strict


class InstructionMark(Strict):
    """Why a dictated sentence was read as addressed to the drafting system, not as content.

    ``cue`` is the id of the cue in ``reportdraft/data/vocab/dictation_instructions.yaml`` that
    matched first (``continuation`` for a sentence marked only because the sentence before
    it, ``continues``, addressed the system and left the instruction open); ``reason`` is
    the sentence shown to the radiologist, with the words that matched. Such a sentence is
    never placed in a draft nor shown to a model; the verifier lists it in one
    high-severity ``instruction_in_dictation`` flag.
    """

    cue: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
    reason: Annotated[str, Field(min_length=1, max_length=300)]
    continues: Annotated[str, Field(pattern=r"^D\d+$")] | None = None


class DictationSentence(Strict):
    """One dictated sentence after normalisation.

    ``id`` is ``D1``, ``D2``, ... in dictation order, stable for the same transcript.
    ``start``/``end`` are character offsets into the *raw* transcript, so a reviewer can
    highlight exactly what the radiologist said. ``section`` is the report section the
    radiologist dictated it under ("impression colon ..."), or None when no header was spoken.
    ``instruction`` is set when the sentence is addressed to the drafting system rather
    than being report content (:mod:`reportdraft.dictation.instructions`).
    """

    id: Annotated[str, Field(pattern=r"^D\d+$")]
    text: Annotated[str, Field(min_length=1)]
    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    section: SectionKind | None = None
    paragraph: Annotated[int, Field(ge=0)] = 0
    instruction: InstructionMark | None = None


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

    def content(self) -> list[DictationSentence]:
        """The sentences that are report content (every one not marked as an instruction)."""
        return [s for s in self.sentences if s.instruction is None]

    def instructions(self) -> list[DictationSentence]:
        """The sentences read as addressed to the drafting system, in dictation order."""
        return [s for s in self.sentences if s.instruction is not None]
