"""The critical-finding lexicon: which findings the detector looks for, and how urgent each is.

The lexicon is data (``reportdraft/data/vocab/critical_lexicon.yaml``, read through
:mod:`reportdraft.vocab`), validated on load so that
a typo in a site's file fails at start-up with the offending field named, not as a silently
missed finding. Sites extend or override the default with a file of the same schema.
Nothing here imports spaCy: the API and the comparison with AI findings need the lexicon
without paying for the NLP pipeline.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from reportdraft.errors import ConfigurationError
from reportdraft.models.critical import Category, MentionCode
from reportdraft.models.primitives import Strict
from reportdraft.vocab import load_file, vocab_path

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,60}$"
LEXICON_SCHEMA = "reportdraft.critical.lexicon/1"

Code = Annotated[str, Field(pattern=CODE_PATTERN)]
Phrase = Annotated[str, Field(min_length=1, max_length=120)]
TokenPattern = Annotated[list[dict[str, Any]], Field(min_length=1, max_length=20)]
"""A spaCy ``Matcher`` token pattern; spaCy validates its keys when the pipeline is built."""


class OrganContext(Strict):
    """The words that place an ambiguous finding ("nodule", "mass") in one organ.

    ``confirm``: words that name the organ (lung, pulmonary, upper lobe); ``others``: words
    naming other organs (thyroid, hepatic, adrenal); ``studies``: study body parts that are
    the organ's region (chest). See :mod:`reportdraft.critical.organs` for the rule.
    """

    confirm: list[Phrase] = Field(min_length=1)
    others: list[Phrase] = Field(default_factory=list)
    studies: list[Phrase] = Field(default_factory=list)


class LexiconEntry(Strict):
    """One critical finding: its code, ACR category and the words that name it.

    ``group`` ties findings that answer for each other when an impression is checked
    against AI findings and dictation (a subdural hematoma covers an "intracranial
    hemorrhage"); it defaults to the entry's own code. ``organ`` names an organ context:
    a mention then counts only where that organ is meant (a thyroid nodule is not a lung
    nodule).
    """

    code: Code
    label: Annotated[str, Field(min_length=1, max_length=200)]
    category: Category
    group: Code | None = None
    codes: list[MentionCode] = Field(default_factory=list)
    ai_types: list[Code] = Field(default_factory=list)
    terms: list[Phrase] = Field(default_factory=list)
    abbreviations: list[Annotated[str, Field(pattern=r"^\S{2,12}$")]] = Field(default_factory=list)
    patterns: list[TokenPattern] = Field(default_factory=list)
    exclusions: list[Phrase] = Field(default_factory=list)
    exclusion_patterns: list[TokenPattern] = Field(default_factory=list)
    organ: Code | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _has_words(self) -> LexiconEntry:
        if not (self.terms or self.abbreviations or self.patterns):
            raise ValueError(f"{self.code}: needs at least one of terms, abbreviations, patterns")
        return self

    @property
    def group_code(self) -> str:
        """The group this finding belongs to (its own code when none is given)."""
        return self.group or self.code


class LexiconFile(Strict):
    """The YAML document: a list of entries, plus, for a site file, codes to drop."""

    schema_id: Literal["reportdraft.critical.lexicon/1"] = Field(alias="schema")
    version: Annotated[str, Field(min_length=1, max_length=40)]
    organs: dict[Code, OrganContext] = Field(default_factory=dict)
    findings: list[LexiconEntry] = Field(default_factory=list)
    remove: list[Code] = Field(default_factory=list)


class CriticalLexicon(Strict):
    """A validated set of critical findings with lookups by code and by AI finding type."""

    version: str
    entries: list[LexiconEntry] = Field(min_length=1)
    organs: dict[str, OrganContext] = Field(default_factory=dict)
    _by_code: dict[str, LexiconEntry] = PrivateAttr(default_factory=dict)
    _by_ai_type: dict[str, LexiconEntry] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _index(self) -> CriticalLexicon:
        for entry in self.entries:
            if entry.code in self._by_code:
                raise ValueError(f"duplicate finding code {entry.code!r}")
            self._by_code[entry.code] = entry
        for entry in self.entries:
            for ai_type in entry.ai_types:
                other = self._by_ai_type.get(ai_type)
                if other is not None:
                    raise ValueError(
                        f"AI finding type {ai_type!r} is claimed by {other.code} and {entry.code}"
                    )
                self._by_ai_type[ai_type] = entry
        for entry in self.entries:
            self._by_ai_type.setdefault(entry.code, entry)
            if entry.organ is not None and entry.organ not in self.organs:
                raise ValueError(f"{entry.code}: organ {entry.organ!r} is not under `organs`")
        return self

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, code: str) -> LexiconEntry | None:
        """The entry with ``code``, or None."""
        return self._by_code.get(code)

    def for_ai_type(self, finding_type: str) -> LexiconEntry | None:
        """The entry an AI ``finding_type`` means (listed in ``ai_types`` or equal to a code)."""
        return self._by_ai_type.get(finding_type.strip().lower())

    def group_of(self, code: str) -> str:
        """The group of finding ``code`` (the code itself when it is not in the lexicon)."""
        entry = self._by_code.get(code)
        return entry.group_code if entry is not None else code

    def term_count(self) -> int:
        """How many terms, abbreviations and patterns the lexicon matches (for reports)."""
        return sum(len(e.terms) + len(e.abbreviations) + len(e.patterns) for e in self.entries)


def phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive regular expression matching any of ``phrases`` (None if empty).

    Words match whole ("lung" not inside "lunge"), inner spaces or hyphens are flexible
    ("non calcified", "non-calcified"), punctuation phrases ("?") match anywhere.
    """
    if not phrases:
        return None
    parts = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        body = r"[\s-]+".join(re.escape(w) for w in phrase.split())
        lead = r"(?<![A-Za-z0-9])" if phrase[0].isalnum() else ""
        tail = r"(?![A-Za-z0-9])" if phrase[-1].isalnum() else ""
        parts.append(lead + body + tail)
    return re.compile("|".join(parts), re.IGNORECASE)


def _parse_file(path: Path) -> LexiconFile:
    return load_file(path, LexiconFile, "critical-finding lexicon")


def load_lexicon(path: Path | None = None, *, site: Path | None = None) -> CriticalLexicon:
    """Load the lexicon at ``path`` (default: the bundled one), then apply a ``site`` file.

    A site file's entries replace default entries with the same code and add new ones;
    its ``remove`` list drops default codes; its ``organs`` replace organ contexts of the
    same name. Raises ConfigurationError on any invalid file.
    """
    base = _parse_file(path or vocab_path("critical_lexicon.yaml"))
    entries = {e.code: e for e in base.findings}
    organs = dict(base.organs)
    version = base.version
    if site is not None:
        override = _parse_file(site)
        unknown = [code for code in override.remove if code not in entries]
        if unknown:
            raise ConfigurationError(f"{site}: cannot remove unknown finding code(s) {unknown}")
        for code in override.remove:
            del entries[code]
        for entry in override.findings:
            entries[entry.code] = entry
        organs |= override.organs
        version = f"{version}+{override.version}"
    try:
        return CriticalLexicon(version=version, entries=list(entries.values()), organs=organs)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid critical-finding lexicon: {exc}") from exc


@lru_cache(maxsize=1)
def default_lexicon() -> CriticalLexicon:
    """The bundled lexicon, loaded once per process."""
    return load_lexicon()
