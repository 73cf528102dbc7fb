"""Section headers and sentence boundaries in free-text reports, by regular expression.

Sections matter for alerting: "r/o PE" under Indication is the clinical question, not a
finding. Sentences matter because a ConText cue reaches to the end of its sentence at
most. Both are found here with regular expressions over the raw text, which is much
faster than medspaCy's PyRuSH sentence splitter and knows radiology's habits: numbered
impression items ("1. Acute PE."), abbreviations ("Dr.", "vs."), MTSamples' run-together
headers ("FINDINGS: , The ..."), one statement per line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reportdraft.critical.finding_lexicon import phrase_pattern
from reportdraft.models.critical import Assertion
from reportdraft.models.draft import SectionKind
from reportdraft.models.primitives import Strict
from reportdraft.vocab import load_file, vocab_path

HeaderWord = Annotated[str, Field(min_length=2, max_length=60, pattern=r"^[A-Za-z][A-Za-z /&-]*$")]
Wording = Annotated[str, Field(min_length=1, max_length=60)]


class BoundedSection(Strict):
    """A section whose header governs only its own content (see ``sections.yaml``).

    ``same_line``: the header's own content is what stands on its line; a header alone on
    its line ("COMPARISON:" then a new line) owns no sentence of its own, and what follows
    must read like the section (``continues_with``) to belong to it.
    """

    continues_with: list[Wording] = Field(default_factory=list)
    same_line: bool = False


class SectionLexicon(Strict):
    """Which header words open which section, and what each section does to assertions."""

    schema_id: Literal["reportdraft.critical.sections/1"] = Field(alias="schema")
    headers: dict[SectionKind, list[HeaderWord]]
    assertion_override: dict[SectionKind, Assertion] = Field(default_factory=dict)
    alerting: list[SectionKind] = Field(min_length=1)
    bounded: dict[SectionKind, BoundedSection] = Field(default_factory=dict)
    unheaded: SectionKind = SectionKind.FINDINGS

    @model_validator(mode="after")
    def _unique_headers(self) -> SectionLexicon:
        seen: dict[str, SectionKind] = {}
        for kind, words in self.headers.items():
            for word in words:
                key = " ".join(word.lower().split())
                if key in seen and seen[key] != kind:
                    raise ValueError(f"header {word!r} listed for {seen[key]} and {kind}")
                seen[key] = kind
        return self

    @cached_property
    def _kind_of(self) -> dict[str, SectionKind]:
        return {
            " ".join(w.lower().split()): kind for kind, words in self.headers.items() for w in words
        }

    def kind_of(self, header: str) -> SectionKind | None:
        """The section a header word opens (case and inner spacing ignored)."""
        return self._kind_of.get(" ".join(header.lower().split()))

    def is_alerting(self, section: str | None) -> bool:
        """True when present/uncertain mentions in ``section`` alert (None: no section)."""
        return section is None or section in {k.value for k in self.alerting}

    def override_for(self, section: str | None) -> Assertion | None:
        """The assertion a section imposes on alerting mentions (Indication: hypothetical)."""
        if section is None:
            return None
        for kind, assertion in self.assertion_override.items():
            if kind.value == section:
                return assertion
        return None

    def header_words(self) -> list[str]:
        """All header words, longest first (so "clinical history" beats "history")."""
        words = {w for ws in self.headers.values() for w in ws}
        return sorted(words, key=lambda w: (-len(w), w))

    @cached_property
    def _continuations(self) -> dict[SectionKind, re.Pattern[str] | None]:
        return {kind: phrase_pattern(b.continues_with) for kind, b in self.bounded.items()}

    def continues(self, kind: SectionKind, sentence: str) -> bool:
        """True when ``sentence`` reads as more of a bounded section ``kind``'s content."""
        pattern = self._continuations.get(kind)
        return pattern is not None and pattern.search(sentence) is not None


def load_sections(path: Path | None = None) -> SectionLexicon:
    """Load and validate a section lexicon (default: the bundled one)."""
    return load_file(path or vocab_path("sections.yaml"), SectionLexicon, "section lexicon")


