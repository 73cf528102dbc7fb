"""ConText rules for radiology wording, and how their cues decide a mention's assertion.

The rules are data (``reportdraft/data/vocab/context_rules.yaml``), and the phrases of the
negation rules are the shared negation vocabulary (``reportdraft/data/vocab/negation.yaml``,
which the verifier reads too; each cue there names the rule it joins). This module merges
and validates them and holds the decision logic, which is plain Python over cue records so it
can be tested without spaCy. medspaCy's ConText finds the cues and their scopes; the
*choice* among several cues reaching one finding is ours, because medspaCy only sets
independent flags (``is_negated`` and ``is_uncertain`` at once) and a radiologist needs one
answer with its reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reportdraft import vocab
from reportdraft.critical.finding_lexicon import CODE_PATTERN, Phrase, TokenPattern
from reportdraft.errors import ConfigurationError
from reportdraft.models.critical import Assertion, ContextTrigger, Temporality
from reportdraft.models.primitives import Strict


class CueCategory(StrEnum):
    """What a ConText cue does to the findings in its scope."""

    NEGATED = "negated"
    UNCERTAIN = "uncertain"
    HISTORICAL = "historical"
    HYPOTHETICAL = "hypothetical"
    CURRENT = "current"
    """Affirms a new or worsening finding: overrides a historical cue ("known ... now larger")."""
    PSEUDO = "pseudo"
    """Looks like a cue but is not ("not only"); silences the shorter cue inside it."""
    TERMINATE = "terminate"
    """Ends other cues' scope ("no pneumothorax, but ...")."""
    CONJUNCTION = "conjunction"
    """Ends the scope of the rules that list it in ``terminated_by`` ("stable nodule *and*
    large pneumothorax": the historical cue stops at "and"; a negation does not)."""
    TEMPORAL = "temporal"
    """States a time course ("stable", "decreasing", "chronic", "known") without changing
    the assertion: a stable pneumothorax is present."""
    EXPECTED = "expected"
    """Attributes the finding to a recent procedure ("postoperative", "expected after
    laparotomy"); the alert policy decides which findings that silences."""
    UNEXPECTED = "unexpected"
    """Cancels an expected cue ("more than expected", "out of proportion to")."""
    SUPPORT = "support"
    """Links a sign to the diagnosis it supports ("consistent with", "compatible with"):
    a negated *sign* before it ("absent lung sliding") then supports the diagnosis."""


class Direction(StrEnum):
    """Where a cue's scope lies relative to the cue."""

    FORWARD = "forward"
    BACKWARD = "backward"
    BIDIRECTIONAL = "bidirectional"


ASSERTING = {
    CueCategory.NEGATED: Assertion.NEGATED,
    CueCategory.UNCERTAIN: Assertion.UNCERTAIN,
    CueCategory.HISTORICAL: Assertion.HISTORICAL,
    CueCategory.HYPOTHETICAL: Assertion.HYPOTHETICAL,
}
"""Cue categories that decide an assertion, and the assertion each one gives."""

TIE_ORDER = (
    Assertion.HYPOTHETICAL,
    Assertion.HISTORICAL,
    Assertion.UNCERTAIN,
    Assertion.NEGATED,
)
"""Which cue wins when two reach a finding from the same distance. Uncertainty beats
negation: a tie between "possible" and "not seen" is resolved towards a call."""


