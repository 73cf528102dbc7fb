"""The alert policy: which asserted mentions alert, given their category and time course.

Assertion says whether a finding is there; temporality says how it has changed; this
policy, a data file (``reportdraft/data/critical/alert_policy.yaml``) a site may replace,
says which combinations need a call. By default a Category 1–2 finding alerts unless it
is chronic, resolved or improving (an unchanged one still alerts: the radiologist closes
it with the override reason "already known to the care team"), a Category 3 finding
alerts only when new, worsening or without a stated time course (a first report of a
nodule must reach the clinician), and expected post-operative free air does not alert.
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reportdraft.critical.finding_lexicon import Code
from reportdraft.models.critical import ALERTING, Assertion, Category, Temporality
from reportdraft.models.primitives import Strict
from reportdraft.resources import package_data
from reportdraft.vocab import load_file

UNSTATED = "unstated"
"""Stands for "no time course stated" in a category's ``silent_when`` list."""

TimeCourse = Temporality | Literal["unstated"]


class CategoryPolicy(Strict):
    """When mentions of one ACR category stay silent although present or uncertain.

    Listing the *silent* time courses (rather than the alerting ones) makes a time course
    the file does not know alert: a gap in the policy errs towards a call.
    """

    silent_when: list[TimeCourse] = Field(default_factory=list)


class ExpectedPostoperative(Strict):
    """Findings that are expected after a procedure, and for how long.

    ``codes``: findings an expected post-operative cue silences (free air after a
    laparotomy); ``max_days``: a stated interval since the procedure longer than this
    ("laparotomy 3 weeks ago") means the finding is no longer expected, and it alerts.
    """

    codes: list[Code] = Field(default_factory=list)
    max_days: Annotated[int, Field(gt=0, le=365)] | None = None
    procedure_words: list[Annotated[str, Field(min_length=2, max_length=40)]] = Field(
        default_factory=list
    )
    """Words naming a procedure (also as a word ending: "ectomy"); an expected cue that
    names none ("as expected") counts only where the report has one."""


class AlertPolicy(Strict):
    """A validated alert-policy file."""

    schema_id: Literal["reportdraft.critical.alert_policy/1"] = Field(alias="schema")
    alerting_assertions: list[Assertion] = Field(min_length=1)
    categories: dict[Category, CategoryPolicy]
    precedence: list[Temporality]
    expected_postoperative: ExpectedPostoperative = ExpectedPostoperative()
    known_to_care_team: list[Temporality] = Field(default_factory=list)
    """Time courses for which the override "already known to the care team" is offered."""

    @model_validator(mode="after")
    def _complete(self) -> AlertPolicy:
        if set(self.categories) != {1, 2, 3}:
            raise ValueError("categories must give a policy for each of 1, 2 and 3")
        if sorted(self.precedence) != sorted(Temporality):
            raise ValueError(
                "precedence must list every temporality once: "
                + ", ".join(t.value for t in Temporality)
            )
        wrong = [a.value for a in self.alerting_assertions if a not in ALERTING]
        if wrong:
            raise ValueError(f"only present/uncertain may alert, not {wrong}")
        return self

    def silences(
        self,
        category: Category,
        temporality: Temporality | None,
    ) -> bool:
        """True when the time course keeps a present/uncertain mention of ``category`` silent."""
        silent = self.categories[category].silent_when
        return (UNSTATED in silent) if temporality is None else (temporality in silent)

    def alerts(
        self,
        *,
        code: str,
        category: Category,
        assertion: Assertion,
        temporality: Temporality | None,
        expected: bool,
    ) -> bool:
        """Whether a mention alerts, before its section is taken into account.

        ``expected``: an expected post-operative cue reaches the mention (and no stated
        interval exceeds ``max_days``); it silences only the listed codes, and only while
        the finding is not new or worsening.
        """
        if assertion not in self.alerting_assertions:
            return False
        if self.silences(category, temporality):
            return False
        growing = temporality in (Temporality.NEW, Temporality.WORSENING)
        return not (expected and not growing and code in self.expected_postoperative.codes)

    def within_window(self, text: str, document: str | None = None) -> bool:
        """False when ``text`` (or, when it states none, ``document``) states an interval
        since the procedure beyond ``max_days``."""
        limit = self.expected_postoperative.max_days
        if limit is None:
            return True
        days = stated_days(text)
        if days is None and document is not None:
            days = stated_days(document)
        return days is None or days <= limit

    def names_procedure(self, text: str) -> bool:
        """True when ``text`` has a word of ``procedure_words`` (or a word ending in one)."""
        return self._procedure_pattern.search(text) is not None

    @cached_property
    def _procedure_pattern(self) -> re.Pattern[str]:
        words = sorted(self.expected_postoperative.procedure_words, key=len, reverse=True)
        if not words:
            return re.compile(r"(?!x)x")  # matches nothing
        alternation = "|".join(re.escape(w) for w in words)
        return re.compile(r"(?:" + alternation + r")\b", re.IGNORECASE)


_UNIT_DAYS = {"day": 1, "days": 1, "d": 1, "week": 7, "weeks": 7, "wk": 7, "wks": 7}
_UNIT_DAYS |= {"month": 30, "months": 30, "mo": 30}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_WORDS |= {"eight": 8, "nine": 9, "ten": 10, "several": 3, "a": 1, "an": 1}
_NUMBER = r"(\d{1,3}|" + "|".join(_WORDS) + ")"
_AGO = re.compile(
    _NUMBER + r"[\s-]*(" + "|".join(_UNIT_DAYS) + r")\b\.?\s*(?:ago|prior|earlier|before|"
    r"previously|post[\s-]?op(?:erative(?:ly)?)?|after)",
    re.IGNORECASE,
)
_POD = re.compile(
    r"\b(?:POD|post[\s-]?op(?:erative)?\s+day)\s*(?:#|no\.?|number)?\s*" + _NUMBER, re.IGNORECASE
)


def stated_days(text: str) -> int | None:
    """The longest interval since a procedure that ``text`` states, in days, if any.

    Reads "2 days ago", "three weeks after", "postoperative day 5", "POD #3".
    """
    found: list[int] = []
    for m in _AGO.finditer(text):
        found.append(_number(m.group(1)) * _UNIT_DAYS[m.group(2).lower()])
    for m in _POD.finditer(text):
        found.append(_number(m.group(1)))
    return max(found) if found else None


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _WORDS[word.lower()]


def load_policy(path: Path | None = None) -> AlertPolicy:
    """Load and validate an alert-policy file (default: the bundled one)."""
    source = path or package_data("critical", "alert_policy.yaml")
    return load_file(source, AlertPolicy, "alert policy")


@lru_cache(maxsize=1)
def default_policy() -> AlertPolicy:
    """The bundled alert policy, loaded once per process."""
    return load_policy()