@lru_cache(maxsize=1)
def default_sections() -> SectionLexicon:
    """The bundled section lexicon, loaded once per process."""
    return load_sections()


@dataclass(frozen=True, slots=True)
class Header:
    """A section header found in text: where it is, where its content starts, what it opens.

    ``kind`` is None for headers the lexicon does not know ("BIOMETRY:", "LIVER:"): they
    still end a sentence, but do not change the section.
    """

    start: int
    end: int
    content_start: int
    title: str
    kind: SectionKind | None


_LEAD = r"(?:^|(?<=[\n.,;!?]))[ \t]*"
_GENERIC = re.compile(_LEAD + r"(?P<title>[A-Z][A-Z0-9 /&()'-]{1,40}?)[ \t]*:[ \t]*,?[ \t]*", re.M)


@lru_cache(maxsize=8)
def _header_patterns(words: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    alternation = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    with_colon = re.compile(
        _LEAD + rf"(?P<title>{alternation})[ \t]*:[ \t]*,?[ \t]*", re.IGNORECASE | re.MULTILINE
    )
    alone = re.compile(
        rf"^[ \t]*(?P<title>{alternation})[ \t]*(?=\r?\n|\Z)", re.IGNORECASE | re.MULTILINE
    )
    return with_colon, alone


def find_headers(text: str, lexicon: SectionLexicon) -> list[Header]:
    """Section headers in ``text`` in order; known headers win over generic capitals."""
    return scan_headers(text, tuple(lexicon.header_words()), lexicon.kind_of)


def scan_headers(
    text: str,
    words: tuple[str, ...],
    kind_of: Callable[[str], SectionKind | None] = lambda _title: None,
) -> list[Header]:
    """Headers built from ``words`` (longest first) plus generic ``CAPITALS:`` headers."""
    with_colon, alone = _header_patterns(words)
    found: dict[int, Header] = {}
    for pattern in (with_colon, alone):
        for m in pattern.finditer(text):
            title = m.group("title")
            start = m.start("title")
            found[start] = Header(start, m.end("title"), m.end(), title, kind_of(title))
    for m in _GENERIC.finditer(text):
        start = m.start("title")
        if start not in found and not any(
            h.start <= start < h.content_start for h in found.values()
        ):
            found[start] = Header(start, m.end("title"), m.end(), m.group("title"), None)
    return [found[k] for k in sorted(found)]


def section_spans(headers: list[Header], default: str | None) -> list[tuple[int, str | None]]:
    """``(offset, section)`` change points: the section in force from each offset on."""
    spans: list[tuple[int, str | None]] = [(0, default)]
    for header in headers:
        if header.kind is not None:
            spans.append((header.start, header.kind.value))
    return spans


def section_at(spans: list[tuple[int, str | None]], offset: int) -> str | None:
    """The section in force at character ``offset`` (``spans`` from :func:`section_spans`)."""
    current = spans[0][1]
    for start, section in spans:
        if start > offset:
            break
        current = section
    return current


_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")


class SectionMap:
    """The section of each sentence of a text, with headers that govern only their content.

    A header opens its section; a *bounded* section (History, Comparison, Technique in the
    bundled file) keeps its first sentence and, after it, only sentences that read like
    its content (its ``continues_with`` wording: a question, "history of", "rule out").
    Any other sentence before the next header, or anything after a blank line, is read as
    the ``unheaded`` section (Findings): in "COMPARISON: None. Large right pneumothorax."
    the pneumothorax is a finding, not a comparison.
    """

    def __init__(self, text: str, lexicon: SectionLexicon, default: str | None) -> None:
        self.text = text
        self.lexicon = lexicon
        self.headers = find_headers(text, lexicon)
        self.default = default

    def header_before(self, offset: int, *, known: bool) -> Header | None:
        """The last header (a known one when ``known``) starting at or before ``offset``."""
        found = None
        for header in self.headers:
            if header.start > offset:
                break
            if header.kind is not None or not known:
                found = header
        return found

    def section_of(self, start: int, end: int) -> tuple[str | None, SectionKind | None]:
        """The section of the sentence ``text[start:end]``, and the bounded section it was
        taken out of (None when its header governs it)."""
        header = self.header_before(start, known=True)
        if header is None or header.kind is None:
            return self.default, None
        kind = header.kind
        if kind not in self.lexicon.bounded:
            return kind.value, None
        before = self.text[header.content_start : start]
        if _BLANK_LINE.search(before):
            return self.lexicon.unheaded.value, kind  # a paragraph of its own
        first = not before.strip(" \t\r\n,")
        if first and self.lexicon.bounded[kind].same_line and "\n" in before:
            first = False  # "COMPARISON:" alone on its line owns nothing
        if first or self.lexicon.continues(kind, self.text[start:end]):
            return kind.value, None  # the header's own first sentence, or more of it
        return self.lexicon.unheaded.value, kind


ABBREVIATIONS = frozenset(
    {
        "dr",
        "mr",
        "mrs",
        "ms",
        "st",
        "sr",
        "jr",
        "pt",
        "pts",
        "vs",
        "approx",
        "e.g",
        "i.e",
        "cf",
        "fig",
        "resp",
        "incl",
        "al",
        "a.m",
        "p.m",
    }
)
"""Words whose trailing period does not end a sentence ("Dr. Smith", "vs. atelectasis")."""

_END = re.compile(r"[.!?]+[\"')\]]*[\s,]+(?=\S)")
_ANSWER_END = r"[ \t]*(?:[.,;!]|\r?\n|$)"
_NEWLINE = re.compile(r"\n[ \t]*(?=[A-Z0-9\-*\u2022])|\n[ \t]*\n\s*(?=\S)")


@lru_cache(maxsize=8)
def _answer_pattern(answers: tuple[str, ...]) -> re.Pattern[str] | None:
    if not answers:
        return None
    words = "|".join(r"\s+".join(map(re.escape, a.split())) for a in sorted(answers, key=len)[::-1])
    return re.compile(rf"(?:{words}){_ANSWER_END}", re.IGNORECASE)


def sentence_starts(
    text: str, headers: list[Header] | None = None, *, answers: tuple[str, ...] = ()
) -> list[int]:
    """Character offsets where sentences start (0 first), sorted and unique.

    A sentence ends at ``.``/``!``/``?`` followed by space or a comma (unless the word is an
    abbreviation, or a list number opening its sentence, "1."), at a line break before a
    capital, digit or bullet, at a blank line, and around section headers. A short answer
    in ``answers`` stays in its question's sentence ("Pneumothorax? No." is one sentence,
    and so is "FREE AIR: None."), so that a cue can reach the question's finding.
    """
    answer = _answer_pattern(answers)
    starts = {0}
    for m in _NEWLINE.finditer(text):
        if answer is None or not answer.match(text, m.end()):
            starts.add(m.end())
    for header in headers if headers is not None else []:
        starts.add(header.start)
        if answer is None or not answer.match(text, header.content_start):
            starts.add(header.content_start)
    for m in _END.finditer(text):
        end = m.start()
        if end == 0 or text[end - 1].isspace():
            continue  # "? PE": a question mark that opens a phrase
        if answer is not None and "?" in m.group() and answer.match(text, m.end()):
            continue  # "Pneumothorax? No."
        begin = end
        while begin > 0 and (text[begin - 1].isalnum() or text[begin - 1] in ".-/'&"):
            begin -= 1
        word = text[begin:end].lower()
        if word.rstrip(".") in ABBREVIATIONS:
            continue
        if word.isdigit() and len(word) <= 2:
            opening = max(s for s in starts if s <= end)
            if not text[opening:begin].strip(" \t,"):
                continue  # "2. Small pneumothorax": the number opens the item
        starts.add(m.end())
    return sorted(s for s in starts if s < len(text))


def split_sentences(text: str, headers: list[Header] | None = None) -> list[tuple[int, int]]:
    """Sentences of ``text`` as ``(start, end)`` offsets, surrounding whitespace trimmed."""
    starts = sentence_starts(text, headers)
    spans: list[tuple[int, int]] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunk = text[start:end]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk.rstrip(" \t\r\n,"))
        if trail > lead:
            spans.append((start + lead, start + trail))
    return spans
