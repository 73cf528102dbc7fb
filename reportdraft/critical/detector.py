"""Critical-finding detection over free text and draft statements.

A :class:`Detector` holds one lexicon, one rule set, one section lexicon and one alert
policy, and builds its spaCy pipeline the first time it is used. For each mention it takes
the ConText cues that reach it (none across a clause boundary, :mod:`clauses`), decides the
assertion and the temporality from them (:mod:`context_rules`), drops ambiguous findings that are
not in their organ (:mod:`organs`), and lets the policy (:mod:`policy`) and the section
decide the alert. The module-level functions use the process's *active* detector: the
bundled data unless :func:`configure` (or :func:`configure_site`, which the CLI and the
service call with ``REPORTDRAFT_CRITICAL_DIR``) installed site files at start-up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportdraft.critical.clauses import ClauseSplitter, Token, crosses
from reportdraft.critical.context_rules import (
    ContextRuleSet,
    Cue,
    CueCategory,
    decide,
    default_rules,
    load_rules,
    time_course,
)
from reportdraft.critical.finding_lexicon import (
    CriticalLexicon,
    LexiconEntry,
    default_lexicon,
    load_lexicon,
)
from reportdraft.critical.organs import OrganMatcher, Placement
from reportdraft.critical.policy import AlertPolicy, default_policy, load_policy
from reportdraft.critical.sections import (
    Header,
    SectionLexicon,
    SectionMap,
    default_sections,
    load_sections,
    scan_headers,
)
from reportdraft.critical.spacy_pipeline import EXCLUDED_LABEL, build_pipeline
from reportdraft.errors import ConfigurationError
from reportdraft.models.critical import (
    ALERTING,
    Assertion,
    ContextTrigger,
    CriticalMention,
    StudyScope,
    Temporality,
)
from reportdraft.models.draft import Draft, SectionKind

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

DetectText = Callable[[str], list[CriticalMention]]
"""A detector of critical mentions in one statement's text (:func:`detect_text` is one).

Attestation re-detects edited statements with it and the redline classifies alert
changes with it; tests pass small deterministic ones."""


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of text to scan, with the section it sits in and the statement it is."""

    text: str
    section: str | None = None
    statement_id: str | None = None


@dataclass(slots=True)
class _Where:
    """What one document contributes to the decision on each of its mentions."""

    doc: Doc
    study: StudyScope | None
    document: str
    sections: SectionMap | None = None
    breaks: dict[int, list[int]] = field(default_factory=dict)
    headers: list[Header] | None = None


