"""The radiologist's own recommendations: which finding each is for, and whether it agrees.

A dictated sentence that recommends (or declines) a next step is attributed to a guideline
finding when it names the guideline, sits in one of the finding's sentences, names the
finding's organ, or is the only candidate; among several findings of one guideline the
location words decide. It is *concordant* when its action is compatible with one of the
guideline's steps (CT and low-dose CT count as the same modality, CT-or-MRI covers
either) and its first interval lies within that step's interval; "no follow-up" agrees
with a guideline that asks for none or only for optional steps. Hedging alone ("consider
CT at 18-24 months" where the guideline says "CT at 18-24 months") is not a discordance:
the interval, the modality and the action are the same.
"""

from __future__ import annotations

import re

from reportdraft.guidelines.outcome import FindingOutcome
from reportdraft.guidelines.reading import actions, interval_spans
from reportdraft.models.guidelines import Recommendation

_NAMES = {
    "fleischner-2017": r"fleischner",
    "lung-rads-2022": r"lung[- ]?rads",
    "acr-tirads-2017": r"ti[- ]?rads|\btr[1-5]\b",
    "acr-adrenal-2017": r"adrenal",
    "bosniak-2019": r"bosniak",
    "bi-rads-2013": r"bi[- ]?rads",
}
_TOPICS = {
    "fleischner-2017": r"nodul|lung|pulmonary|chest ct|\bct\b",
    "lung-rads-2022": r"nodul|lung|screening|ldct|low[- ]dose",
    "acr-tirads-2017": r"thyroid|nodul|\bfna\b|fine[- ]needle",
    "acr-adrenal-2017": r"adrenal",
    "bosniak-2019": r"renal|kidney|cyst|urolog",
    "bi-rads-2013": r"mammogra|breast|screening",
}
_COMPATIBLE = {
    ("ct", "ldct"),
    ("ldct", "ct"),
    ("ct", "ct_or_mri"),
    ("mri", "ct_or_mri"),
    ("ct_or_mri", "ct"),
    ("ct_or_mri", "mri"),
    ("ct", "adrenal_protocol_imaging"),
    ("mri", "adrenal_protocol_imaging"),
    ("ct_or_mri", "adrenal_protocol_imaging"),
    ("ct", "diagnostic_imaging"),
    ("us", "diagnostic_imaging"),
    ("mri", "diagnostic_imaging"),
    ("tissue_sampling", "fna"),
    ("fna", "tissue_sampling"),
    ("screening_mammography", "diagnostic_imaging"),
}
"""(dictated action, guideline action) pairs that name the same next step."""
_DURATION = re.compile(
    r"(?:\bfor|\buntil|\bup to|\bthrough|\bover|\bstable (?:for|over)|\bat least)\s*$", re.I
)


def primary_interval(text: str) -> tuple[int, int] | None:
    """The first follow-up interval of a sentence (a duration, "for 5 years", is skipped)."""
    for low, high, start in interval_spans(text):
        if not _DURATION.search(text[:start]):
            return (low, high)
    return None


def attribute(sentence_id: str, text: str, findings: list[FindingOutcome]) -> list[FindingOutcome]:
    """The findings a dictated recommendation sentence is about (empty: none of them)."""
    named = [f for f in findings if re.search(_NAMES[f.guideline], text, re.I)]
    pool = named or [
        f
        for f in findings
        if sentence_id in f.sentences or re.search(_TOPICS[f.guideline], text, re.I)
    ]
    if not pool and len({f.guideline for f in findings}) == 1:
        pool = list(findings)
    if len(pool) <= 1:
        return pool
    own = [f for f in pool if sentence_id in f.sentences]
    if own:
        return own
    words = set(re.findall(r"\b(right|left|upper|middle|lower|isthmus)\b", text.lower()))
    located = [f for f in pool if words and words <= set(f.words)]
    return located or pool


def _compatible(dictated: str, expected: str) -> bool:
    return dictated == expected or (dictated, expected) in _COMPATIBLE


def concordant(text: str, recommendations: list[Recommendation]) -> bool:
    """True when the dictated recommendation agrees with one of the guideline's steps."""
    named = actions(text)
    interval = primary_interval(text)
    if named == ["none"]:
        return all(r.action == "none" or r.optional for r in recommendations)
    follow_ups = [r for r in recommendations if r.action != "none"]
    if not follow_ups:
        return not (named or interval)
    candidates = [
        r for r in follow_ups if not named or any(_compatible(a, r.action) for a in named)
    ]
    if not candidates:
        return False
    timed = [r for r in candidates if r.interval_months is not None]
    if interval is None:
        return True
    if not timed:
        # A timed follow-up where the guideline asks for an untimed step (tissue sampling,
        # diagnostic CT): concordant only if the dictation names that step.
        return bool(named)
    return any(
        r.interval_months is not None
        and r.interval_months[0] <= interval[0]
        and interval[1] <= r.interval_months[1]
        for r in timed
    )


def expected_text(finding: FindingOutcome) -> str:
    """The guideline's recommendation for a finding, as one sentence."""
    return statement_text(finding)


def statement_text(finding: FindingOutcome) -> str:
    """The recommendation worded for the Impression: citation, finding, every step."""
    first = finding.recommendations[0]
    head = first.text.split(":", 1)[0]
    steps = [r.text.split(":", 1)[1].strip().rstrip(".") for r in finding.recommendations]
    return f"{head}: {'; '.join(steps)}."
