"""Critical-finding detection over free text and draft statements.

A :class:`Detector` holds one lexicon, one rule set and one section lexicon, and builds
its spaCy pipeline the first time it is used. The module-level functions use the process's
*active* detector: the bundled data unless :func:`configure` installed site files at
start-up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportdraft.critical.context import (
    Cue,
    CueCategory,
    RuleSet,
    decide,
    default_rules,
    load_rules,
)
from reportdraft.critical.lexicon import Lexicon, default_lexicon, load_lexicon
from reportdraft.critical.nlp import EXCLUDED_LABEL, build_pipeline
from reportdraft.critical.sections import (
    SectionLexicon,
    default_sections,
    find_headers,
    load_sections,
    section_at,
    section_spans,
)
from reportdraft.errors import ConfigurationError
from reportdraft.models.critical import ALERTING, ContextTrigger, CriticalMention
from reportdraft.models.draft import Draft

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of text to scan, with the section it sits in and the statement it is."""

    text: str
    section: str | None = None
    statement_id: str | None = None


class Detector:
    """Finds critical-finding mentions and decides their assertion and alert.

    Thread-safe: the pipeline is built under a lock, and spaCy pipelines can be called
    from several threads once built.
    """

    def __init__(
        self,
        *,
        lexicon: Lexicon | None = None,
        rules: RuleSet | None = None,
        sections: SectionLexicon | None = None,
    ) -> None:
        self.lexicon = lexicon or default_lexicon()
        self.rules = rules or default_rules()
        self.sections = sections or default_sections()
        self._nlp: Language | None = None
        self._lock = threading.Lock()

    @property
    def nlp(self) -> Language:
        """The spaCy pipeline, built on first use (this is where spaCy gets imported)."""
        if self._nlp is None:
            with self._lock:
                if self._nlp is None:
                    self._nlp = build_pipeline(
                        self.lexicon, self.rules, self.sections.header_words()
                    )
        return self._nlp

    def detect_text(
        self, text: str, *, section_aware: bool = False, default_section: str | None = None
    ) -> list[CriticalMention]:
        """All mentions in ``text``, with offsets into ``text``.

        With ``section_aware`` the text's own headers ("INDICATION:", "FINDINGS: ,") set
        each mention's section, ``default_section`` applying before the first header;
        without it every mention gets ``default_section``.
        """
        if not text.strip():
            return []
        doc = self.nlp(text)
        if section_aware:
            spans = section_spans(find_headers(text, self.sections), default_section)
            return [
                self._mention(ent, section_at(spans, ent.start_char), None) for ent in _targets(doc)
            ]
        return [self._mention(ent, default_section, None) for ent in _targets(doc)]

    def detect_passages(self, passages: Sequence[Passage]) -> list[list[CriticalMention]]:
        """Mentions per passage (in order), batched through the pipeline."""
        texts = [p.text for p in passages]
        results: list[list[CriticalMention]] = []
        for passage, doc in zip(passages, self.nlp.pipe(texts), strict=True):
            results.append(
                [self._mention(ent, passage.section, passage.statement_id) for ent in _targets(doc)]
            )
        return results

    def detect_draft(self, draft: Draft) -> list[CriticalMention]:
        """Mentions in every statement of ``draft``; offsets index the statement's text."""
        passages = [
            Passage(st.text, section.kind.value, st.id)
            for section in draft.sections
            for st in section.statements
        ]
        return [m for found in self.detect_passages(passages) for m in found]

    def _mention(self, ent: Span, section: str | None, statement_id: str | None) -> CriticalMention:
        entry = self.lexicon.entry(ent.label_)
        if entry is None:  # only if a pipeline is shared between lexicons
            raise ConfigurationError(f"target label {ent.label_!r} is not in the lexicon")
        assertion, deciding = decide(_cues(ent))
        triggers = [cue.trigger() for cue in deciding]
        override = self.sections.override_for(section)
        if override is not None and assertion in ALERTING:
            assertion = override
            triggers = [
                ContextTrigger(
                    rule_id=f"section:{section}", text=str(section), category=override.value
                ),
                *triggers,
            ]
        return CriticalMention(
            finding_code=entry.code,
            label=entry.label,
            category=entry.category,
            assertion=assertion,
            section=section,
            start=ent.start_char,
            end=ent.end_char,
            text=ent.text,
            triggers=triggers,
            codes=list(entry.codes),
            statement_id=statement_id,
            alert=assertion in ALERTING and self.sections.is_alerting(section),
        )


def _targets(doc: Doc) -> Iterable[Span]:
    return (ent for ent in doc.ents if ent.label_ != EXCLUDED_LABEL)


def _cues(ent: Span) -> list[Cue]:
    cues: list[Cue] = []
    doc = ent.doc
    for modifier in ent._.modifiers:
        meta: dict[str, Any] = modifier.rule.metadata or {}
        start, end = modifier.modifier_span
        if start < ent.end and ent.start < end:
            continue  # a cue inside the finding's own words ("acute on chronic ...")
        distance = ent.start - end if end <= ent.start else start - ent.end
        cues.append(
            Cue(
                rule_id=str(meta.get("rule_id", modifier.rule.literal)),
                category=CueCategory(meta.get("category", "pseudo")),
                text=doc[start:end].text,
                distance=distance,
                resolves=bool(meta.get("resolves", False)),
            )
        )
    return cues


_active: Detector | None = None
_active_lock = threading.Lock()


def active_detector() -> Detector:
    """The detector the module-level functions use (bundled data unless configured)."""
    global _active
    if _active is None:
        with _active_lock:
            if _active is None:
                _active = Detector()
    return _active


def configure(
    *,
    lexicon: Path | None = None,
    rules: Path | None = None,
    sections: Path | None = None,
) -> Detector:
    """Install site files for this process (call once at start-up, from the settings).

    ``lexicon`` is a site lexicon applied over the bundled one; ``rules`` and ``sections``
    replace the bundled files. Everything is validated now, so a bad site file fails at
    start-up (ConfigurationError), not at the first report.
    """
    global _active
    detector = Detector(
        lexicon=load_lexicon(site=lexicon) if lexicon else None,
        rules=load_rules(rules) if rules else None,
        sections=load_sections(sections) if sections else None,
    )
    with _active_lock:
        _active = detector
    return detector


def detect_text(
    text: str, *, section_aware: bool = False, default_section: str | None = None
) -> list[CriticalMention]:
    """Critical-finding mentions in free text (see :meth:`Detector.detect_text`)."""
    return active_detector().detect_text(
        text, section_aware=section_aware, default_section=default_section
    )


def most_urgent_category(text: str) -> int | None:
    """The lowest ACR category among the alerting mentions in ``text``; None if none alerts."""
    categories = [m.category for m in detect_text(text) if m.alert]
    return min(categories) if categories else None


def detect_draft(draft: Draft) -> list[CriticalMention]:
    """Critical-finding mentions in a draft, per statement (see :meth:`Detector.detect_draft`)."""
    return active_detector().detect_draft(draft)