class Detector:
    """Finds critical-finding mentions and decides their assertion, temporality and alert.

    Thread-safe: the pipeline is built under a lock, and spaCy pipelines can be called
    from several threads once built.
    """

    def __init__(
        self,
        *,
        lexicon: CriticalLexicon | None = None,
        rules: ContextRuleSet | None = None,
        sections: SectionLexicon | None = None,
        policy: AlertPolicy | None = None,
    ) -> None:
        self.lexicon = lexicon or default_lexicon()
        self.rules = rules or default_rules()
        self.sections = sections or default_sections()
        self.policy = policy or default_policy()
        self._clauses = ClauseSplitter(self.rules.clause_breaks)
        self._organs = {name: OrganMatcher(ctx) for name, ctx in self.lexicon.organs.items()}
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
        self,
        text: str,
        *,
        section_aware: bool = False,
        default_section: str | None = None,
        study: StudyScope | None = None,
    ) -> list[CriticalMention]:
        """All mentions in ``text``, with offsets into ``text``.

        With ``section_aware`` the text's own headers ("INDICATION:", "FINDINGS: ,") set
        each mention's section, ``default_section`` applying before the first header; a
        History, Comparison or Technique header governs only its own content
        (:class:`sections.SectionMap`). Without it every mention gets ``default_section``.
        ``study`` (optional) says what the study is, for findings whose organ the words
        leave open ("nodule").
        """
        if not text.strip():
            return []
        doc = self.nlp(text)
        where = _Where(doc, study, text)
        if section_aware:
            where.sections = SectionMap(text, self.sections, default_section)
        found: list[CriticalMention] = []
        for ent in _targets(doc):
            section, ended = default_section, None
            if where.sections is not None:
                section, ended = where.sections.section_of(ent.sent.start_char, ent.sent.end_char)
            mention = self._mention(ent, where, section, None, ended)
            if mention is not None:
                found.append(mention)
        return found

    def detect_passages(
        self,
        passages: Sequence[Passage],
        *,
        study: StudyScope | None = None,
        document: str | None = None,
    ) -> list[list[CriticalMention]]:
        """Mentions per passage (in order), batched through the pipeline.

        The passages are read as one report: ``document`` (default: their texts joined)
        is what an ambiguous finding's organ is inferred from when ``study`` is None.
        """
        texts = [p.text for p in passages]
        whole = document if document is not None else "\n".join(texts)
        results: list[list[CriticalMention]] = []
        for passage, doc in zip(passages, self.nlp.pipe(texts), strict=True):
            where = _Where(doc, study, whole)
            mentions = (
                self._mention(ent, where, passage.section, passage.statement_id, None)
                for ent in _targets(doc)
            )
            results.append([m for m in mentions if m is not None])
        return results

    def detect_draft(
        self, draft: Draft, *, study: StudyScope | None = None
    ) -> list[CriticalMention]:
        """Mentions in every statement of ``draft``; offsets index the statement's text."""
        passages = [
            Passage(st.text, section.kind.value, st.id)
            for section in draft.sections
            for st in section.statements
        ]
        return [m for found in self.detect_passages(passages, study=study) for m in found]

    def _mention(
        self,
        ent: Span,
        where: _Where,
        section: str | None,
        statement_id: str | None,
        ended: SectionKind | None,
    ) -> CriticalMention | None:
        entry = self.lexicon.entry(ent.label_)
        if entry is None:  # only if a pipeline is shared between lexicons
            raise ConfigurationError(f"target label {ent.label_!r} is not in the lexicon")
        if entry.organ is not None and not self._in_organ(entry, ent, where):
            return None
        cues = _cues(ent, self._breaks(ent, where))
        assertion, deciding = decide(cues)
        temporality, stated = time_course(cues, self.policy.precedence)
        if assertion is Assertion.NEGATED and temporality is not Temporality.RESOLVED:
            temporality, stated = None, []  # "stable ventriculomegaly without hydrocephalus"
        triggers = [cue.trigger() for cue in deciding]
        triggers += [cue.trigger() for cue in stated if cue not in deciding]
        expected = self._expected(cues, ent, where.document)
        override = self.sections.override_for(section)
        if override is not None and assertion in ALERTING:
            assertion = override
            triggers.insert(
                0,
                ContextTrigger(
                    rule_id=f"section:{section}", text=str(section), category=override.value
                ),
            )
        if ended is not None:
            triggers.insert(
                0,
                ContextTrigger(
                    rule_id=f"section_end:{ended.value}",
                    text=f"a finding after the {ended.value} header's own content",
                    category="section",
                ),
            )
        alert = self.policy.alerts(
            code=entry.code,
            category=entry.category,
            assertion=assertion,
            temporality=temporality,
            expected=expected is not None,
        )
        if assertion in self.policy.alerting_assertions and not alert:
            triggers.append(_policy_trigger(self.policy, entry, temporality, expected))
        return CriticalMention(
            finding_code=entry.code,
            label=entry.label,
            category=entry.category,
            assertion=assertion,
            temporality=temporality,
            section=section,
            start=ent.start_char,
            end=ent.end_char,
            text=ent.text,
            triggers=triggers,
            codes=list(entry.codes),
            statement_id=statement_id,
            alert=alert and self.sections.is_alerting(section),
        )

    def _breaks(self, ent: Span, where: _Where) -> list[int]:
        """Clause-starting commas of the mention's sentence (token indices), cached per doc."""
        sent = ent.sent
        cached = where.breaks.get(sent.start)
        if cached is None:
            tokens = [Token(t.lower_, t.like_num, bool(t.ent_type_)) for t in sent]
            cached = [sent.start + i for i in self._clauses.breaks(tokens)]
            where.breaks[sent.start] = cached
        return cached

    def _in_organ(self, entry: LexiconEntry, ent: Span, where: _Where) -> bool:
        matcher = self._organs.get(entry.organ or "")
        if matcher is None:
            return True
        if where.headers is None:
            where.headers = scan_headers(where.doc.text, tuple(self.sections.header_words()))
        title = None
        for header in where.headers:
            if header.start > ent.start_char:
                break
            title = header.title
        placement = Placement(ent.text, ent.sent.text, title, where.study, where.document)
        return matcher.fits(placement)

    def _expected(self, cues: list[Cue], ent: Span, document: str) -> Cue | None:
        """The expected post-operative cue that reaches the mention, unless another cue calls
        the finding unexpected or the sentence (else the report) states an interval beyond
        the window. A cue naming no procedure ("as expected") counts only where the sentence
        or the report names one ("Postoperative day 1 after prostatectomy. Small amount of
        pneumoperitoneum, as expected.")."""
        if any(c.category is CueCategory.UNEXPECTED for c in cues):
            return None
        sentence = ent.sent.text
        expected = [
            c
            for c in cues
            if c.category is CueCategory.EXPECTED
            and (
                not c.needs_procedure
                or self.policy.names_procedure(sentence)
                or self.policy.names_procedure(document)
            )
        ]
        if not expected or not self.policy.within_window(sentence, document):
            return None
        return min(expected, key=lambda c: c.distance)


def _policy_trigger(
    policy: AlertPolicy, entry: LexiconEntry, temporality: Temporality | None, expected: Cue | None
) -> ContextTrigger:
    """Why the policy keeps a present or uncertain mention silent (shown as a trigger): its
    time course for its category, else an expected post-operative cue."""
    if expected is not None and not policy.silences(entry.category, temporality):
        return ContextTrigger(
            rule_id="policy:expected_postoperative", text=expected.text[:200], category="policy"
        )
    course = temporality.value if temporality is not None else "unstated"
    return ContextTrigger(
        rule_id=f"policy:category_{entry.category}_{course}",
        text=f"{course} Category {entry.category} finding",
        category="policy",
    )


