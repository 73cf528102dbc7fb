"""The dictation lexicons: spoken commands, section headers, abbreviations, numbers, units.

They are data (``reportdraft/data/vocab/dictation_commands.yaml`` and the shared
``numbers.yaml``, read through :mod:`reportdraft.vocab`) because voice engines and sites
differ in what they say ("full stop" or "period", "cc" or "mL") and because the traps
("postpartum period", "sigmoid colon") are lists a radiologist can read and extend without
touching code. Each file is validated on load with unknown keys rejected, then compiled
once into lookup tables and the tokenizer regex, so normalising a transcript costs no
parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportdraft.models.draft import SectionKind
from reportdraft.vocab import NumbersVocab, load_file, vocab_path

Action = Literal[
    "period",
    "comma",
    "colon",
    "semicolon",
    "question",
    "open_paren",
    "close_paren",
    "hyphen",
    "new_line",
    "new_paragraph",
    "scratch",
    "correction",
]
"""What a spoken command does; the punctuation each produces is fixed in the editor."""

Word = Annotated[str, Field(pattern=r"^[a-z0-9']+$")]
Phrase = Annotated[str, Field(pattern=r"^[a-z0-9']+( [a-z0-9']+)*$")]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandSpec(_Schema):
    """One spoken command: the phrases that say it, what it does, and its word contexts.

    ``command_if_next`` (phrases) wins over both word lists: "period of" is a word, but
    "period of note" is a full stop followed by "Of note".
    """

    phrases: list[Phrase] = Field(min_length=1)
    action: Action
    word_if_previous: frozenset[Word] = frozenset()
    word_if_next: frozenset[Word] = frozenset()
    command_if_next: frozenset[Phrase] = frozenset()


class AbbreviationSpec(_Schema):
    """Words that keep their period: always, or only before a number ("No. 5")."""

    always: list[Word] = Field(default_factory=list)
    before_number: list[Word] = Field(default_factory=list)


class CommandsFile(_Schema):
    """Schema of ``commands.yaml``."""

    version: Literal[1]
    commands: list[CommandSpec] = Field(min_length=1)
    headers: dict[SectionKind, list[Phrase]]
    abbreviations: AbbreviationSpec
    laterality: list[Word] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_phrases(self) -> CommandsFile:
        seen: set[str] = set()
        for spec in self.commands:
            for phrase in spec.phrases:
                if phrase in seen:
                    raise ValueError(f"command phrase {phrase!r} is listed twice")
                seen.add(phrase)
        seen.clear()
        for phrases in self.headers.values():
            for phrase in phrases:
                if phrase in seen:
                    raise ValueError(f"header phrase {phrase!r} is listed twice")
                seen.add(phrase)
        return self


@dataclass(frozen=True, slots=True)
class DictationLexicon:
    """The compiled lexicons: phrase tables keyed by word tuples and the tokenizer regex.

    ``triggers`` holds every word that can start a command, header, number or spinal
    level, so the editor copies all other words through at the cost of one set look-up.

    Build one with :func:`load_lexicon` (the bundled files, or a site's own copies) and
    pass it to :func:`reportdraft.dictation.normalize`; the default is built at import.
    """

    commands: dict[tuple[str, ...], CommandSpec]
    max_command_words: int
    period_phrases: frozenset[tuple[str, ...]]
    headers: dict[tuple[str, ...], SectionKind]
    max_header_words: int
    laterality: frozenset[str]
    ones: dict[str, int]
    tens: dict[str, int]
    hundred: frozenset[str]
    thousand: frozenset[str]
    decimal_point: frozenset[str]
    decimal_digits: dict[str, int]
    dimension: frozenset[str]
    units: dict[tuple[str, ...], str]
    unit_starts: frozenset[str]
    max_unit_words: int
    count_nouns: frozenset[str]
    point_not_after: frozenset[str]
    spine_letters: frozenset[str]
    triggers: frozenset[str]
    token_re: re.Pattern[str]

    def is_number_word(self, word: str) -> bool:
        """True for a word that can start a spoken number ("two", "twenty", "point")."""
        return word in self.ones or word in self.tens or word in self.decimal_point


def _tokenizer(abbreviations: AbbreviationSpec) -> re.Pattern[str]:
    """The one tokenizer regex; abbreviation alternatives come from the lexicon.

    Alternatives are tried in order at each position: whitespace, abbreviations that keep
    their period, dotted abbreviations ("e.g."), numbers with an optional decimal part
    ("2.3" stays one token so it never splits a sentence), words, then any other single
    character as punctuation. Every character of the input lands in exactly one token.
    """
    always = "|".join(sorted((re.escape(a) for a in abbreviations.always), key=len, reverse=True))
    numbered = "|".join(
        sorted((re.escape(a) for a in abbreviations.before_number), key=len, reverse=True)
    )
    parts = [r"(?P<ws>\s+)"]
    if always:
        parts.append(rf"(?P<abbr>(?<![\w.])(?i:{always})\.)")
    if numbered:
        parts.append(rf"(?P<numabbr>(?<![\w.])(?i:{numbered})\.(?=[ \t]?\d))")
    parts += [
        r"(?P<dotted>(?<![\w.])(?:[^\W\d_]\.){2,})",
        r"(?P<num>\d+(?:,\d{3}(?!\d))*(?:\.\d+)?)",
        r"(?P<word>[^\W_](?:[\w'’]*[^\W_])?)",
        r"(?P<punct>[^\w\s]|_)",
    ]
    return re.compile("|".join(parts))


def _table(phrases: dict[str, list[str]]) -> dict[tuple[str, ...], str]:
    return {tuple(p.split()): key for key, items in phrases.items() for p in items}


def load_lexicon(
    commands_path: Path | None = None, numbers_path: Path | None = None
) -> DictationLexicon:
    """Load, validate and compile the dictation lexicons.

    Without arguments the bundled files are used; a site passes its own copies. A
    malformed file raises :class:`~reportdraft.errors.ConfigurationError` naming the file,
    so a bad override fails at start-up rather than mid-read.
    """
    cpath = commands_path or vocab_path("dictation_commands.yaml")
    npath = numbers_path or vocab_path("numbers.yaml")
    cmds = load_file(cpath, CommandsFile, "dictation lexicon")
    nums = load_file(npath, NumbersVocab, "number vocabulary")

    commands = {tuple(p.split()): spec for spec in cmds.commands for p in spec.phrases}
    headers = {tuple(p.split()): kind for kind, items in cmds.headers.items() for p in items}
    units = _table(nums.units)
    units.update({tuple(p.split()): "%" for p in nums.percent})
    # Words that can start a rule; any other word is copied through without a look-up.
    triggers = frozenset(
        {k[0] for k in commands}
        | {k[0] for k in headers}
        | set(nums.ones)
        | set(nums.tens)
        | set(nums.decimal_point)
        | set(nums.spine_letters)
    )
    return DictationLexicon(
        commands=commands,
        max_command_words=max(len(k) for k in commands),
        period_phrases=frozenset(k for k, s in commands.items() if s.action == "period"),
        headers=headers,
        max_header_words=max((len(k) for k in headers), default=0),
        laterality=frozenset(cmds.laterality),
        ones=dict(nums.ones),
        tens=dict(nums.tens),
        hundred=frozenset(nums.hundred),
        thousand=frozenset(nums.thousand),
        decimal_point=frozenset(nums.decimal_point),
        decimal_digits={**{w: v for w, v in nums.ones.items() if v < 10}, **nums.decimal_digits},
        dimension=frozenset(nums.dimension),
        units=units,
        unit_starts=frozenset(k[0] for k in units),
        max_unit_words=max((len(k) for k in units), default=0),
        count_nouns=frozenset(nums.count_nouns),
        point_not_after=frozenset(nums.point_not_after),
        spine_letters=frozenset(nums.spine_letters),
        triggers=triggers,
        token_re=_tokenizer(cmds.abbreviations),
    )
