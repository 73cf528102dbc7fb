"""The error-injection rules (one YAML, one validated loader) and the sentence rewrites
they drive.

Both injection harnesses edit text only through these functions, so what an injected error
looks like is decided in ``reportdraft/data/evaluation/injection.yaml``, not in the
harnesses: :mod:`.metric_table` (which metric sees which error, ``reportdraft eval``) and
:mod:`.verifier_detection` (whether the verifier flags a planted error). Each rewrite
takes one sentence and returns the changed sentence, or None when it does not apply.

Where the two harnesses make the same edit they share one rule (the laterality swap);
where they were built to make different edits (the table's one-kind negation flip and
doubled measurement, the verifier's grammar-aware negation removal/addition and length
value/unit changes) the YAML keeps separate, named rules, because each harness's recorded
numbers depend on exactly its own edits.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reportdraft.errors import ConfigurationError
from reportdraft.resources import package_data

PREFIX = "^"
"""The pattern of a prefix rule: put the replacement in front, lowering the first letter."""


class Pick(StrEnum):
    """How a rule set chooses among the rules that fit a sentence."""

    FIRST_RULE = "first_rule"
    """The first rule, in order, whose first match changes the sentence."""
    EARLIEST_MATCH = "earliest_match"
    """Of each rule's first match, the one that starts first (ties: the earlier rule)."""


class Capitalise(StrEnum):
    """What is upper-cased after a rule rewrote a sentence (a prefix rule: nothing)."""

    FIRST = "first"
    """The first letter, after stripping surrounding space."""
    SENTENCE_STARTS = "sentence_starts"
    """Every lower-case letter that starts the text or follows ". " or "; "."""
    NONE = "none"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One regular-expression rewrite: ``pattern`` replaced by ``replace`` (``\\1`` groups)."""

    pattern: Annotated[str, Field(min_length=1)]
    replace: str


class RuleSet(_Strict):
    """Rules tried on one sentence, with how one is picked and the result capitalised."""

    pick: Pick = Pick.FIRST_RULE
    ignore_case: bool = True
    skip_pseudo: bool = False
    """Ignore matches that start a pseudo-negation (:attr:`Negation.pseudo`)."""
    capitalise: Capitalise = Capitalise.FIRST
    rules: list[Rule] = Field(min_length=1)


class Negation(_Strict):
    """Negation cues and the four negation rule sets (see the YAML for who uses which)."""

    cues: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    pseudo: Annotated[str, Field(min_length=1)]
    flip_remove: RuleSet
    flip_add: RuleSet
    remove: RuleSet
    add: RuleSet


class Length(_Strict):
    """A length unit's slipped unit and the factor that converts a value into it."""

    other: Annotated[str, Field(min_length=1)]
    to_other: Annotated[float, Field(gt=0)]


class Measurement(_Strict):
    """The table's measured-value change and the verifier's length edits."""

    units: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    factor: Annotated[float, Field(gt=0)]
    lengths: dict[str, Length] = Field(min_length=1)
    whole_step: Annotated[int, Field(ge=1)]
    decimal_step: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def slips_stay_lengths(self) -> Measurement:
        """A slipped unit must itself be a length, so the control can convert it back."""
        unknown = {length.other for length in self.lengths.values()} - set(self.lengths)
        if unknown:
            raise ValueError(f"lengths: 'other' unit(s) not listed as lengths: {sorted(unknown)}")
        return self


class PlantedFinding(_Strict):
    """A finding sentence to plant, new to a case when ``absent`` occurs nowhere in it."""

    absent: Annotated[str, Field(min_length=1)]
    text: Annotated[str, Field(min_length=3)]


class InjectionRules(_Strict):
    """The validated contents of ``injection.yaml`` (unknown keys rejected)."""

    version: Annotated[int, Field(ge=2)]
    laterality: dict[str, str] = Field(min_length=2)
    negation: Negation
    measurement: Measurement
    added_findings: list[Annotated[str, Field(min_length=3)]] = Field(min_length=1)
    unsupported_findings: list[PlantedFinding] = Field(min_length=1)