class ContextRuleSpec(Strict):
    """One cue of the rule file. See the header of ``context_rules.yaml`` for the fields."""

    id: Annotated[str, Field(pattern=CODE_PATTERN)]
    category: CueCategory
    direction: Direction | None = None
    phrases: list[Phrase] = Field(default_factory=list)
    patterns: list[TokenPattern] = Field(default_factory=list)
    max_scope: Annotated[int, Field(gt=0, le=100)] | None = None
    asserts: Literal["negated", "uncertain", "historical", "hypothetical"] | None = None
    resolves: bool = False
    sign: bool = False
    needs_procedure: bool = False
    temporality: Temporality | None = None
    applies_to: list[Annotated[str, Field(pattern=CODE_PATTERN)]] = Field(default_factory=list)
    terminated_by: list[CueCategory] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ContextRuleSpec:
        if not (self.phrases or self.patterns):
            raise ValueError(f"{self.id}: needs phrases or patterns")
        unscoped = (CueCategory.PSEUDO, CueCategory.TERMINATE, CueCategory.CONJUNCTION)
        scoped = self.category not in unscoped
        if self.category is CueCategory.PSEUDO and self.asserts is not None:
            scoped = True
        elif self.asserts is not None:
            raise ValueError(f"{self.id}: only pseudo rules may carry `asserts`")
        if self.resolves and self.category is not CueCategory.NEGATED:
            raise ValueError(f"{self.id}: only negated rules may carry `resolves`")
        if self.sign and self.category is not CueCategory.NEGATED:
            raise ValueError(f"{self.id}: only negated rules may carry `sign`")
        if self.needs_procedure and self.category is not CueCategory.EXPECTED:
            raise ValueError(f"{self.id}: only expected rules may carry `needs_procedure`")
        if self.category is CueCategory.TEMPORAL and self.temporality is None:
            raise ValueError(f"{self.id}: a temporal rule needs a temporality")
        if self.temporality is not None and self.category not in (
            CueCategory.TEMPORAL,
            CueCategory.CURRENT,
            CueCategory.HISTORICAL,
        ):
            raise ValueError(f"{self.id}: only temporal, current or historical rules carry one")
        if self.applies_to and not scoped:
            raise ValueError(f"{self.id}: a {self.category.value} rule has no `applies_to`")
        if scoped and self.direction is None:
            raise ValueError(f"{self.id}: a {self.category.value} rule needs a direction")
        if not scoped and (
            self.direction is not None or self.max_scope is not None or self.terminated_by
        ):
            raise ValueError(
                f"{self.id}: a {self.category.value} rule has no direction, scope or terminated_by"
            )
        return self

    @property
    def effective_category(self) -> CueCategory:
        """The category the cue acts as (a pseudo rule with ``asserts`` acts as that)."""
        if self.category is CueCategory.PSEUDO and self.asserts is not None:
            return CueCategory(self.asserts)
        return self.category

    @property
    def time_course(self) -> Temporality | None:
        """The temporality this cue states: its own, "new" for a current cue without one,
        "resolved" for a resolution cue."""
        if self.temporality is not None:
            return self.temporality
        if self.category is CueCategory.CURRENT:
            return Temporality.NEW
        if self.resolves:
            return Temporality.RESOLVED
        return None


Word = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^\S+$")]


class ClauseBreaks(Strict):
    """When a comma starts a new clause, ending every cue's scope at it.

    "No effusion, large right pneumothorax" is two clauses; "No pneumothorax, effusion or
    consolidation" is one negated list. After the comma: a word in ``openers`` (an article,
    "there") or a number always starts a clause; a word in ``modifiers`` (size, side,
    "new") starts one when a finding follows before the next comma and the sentence does
    not go on as a list (a word in ``list_words`` after the comma: "no consolidation, large
    effusion, or pneumothorax"; "nodule, unchanged" describes the nodule); a verb of
    ``verbs`` before the next comma starts one unless the segment is joined by a list word
    or "and" ("pneumothorax, effusion and consolidation are not seen"); a finding after the
    sentence's only comma, with no list word or "and" after it and no ``connectors`` word
    before it, starts one ("no hydronephrosis, perforated appendicitis"; with more commas it
    is a list; "effusion of pneumothorax" is not headed by the finding). A word of
    ``conjunctions`` followed by one of ``joined_openers`` starts one too ("no pneumothorax
    and a large amount of free air").
    """

    openers: list[Word] = Field(default_factory=list)
    modifiers: list[Word] = Field(default_factory=list)
    verbs: list[Word] = Field(default_factory=list)
    list_words: list[Word] = Field(default_factory=list)
    conjunctions: list[Word] = Field(default_factory=list)
    joined_openers: list[Word] = Field(default_factory=list)
    connectors: list[Word] = Field(default_factory=list)


