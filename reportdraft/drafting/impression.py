"""The Impression of a deterministic draft: kept as dictated, or built from the Findings.

One home for the rules drafter's impression logic (:func:`plan_impression`, called by
:mod:`reportdraft.drafting.deterministic`). What a radiologist expects of it:

- **A dictated impression is the radiologist's**: it is kept sentence for sentence, in the
  dictated order, and never gains a finding they left out (least of all a chronic or
  incidental one). A critical finding it omits is the verifier's HIGH flag, not an edit.
- **Otherwise it summarises the Findings by clinical significance**: critical findings first
  (the critical-finding package decides which, most urgent ACR category first), then
  actionable findings, then chronic ones; incidental, old, stable and treated findings are
  left out (classes: ``data/vocab/impression.yaml``; old/stable cues: the verifier's
  ``impression_exempt``, so drafter and verifier agree on what may be left out).
- **Duplicates are merged**: a statement asserting only findings (concept and side) that an
  earlier impression item already states is not repeated; its sources join that item.
- **A normal study keeps the normal phrasing**: with no finding worth an impression line the
  Impression is the template's normal impression, cited ``T:impression``; with only chronic
  findings it opens with it ("No acute cardiopulmonary abnormality. Stable cardiomegaly.").
- **Each line is condensed without changing what it says**: normal and negated parts of a
  Findings sentence are cut and a leading "There is a" dropped, only where the condensed
  text asserts exactly the same findings; it cites the same sources, so the verifier checks
  it against them as before.

Why: on Open-i the previous impression (the dictated one, or every positive Findings
sentence verbatim) was barely better than the constant "No acute cardiopulmonary
abnormality." (issue 16; ``bench/openi_impression.py`` measures both).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from reportdraft.errors import ConfigurationError
from reportdraft.models import DictationSentence, Laterality, Statement, Template
from reportdraft.verification import (
    Fact,
    default_denies,
    exempt_from_impression,
    extract_facts,
    facts_of,
    is_incidental,
    lies_within,
)
from reportdraft.verification.hierarchy import hierarchy
from reportdraft.verification.vocabularies import lexicon
from reportdraft.vocab import load_file, vocab_path

SeverityOf = Callable[[str], int | None]
"""ACR category (1 most urgent) of the alerting critical finding in a sentence, or None."""

DEFAULT_SOURCE = "T:impression"


class Significance(IntEnum):
    """Impression classes, most significant first (the sort key of the generated lines)."""

    CRITICAL = 0
    ACTIONABLE = 1
    CHRONIC = 2


class _Incidental(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    templates: list[str]
    concepts: list[str]
    when_qualified: dict[str, list[str]] = {}
    unless_within: dict[str, list[str]] = {}


class _Minor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    concepts: list[str]
    cues: list[str]


def load_impression_rules(path: Path) -> ImpressionRules:
    """``path`` read and validated as impression rules, checked against the verifier's ids."""
    rules = load_file(path, ImpressionRules, "impression rules")
    validate_rules(rules)
    return rules