def load_rules(path: Path) -> InjectionRules:
    """Read and validate an injection rules file; any fault is a ConfigurationError that
    names the file (and a pattern that does not compile: every one is compiled here, not
    at first use)."""
    try:
        rules = InjectionRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"{path}: invalid injection rules: {exc}") from exc
    negation = rules.negation
    patterns = [negation.pseudo]
    for rule_set in (negation.flip_remove, negation.flip_add, negation.remove, negation.add):
        patterns += [rule.pattern for rule in rule_set.rules]
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigurationError(
                f"{path}: invalid injection rules: pattern {pattern!r}: {exc}"
            ) from exc
    return rules


@cache
def default_rules() -> InjectionRules:
    """The bundled injection rules, validated once."""
    return load_rules(package_data("evaluation", "injection.yaml"))


# --------------------------------------------------------------------------- rule sets


def _capitalise_first(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def _capitalise(text: str, how: Capitalise) -> str:
    if how is Capitalise.FIRST:
        return _capitalise_first(text)
    if how is Capitalise.SENTENCE_STARTS:
        return re.sub(r"(^|[.;]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    return text


def apply_rules(sentence: str, rule_set: RuleSet, rules: InjectionRules) -> str | None:
    """``sentence`` rewritten by the rule ``rule_set`` picks; None when no rule changes it.

    ``rules`` is the whole rules file the set belongs to (its pseudo-negation pattern is
    what a set that skips pseudo-negations skips).
    """
    flags = re.IGNORECASE if rule_set.ignore_case else 0
    skip = re.compile(rules.negation.pseudo, re.IGNORECASE) if rule_set.skip_pseudo else None
    hits: list[tuple[int, str]] = []
    for rule in rule_set.rules:
        if rule.pattern == PREFIX:
            hits.append((0, rule.replace + sentence[:1].lower() + sentence[1:]))
        else:
            matches = re.finditer(rule.pattern, sentence, flags)
            match = next((m for m in matches if not _skipped(skip, m)), None)
            if match is None:
                continue
            changed = sentence[: match.start()] + match.expand(rule.replace)
            changed += sentence[match.end() :]
            hits.append((match.start(), _capitalise(changed, rule_set.capitalise)))
        if rule_set.pick is Pick.FIRST_RULE and hits[-1][1] != sentence:
            return hits[-1][1]
    if rule_set.pick is Pick.FIRST_RULE or not hits:
        return None
    _start, changed = min(hits, key=lambda hit: hit[0])  # the first of equals: rule order
    return changed if changed != sentence else None


def _skipped(skip: re.Pattern[str] | None, match: re.Match[str]) -> bool:
    return skip is not None and skip.match(match.string, match.start()) is not None


# --------------------------------------------------------------------------- shared


def swap_laterality(sentence: str, rules: InjectionRules) -> str | None:
    """Every side word swapped, its case kept (left -> right, Left -> Right, LEFT -> RIGHT);
    None when the sentence has none."""
    words = "|".join(re.escape(w) for w in rules.laterality)
    pattern = re.compile(rf"\b({words})\b", re.IGNORECASE)
    if not pattern.search(sentence):
        return None

    def swap(match: re.Match[str]) -> str:
        word = match.group(1)
        other = rules.laterality[word.lower()]
        if word.isupper():
            return other.upper()
        return other.title() if word[0].isupper() else other

    return pattern.sub(swap, sentence)


# --------------------------------------------------------------------------- the table's


def flip_negation(sentence: str, rules: InjectionRules) -> str | None:
    """The sentence with its negation removed, or a negation added; None if no rule fits."""
    removed = apply_rules(sentence, rules.negation.flip_remove, rules)
    if removed is not None:
        return removed
    return apply_rules(sentence, rules.negation.flip_add, rules)


def change_measurement(sentence: str, rules: InjectionRules) -> str | None:
    """The first measured value multiplied by the configured factor; None without one."""
    units = "|".join(re.escape(u) for u in sorted(rules.measurement.units, key=len, reverse=True))
    pattern = re.compile(rf"(\d+(?:\.\d+)?)(\s*(?:x\s*\d+(?:\.\d+)?\s*)*)(\s*(?:{units})\b)")
    match = pattern.search(sentence)
    if match is None:
        return None
    value = float(match.group(1)) * rules.measurement.factor
    decimals = len(match.group(1).partition(".")[2])
    shown = f"{value:.{decimals}f}"
    return sentence[: match.start(1)] + shown + sentence[match.end(1) :]


# --------------------------------------------------------------------------- the verifier's


class LengthEdit(StrEnum):
    """What :func:`edit_length` does to the first length of a sentence."""

    VALUE = "value"
    """Its first number changed (6 mm -> 9 mm, 2.3 cm -> 3.2 cm): an error."""
    UNIT = "unit"
    """Its unit slipped (2.3 cm -> 2.3 mm): an error."""
    EQUIVALENT = "equivalent"
    """Converted to the other unit (2.3 cm -> 23 mm): the same length, not an error."""


def negation_cue(sentence: str, rules: InjectionRules, *, outside_pseudo: bool) -> bool:
    """Whether ``sentence`` has a negation cue word (optionally not counting those inside a
    pseudo-negation such as "no significant change")."""
    negation = rules.negation
    if outside_pseudo:
        sentence = re.sub(negation.pseudo, "", sentence, flags=re.IGNORECASE)
    cues = "|".join(re.escape(cue) for cue in negation.cues)
    return re.search(rf"\b({cues})\b", sentence, re.IGNORECASE) is not None


def remove_negation(sentence: str, rules: InjectionRules) -> str | None:
    """The sentence with its earliest real negation removed ("No pneumothorax." ->
    "Pneumothorax."); None when it negates nothing."""
    if not negation_cue(sentence, rules, outside_pseudo=True):
        return None
    return apply_rules(sentence, rules.negation.remove, rules)


def add_negation(sentence: str, rules: InjectionRules) -> str | None:
    """The sentence negated by its grammar ("There is a small effusion." -> "There is no
    small effusion."); None when it already has a negation cue."""
    if negation_cue(sentence, rules, outside_pseudo=False):
        return None
    return apply_rules(sentence, rules.negation.add, rules)


def _fmt(value: float) -> str:
    return f"{round(value, 6):g}"


def _new_value(number: str, rules: InjectionRules) -> str:
    if "." in number:
        reversed_digits = number.replace(".", "")[::-1]
        candidate = f"{reversed_digits[:-1]}.{reversed_digits[-1]}"
        if float(candidate) != float(number):
            return candidate.lstrip("0") if not candidate.startswith("0.") else candidate
        return _fmt(float(number) + rules.measurement.decimal_step)
    return str(int(number) + rules.measurement.whole_step)


def edit_length(sentence: str, edit: LengthEdit, rules: InjectionRules) -> str | None:
    """The sentence with its first length (dimensions "2 x 3 cm" included) changed by
    ``edit``; None without a length."""
    lengths = rules.measurement.lengths
    units = "|".join(re.escape(unit) for unit in lengths)
    number = r"\d+(?:\.\d+)?"
    pattern = rf"(?<![\w.])((?:{number}\s*(?:x|×)\s*)*{number})\s*({units})\b"
    match = re.search(pattern, sentence)
    if match is None:
        return None
    numbers, unit = match.group(1), match.group(2)
    length = lengths[unit]
    if edit is LengthEdit.VALUE:
        first = re.match(number, numbers)
        if first is None:  # the pattern starts with a number; kept for the type checker
            return None
        new = _new_value(first.group(0), rules) + numbers[first.end() :] + " " + unit
    elif edit is LengthEdit.UNIT:
        new = f"{numbers} {length.other}"
    else:
        new = re.sub(number, lambda m: _fmt(float(m.group(0)) * length.to_other), numbers)
        new += f" {length.other}"
    return sentence[: match.start()] + new + sentence[match.end() :]