class ContextRuleSet(Strict):
    """A validated rule file (with the negation phrases of ``negation.yaml`` merged in)."""

    schema_id: Literal["reportdraft.critical.context/1"] = Field(alias="schema")
    rules: list[ContextRuleSpec] = Field(min_length=1)
    clause_breaks: ClauseBreaks = ClauseBreaks()
    question_answers: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list
    )
    """Short answers that stay in the question's sentence ("Pneumothorax? No.")."""

    @model_validator(mode="after")
    def _unique_ids(self) -> ContextRuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate context rule id {rule.id!r}")
            seen.add(rule.id)
        return self

    def counts(self) -> dict[str, int]:
        """How many cue phrases and patterns each category has (pseudo counted as pseudo)."""
        counter: Counter[str] = Counter()
        for rule in self.rules:
            counter[rule.category.value] += len(rule.phrases) + len(rule.patterns)
        return dict(sorted(counter.items()))


def load_rules(
    path: Path | None = None, *, negation: vocab.NegationVocab | None = None
) -> ContextRuleSet:
    """Load and validate a ConText rule file (default: the bundled one).

    Each rule that ``negation`` (default: the bundled ``negation.yaml``) names gets the
    cues listed for it there, before its own phrases (duplicates dropped). The bundled rule
    file lists no phrases of its own under those rules, so each negation cue is written
    once; a site's rule file keeps its phrases and gains the shared cues of the rule ids it
    has. A cue naming a rule that is not a negation rule, or (in the bundled file) no rule
    at all, is a ConfigurationError.
    """
    source = path or vocab.vocab_path("context_rules.yaml")
    data = vocab.read_yaml(source, "ConText rule file")
    cues = (negation or vocab.negation()).context_phrases()
    if isinstance(data, dict) and isinstance(data.get("rules"), list):
        data = {**data, "rules": [_with_cues(rule, cues) for rule in data["rules"]]}
    ruleset = vocab.validate(data, ContextRuleSet, source, "ConText rule file")
    categories = {rule.id: rule.category for rule in ruleset.rules}
    for rule_id in cues:
        category = categories.get(rule_id)
        if category is None and path is None:
            raise ConfigurationError(
                f"negation.yaml names ConText rule {rule_id!r}, not in {source}"
            )
        if category is not None and category is not CueCategory.NEGATED:
            raise ConfigurationError(
                f"negation.yaml names ConText rule {rule_id!r}, a {category.value} rule in {source}"
            )
    return ruleset


def _with_cues(rule: object, cues: dict[str, list[str]]) -> object:
    """``rule`` (raw YAML) with the negation cues named for its id put before its phrases."""
    if not isinstance(rule, dict) or rule.get("id") not in cues:
        return rule
    own = rule.get("phrases") or []
    if not isinstance(own, list):
        return rule  # validation reports it
    merged = list(cues[rule["id"]])
    known = {vocab.normal(p) for p in merged}
    merged += [p for p in own if not (isinstance(p, str) and vocab.normal(p) in known)]
    return {**rule, "phrases": merged}


@lru_cache(maxsize=1)
def default_rules() -> ContextRuleSet:
    """The bundled rules, loaded once per process."""
    return load_rules()


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue that reached a mention: what it is and how far from the mention it sits."""

    rule_id: str
    category: CueCategory
    text: str
    distance: int
    """Tokens between the cue and the mention (0 when adjacent)."""
    resolves: bool = False
    """A negation saying the finding went away ("has resolved")."""
    before: bool = True
    """The cue precedes the mention (False: it follows it)."""
    sign: bool = False
    """A negation of an imaging sign ("absent lung sliding", "no flow")."""
    temporality: Temporality | None = None
    """The time course the cue states, if any."""
    needs_procedure: bool = False
    """An expected cue that names no procedure ("as expected"): it counts only where the
    report names one."""

    def trigger(self) -> ContextTrigger:
        """The cue as the model's ``ContextTrigger`` (what the radiologist is shown)."""
        category = self.category.value
        if self.temporality is not None and self.category is not CueCategory.NEGATED:
            category = f"{category}:{self.temporality.value}"
        return ContextTrigger(rule_id=self.rule_id, text=self.text[:200], category=category)