class ImpressionRules(BaseModel):
    """``data/vocab/impression.yaml``: the classes and the condensing vocabulary."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[int, Field(ge=1)]
    actionable: list[str]
    chronic: list[str]
    incidental: _Incidental
    minor: _Minor
    normal_beside_chronic: list[str]
    normal_words: list[str]
    lead_phrases: list[str]

    def concepts(self) -> dict[str, list[str]]:
        """Every list of concept ids, by name (for validation)."""
        return {
            "actionable": self.actionable,
            "chronic": self.chronic,
            "incidental.concepts": self.incidental.concepts,
            "incidental.when_qualified": list(self.incidental.when_qualified),
            "incidental.unless_within": list(self.incidental.unless_within),
            "minor.concepts": self.minor.concepts,
        }


@dataclass(frozen=True)
class _Compiled:
    rules: ImpressionRules
    actionable: frozenset[str]
    chronic: frozenset[str]
    incidental: frozenset[str]
    incidental_templates: frozenset[str]
    incidental_when: dict[str, frozenset[str]]
    incidental_unless_within: dict[str, frozenset[str]]
    minor_concepts: frozenset[str]
    minor_cue: re.Pattern[str]
    normal: re.Pattern[str]
    lead: re.Pattern[str]
    beside_chronic: re.Pattern[str]


def _words(terms: Sequence[str]) -> str:
    ordered = sorted({" ".join(t.lower().split()) for t in terms}, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, t.split())) for t in ordered) or "(?!)"


def validate_rules(rules: ImpressionRules) -> None:
    """Every concept id must be one the verifier knows, in at most one class, and no
    concept the verifier calls significant may be incidental (it would flag the omission).
    """
    lex = lexicon()
    known = set(lex.findings.ids.values()) | {c.concept for c in lex.compositions}
    for name, ids in rules.concepts().items():
        unknown = sorted(set(ids) - known)
        if unknown:
            raise ConfigurationError(f"impression.yaml {name}: unknown finding ids {unknown}")
    classes = [set(rules.actionable), set(rules.chronic), set(rules.incidental.concepts)]
    for i, a in enumerate(classes):
        for b in classes[i + 1 :]:
            if a & b:
                raise ConfigurationError(f"impression.yaml: {sorted(a & b)} in two classes")
    containers = hierarchy().containers
    places = set(containers).union(*containers.values())
    for concept, where in rules.incidental.unless_within.items():
        unknown_places = sorted(set(where) - places)
        if unknown_places:
            raise ConfigurationError(
                f"impression.yaml incidental.unless_within {concept}: "
                f"unknown places {unknown_places}"
            )
    significant = sorted(set(rules.incidental.concepts) & lex.significant)
    if significant:
        raise ConfigurationError(
            f"impression.yaml incidental: {significant} are significant to the verifier"
        )


@cache
def impression_rules() -> _Compiled:
    """The validated, compiled impression rules (loaded once, through the vocab loader)."""
    rules = load_impression_rules(vocab_path("impression.yaml"))
    return _Compiled(
        rules=rules,
        actionable=frozenset(rules.actionable),
        chronic=frozenset(rules.chronic),
        incidental=frozenset(rules.incidental.concepts),
        incidental_templates=frozenset(rules.incidental.templates),
        incidental_when={
            concept: frozenset(qualifiers)
            for concept, qualifiers in rules.incidental.when_qualified.items()
        },
        incidental_unless_within={
            concept: frozenset(places) for concept, places in rules.incidental.unless_within.items()
        },
        minor_concepts=frozenset(rules.minor.concepts),
        minor_cue=re.compile(rf"\b(?:{_words(rules.minor.cues)})\b", re.IGNORECASE),
        normal=re.compile(rf"\b(?:{_words(rules.normal_words)})\b", re.IGNORECASE),
        lead=re.compile(rf"^(?:{_words(rules.lead_phrases)})\s+", re.IGNORECASE),
        beside_chronic=re.compile(rf"^(?:{_words(rules.normal_beside_chronic)})\b", re.IGNORECASE),
    )


@dataclass(frozen=True, kw_only=True)
class ImpressionItem:
    """One planned Impression statement: its text and the sources it cites."""

    text: str
    sources: tuple[str, ...]
    significance: Significance | None = None


def _asserted(text: str) -> set[tuple[str, Laterality | None]]:
    """(concept, side) of every finding ``text`` says is (or may be) present."""
    return {(f.term, f.laterality) for f in extract_facts(text).findings if f.asserted}


def significance(
    text: str, category: int | None = None, *, template_id: str | None = None
) -> Significance | None:
    """The impression class of a Findings statement; None when it earns no line.

    ``category`` is the ACR category of its alerting critical finding, if any (critical).
    Otherwise the most significant class among the findings it asserts: old, stable or
    treated wording (the verifier's ``impression_exempt``) keeps only chronic concepts and
    those of no class, stated last;
    minimal or subsegmental atelectasis and opacities are chronic; the verifier's
    incidental concepts earn nothing, and so do this file's on the templates it was
    measured on (``template_id`` in ``incidental.templates``), as do its ``when_qualified``
    mentions there (a calcified nodule on a chest radiograph), but not its mentions within
    ``unless_within`` places (dilated small bowel on a chest radiograph); any other asserted concept
    is actionable unless the verifier's hierarchy calls it chronic or benign by nature (a
    hepatic cyst is stated last; a splenic laceration, dilated bowel or fat stranding on
    an abdominal CT is not chronic just because the classes were written from chest
    radiographs).
    """
    if category is not None:
        return Significance.CRITICAL
    compiled = impression_rules()
    scoped = template_id in compiled.incidental_templates
    terms = {
        f.term
        for f in extract_facts(text).findings
        if f.asserted
        and not (scoped and compiled.incidental_when.get(f.term, frozenset()) & set(f.qualifiers))
    }
    if not terms:
        return None
    exempt = exempt_from_impression(text)
    acute = terms & compiled.actionable
    minor = (
        bool(acute) and acute <= compiled.minor_concepts and bool(compiled.minor_cue.search(text))
    )
    if acute and not minor and not exempt:
        return Significance.ACTIONABLE
    # This file's incidental list holds on the chest radiograph only; elsewhere those
    # concepts are of no known class (dilated bowel, fat stranding, a stone can be the
    # finding there).
    incidental = compiled.incidental if scoped else frozenset()
    if scoped:  # dilated small-bowel loops on a chest radiograph are no aortic ectasia
        incidental -= {
            concept
            for concept, where in compiled.incidental_unless_within.items()
            if any(concept in f.closure and lies_within(f, where) for f in facts_of("", text))
        }
    unknown = {
        t
        for t in terms
        if t not in incidental
        and t not in compiled.actionable
        and t not in compiled.chronic
        and not is_incidental(t)
    }
    if unknown and not exempt:
        # Of no known class: actionable, unless the verifier's hierarchy calls every fact
        # of the text chronic or benign by nature (a hepatic cyst, steatosis, smooth
        # pleural thickening), which is stated last.
        facts = facts_of("", text)
        if facts and all(f.not_acute or f.benign for f in facts):
            return Significance.CHRONIC
        return Significance.ACTIONABLE
    if terms & (compiled.chronic | unknown):
        return Significance.CHRONIC
    if minor and not exempt:  # minimal or subsegmental atelectasis, not called old or stable
        return Significance.CHRONIC
    return None


def condense(text: str) -> str:
    """``text`` without its normal or negated parts and leading "There is a", same findings.

    Each step is undone when the shorter text would assert a different set of (concept,
    side) than ``text`` does, so condensing never adds, drops or moves a finding.
    """
    compiled = impression_rules()
    full = _asserted(text)
    body = text.strip().rstrip(".").strip()
    parts = [p.strip() for p in re.split(r"\s*[,;]\s*", body) if p.strip()]
    if len(parts) > 1:
        kept = [
            p
            for p in parts
            if _asserted(p) or not (compiled.normal.search(p) or extract_facts(p).findings)
        ]
        shorter = ", ".join(kept)
        if kept and _asserted(shorter) == full:
            body = shorter
    stripped = compiled.lead.sub("", body, count=1)
    if stripped and stripped != body and _asserted(stripped) == full:
        body = stripped
    if not body:
        return text
    return f"{body[0].upper()}{body[1:]}."


def plan_impression(
    template: Template,
    dictated: Sequence[DictationSentence],
    findings: Sequence[Statement],
    severity_of: SeverityOf | None = None,
    facts: Sequence[Fact] = (),
) -> list[ImpressionItem]:
    """The Impression's statements, in order, each with its sources.

    ``dictated``: the sentences dictated under an Impression header (kept as they are).
    ``findings``: the draft's Findings statements; template defaults are never summarised.
    ``severity_of`` finds critical findings (the pipeline passes
    :func:`reportdraft.critical.most_urgent_category`); without it none is critical.
    ``facts``: the case's positive facts (:func:`reportdraft.verification.case_facts`); the
    template's normal impression is written only where ``verify`` would not read it as
    denying one of them.
    """
    if dictated:
        return [ImpressionItem(text=s.text, sources=(s.id,)) for s in dictated]
    ranked: list[tuple[Significance, int, int, Statement]] = []
    for order, st in enumerate(findings):
        if any(src.startswith("T:") for src in st.sources):
            continue
        category = severity_of(st.text) if severity_of else None
        klass = significance(st.text, category, template_id=template.id)
        if klass is not None:
            ranked.append((klass, category or 4, order, st))
    items = _merged(sorted(ranked, key=lambda item: item[:3]))
    # A template without a normal impression (the generic template may have none) assumes
    # nothing: its study gets only the lines the Findings earn.
    default = template.impression_default
    if not default:
        return items
    denied = default_denies(default, facts)
    if denied:
        # "No acute abnormality in the abdomen." beside a hiatal hernia: the normal line
        # would deny a finding. Without it, a study whose findings earned no line states
        # the denied ones rather than say nothing.
        sources = {f.source for f in denied}
        return items or _merged(
            [
                (Significance.CHRONIC, 4, n, st)
                for n, st in enumerate(findings)
                if sources & set(st.sources)
            ]
        )
    normal = ImpressionItem(text=default, sources=(DEFAULT_SOURCE,))
    if not items:
        return [normal]
    # "No acute cardiopulmonary abnormality. Stable cardiomegaly.": only a "no acute ..."
    # line opens an Impression of chronic findings ("Normal ultrasound of the abdomen."
    # beside gallstones would say otherwise), and only one no fact contradicts (above).
    chronic_only = all(item.significance is Significance.CHRONIC for item in items)
    if chronic_only and _beside_chronic(default):
        return [normal, *items]
    return items


def _beside_chronic(default: str) -> bool:
    """Every sentence of the normal impression is worded as ``normal_beside_chronic``."""
    beside = impression_rules().beside_chronic
    parts = [p.strip() for p in re.split(r"(?<=\.)\s+", default.strip()) if p.strip()]
    return bool(parts) and all(beside.match(p) for p in parts)


def _merged(ranked: Sequence[tuple[Significance, int, int, Statement]]) -> list[ImpressionItem]:
    """One condensed item per ranked statement, in order; a statement asserting only
    findings (concept and side) an earlier item states joins that item's sources."""
    items: list[ImpressionItem] = []
    stated: list[set[tuple[str, Laterality | None]]] = []
    for klass, _category, _order, st in ranked:
        said = _asserted(st.text)
        known = set().union(*stated) if stated else set()
        home = (
            next((i for i, seen in enumerate(stated) if said & seen), None)
            if said and said <= known
            else None
        )
        if home is not None:
            merged = items[home]
            sources = tuple(dict.fromkeys([*merged.sources, *st.sources]))
            items[home] = ImpressionItem(
                text=merged.text, sources=sources, significance=merged.significance
            )
            continue
        items.append(
            ImpressionItem(text=condense(st.text), sources=tuple(st.sources), significance=klass)
        )
        stated.append(said)
    return items