def _targets(doc: Doc) -> Iterable[Span]:
    return (ent for ent in doc.ents if ent.label_ != EXCLUDED_LABEL)


_ACROSS_CLAUSES = frozenset({CueCategory.EXPECTED, CueCategory.UNEXPECTED})
"""Cue categories that reach a finding across a comma clause boundary."""


def _cues(ent: Span, breaks: list[int]) -> list[Cue]:
    """The cues reaching ``ent``, minus those inside its words or beyond a clause boundary."""
    cues: list[Cue] = []
    doc = ent.doc
    for modifier in ent._.modifiers:
        meta: dict[str, Any] = modifier.rule.metadata or {}
        start, end = modifier.modifier_span
        if start < ent.end and ent.start < end:
            continue  # a cue inside the finding's own words ("acute on chronic ...")
        before = end <= ent.start
        category = CueCategory(meta.get("category", "pseudo"))
        # an attribution to a procedure may sit in an apposition ("free air, an expected
        # finding on postoperative day 1"); other cues stop at a clause boundary
        bounded = category not in _ACROSS_CLAUSES
        left = end
        if before and category is CueCategory.TEMPORAL and end < ent.start and doc[end].text == ",":
            left = end + 1  # "Chronic, partially calcified subdural": coordinate adjectives
        if bounded and (
            crosses(breaks, left, ent.start) if before else crosses(breaks, ent.end, start)
        ):
            continue  # "No effusion, large right pneumothorax": a new clause
        distance = ent.start - end if before else start - ent.end
        course = meta.get("temporality")
        cues.append(
            Cue(
                rule_id=str(meta.get("rule_id", modifier.rule.literal)),
                category=category,
                text=doc[start:end].text,
                distance=distance,
                resolves=bool(meta.get("resolves", False)),
                before=before,
                sign=bool(meta.get("sign", False)),
                needs_procedure=bool(meta.get("needs_procedure", False)),
                temporality=Temporality(course) if course else None,
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


def alerting_sections() -> frozenset[SectionKind]:
    """The report sections whose present or uncertain mentions alert.

    The one home of this rule is the active detector's section lexicon (``alerting`` in
    ``reportdraft/data/vocab/sections.yaml``, or a site file): attestation and the
    redline ask here instead of keeping a copy.
    """
    return frozenset(active_detector().sections.alerting)


def configure(
    *,
    lexicon: Path | None = None,
    rules: Path | None = None,
    sections: Path | None = None,
    policy: Path | None = None,
) -> Detector:
    """Install site files for this process (call once at start-up, from the settings).

    ``lexicon`` is a site lexicon applied over the bundled one; ``rules``, ``sections`` and
    ``policy`` (the alert policy) replace the bundled files. Everything is validated now, so
    a bad site file fails at start-up (ConfigurationError), not at the first report.
    """
    global _active
    detector = Detector(
        lexicon=load_lexicon(site=lexicon) if lexicon else None,
        rules=load_rules(rules) if rules else None,
        sections=load_sections(sections) if sections else None,
        policy=load_policy(policy) if policy else None,
    )
    with _active_lock:
        _active = detector
    return detector


SITE_FILES: dict[str, str] = {
    "lexicon": "lexicon.yaml",
    "rules": "context_rules.yaml",
    "sections": "sections.yaml",
    "policy": "alert_policy.yaml",
}
"""The files a site directory may hold (the bundled files' names), by :func:`configure`
argument. A facility defines its own critical-results list, so these are site data."""


def configure_site(directory: Path) -> Detector:
    """Install the site files found in ``directory`` (see :data:`SITE_FILES`).

    A directory that is missing or holds none of those files is a configuration mistake
    (ConfigurationError), not a silent fall-back to the bundled data: a site that set one
    expects its critical-results list to be the one in force.
    """
    if not directory.is_dir():
        raise ConfigurationError(f"critical-finding site directory {directory} is not a directory")
    found = {
        arg: directory / name for arg, name in SITE_FILES.items() if (directory / name).is_file()
    }
    if not found:
        raise ConfigurationError(
            f"critical-finding site directory {directory} holds none of "
            f"{', '.join(SITE_FILES.values())}"
        )
    return configure(**found)


def detect_text(
    text: str,
    *,
    section_aware: bool = False,
    default_section: str | None = None,
    study: StudyScope | None = None,
) -> list[CriticalMention]:
    """Critical-finding mentions in free text (see :meth:`Detector.detect_text`)."""
    return active_detector().detect_text(
        text, section_aware=section_aware, default_section=default_section, study=study
    )


def most_urgent_category(text: str, study: StudyScope | None = None) -> int | None:
    """The lowest ACR category among the alerting mentions in ``text``; None if none alerts."""
    categories = [m.category for m in detect_text(text, study=study) if m.alert]
    return min(categories) if categories else None


def detect_draft(draft: Draft, study: StudyScope | None = None) -> list[CriticalMention]:
    """Critical-finding mentions in a draft, per statement (see :meth:`Detector.detect_draft`)."""
    return active_detector().detect_draft(draft, study=study)