ONGOING = frozenset(
    {Temporality.NEW, Temporality.WORSENING, Temporality.UNCHANGED, Temporality.IMPROVING}
)
"""Time courses that say the finding is there now: they turn "previously seen" present."""


def supported_signs(cues: list[Cue]) -> list[Cue]:
    """Negated-sign cues that a support cue links to the mention.

    "Absent lung sliding, consistent with pneumothorax": the negation is about the sign,
    and "consistent with", nearer to the mention on the same side, says the sign supports
    the diagnosis. Without a link ("no flow abnormality to suggest torsion") the sign
    negation negates as any other.
    """
    support = [c for c in cues if c.category is CueCategory.SUPPORT]
    return [
        c
        for c in cues
        if c.category is CueCategory.NEGATED
        and c.sign
        and any(s.before == c.before and s.distance < c.distance for s in support)
    ]


def decide(cues: list[Cue]) -> tuple[Assertion, list[Cue]]:
    """The assertion a set of cues gives one mention, with the cues that decided it.

    The nearest asserting cue wins (ties: ``TIE_ORDER``). A negated sign linked to the
    mention by a support cue does not count (:func:`supported_signs`). A cue stating that
    the finding is there now (*current*: "new", "increased"; or an ongoing time course:
    "unchanged", "decreasing") turns a historical verdict into present: a previously seen
    finding that is still there is a finding. A resolution cue ("has resolved") on a
    finding that a historical cue also reaches ("seen on the prior study") gives negated:
    the finding is gone now (its temporality says resolved). No asserting cue: present.
    """
    dropped = supported_signs(cues)
    asserting = [c for c in cues if c.category in ASSERTING and c not in dropped]
    ongoing = sorted(
        (
            c
            for c in cues
            if c.category is CueCategory.CURRENT
            or (c.category is CueCategory.TEMPORAL and c.temporality in ONGOING)
        ),
        key=_nearness,
    )
    if not asserting:
        support = [c for c in cues if c.category is CueCategory.SUPPORT]
        return Assertion.PRESENT, ([*support[:1], *dropped[:1]] if dropped else [])
    winner = min(asserting, key=lambda c: (c.distance, TIE_ORDER.index(ASSERTING[c.category])))
    verdict = ASSERTING[winner.category]
    if verdict is Assertion.HISTORICAL and ongoing:
        return Assertion.PRESENT, [ongoing[0], winner]
    if verdict is Assertion.NEGATED and winner.resolves:
        history = sorted(
            (c for c in asserting if c.category is CueCategory.HISTORICAL), key=_nearness
        )
        if history:  # "previously seen ... has resolved": gone now, so negated
            return Assertion.NEGATED, [winner, history[0]]
    if verdict is Assertion.HISTORICAL:
        gone = sorted((c for c in asserting if c.resolves), key=_nearness)
        if gone:  # "the X seen on the prior study has resolved": the resolution decides
            return Assertion.NEGATED, [gone[0], winner]
    return verdict, [winner]


def _nearness(cue: Cue) -> int:
    return cue.distance


def time_course(
    cues: list[Cue], precedence: list[Temporality]
) -> tuple[Temporality | None, list[Cue]]:
    """The temporality the cues give one mention, with the cue that stated it.

    Several time courses can reach one finding ("chronic emboli are again noted"); the
    one earliest in ``precedence`` wins (a change beats a status: "known pneumothorax, now
    larger" is worsening). None when no cue states a time course.
    """
    rank = {t: i for i, t in enumerate(precedence)}
    stated = [(rank.get(c.temporality, len(rank)), c.distance, c) for c in cues if c.temporality]
    if not stated:
        return None, []
    best = min(stated, key=lambda item: item[:2])[2]
    return best.temporality, [best]
