"""Fleischner 2017: follow-up of incidental pulmonary nodules on a non-screening CT.

The nodules come from :mod:`.lung_nodules`; Fleischner measures the mean of the long and
short axis rounded to the nearest millimetre (5.6 -> 6, 8 x 6 -> 7). The patients the
guidelines exclude (under 35, a known cancer, immunosuppression) and the screening CT
(Lung-RADS applies) are named as not applicable rather than silently left out.

A solid nodule the radiologist calls unchanged over at least two years needs no further
follow-up (the guidelines' footnote: two years of stability means benign). The span is
what the dictation says ("stable for more than 2 years", "unchanged since 2022") or, when
it names none, the time since the comparison CT it was compared with: the one whose date
the sentence names, else the most recent CT comparison (the shortest span, so never
longer than what the radiologist compared). Subsolid nodules are followed for five years
and are not released by this rule.
"""

from __future__ import annotations

import re
from datetime import date

from reportdraft.guidelines.lung_nodules import Nodule, read_nodules, shows_lung
from reportdraft.guidelines.outcome import GuidelineOutcome, outcome_for
from reportdraft.guidelines.patient_context import PatientContext
from reportdraft.guidelines.reading import affirmed, round_mm
from reportdraft.guidelines.rulebook import guideline
from reportdraft.models import Case, DictationSentence, Modality
from reportdraft.vocab.shared import numbers

FLEISCHNER = "fleischner-2017"


def fleischner(
    case: Case, ctx: PatientContext, sentences: list[DictationSentence]
) -> GuidelineOutcome:
    """Fleischner 2017 for the incidental nodules of a non-screening CT showing lung."""
    out = GuidelineOutcome()
    if not shows_lung(case):
        return out
    if ctx.screening:
        # Named rather than silently left out: the reader sees why no Fleischner
        # interval was given for the nodules of a screening CT.
        out.skip(FLEISCHNER, "lung cancer screening CT: Lung-RADS applies, not Fleischner")
        return out
    nodules, unsized_plural, plural_sources = read_nodules(case, sentences)
    if not nodules:
        if unsized_plural:
            out.skip(FLEISCHNER, "pulmonary nodules are mentioned without a size")
        return out
    book = guideline(FLEISCHNER)
    reasons = []
    if ctx.age is not None and ctx.age < book.threshold("min_age_years"):
        reasons.append(f"patient is {ctx.age} years old (the guidelines apply from 35 years)")
    if ctx.known_malignancy:
        reasons.append("known malignancy (the guidelines exclude patients with cancer)")
    if ctx.immunosuppressed:
        reasons.append("immunosuppression (the guidelines exclude immunocompromised patients)")
    if reasons:
        out.skip(FLEISCHNER, "; ".join(reasons))
        return out
    suspicious = [n for n in nodules if not n.benign]
    if not suspicious:
        out.skip(FLEISCHNER, "benign calcification or fat in the nodule(s): no follow-up needed")
        return out
    multiple = len(suspicious) > 1 or any(n.plural for n in suspicious) or unsized_plural
    high, risk_sources = ctx.high_risk()
    emphysema = [
        s.id
        for s in sentences
        if affirmed(r"emphysema|pulmonary fibrosis|interstitial fibrosis", s.text)
    ]
    if not high and emphysema and not ctx.stated_low_risk:
        high, risk_sources = True, tuple(emphysema)
    small, large = book.threshold("small_mm"), book.threshold("large_mm")
    kinds = {n.kind for n in suspicious}
    subsolid = kinds <= {"ground_glass", "part_solid"}
    if "solid" in kinds:
        chosen = max((n for n in suspicious if n.kind == "solid"), key=lambda n: n.mean_mm)
        if multiple and any(n.kind != "solid" for n in suspicious):
            chosen = max(suspicious, key=lambda n: n.mean_mm)
    else:
        chosen = max(suspicious, key=lambda n: (n.kind == "part_solid", n.mean_mm))
    size = round_mm(chosen.mean_mm)
    band = "lt6" if size < small else ("6to8" if size <= large else "gt8")
    count = "multiple" if multiple else "single"
    risk = "high" if high else "low"
    stable_years = _stable_years(case, suspicious, sentences)
    if stable_years is not None and stable_years >= book.threshold("stable_solid_years"):
        rule = "solid-stable-2y"
    elif chosen.kind == "solid" or not subsolid:
        rule = f"solid-{count}-{band}"
        if not (count == "single" and band == "gt8"):
            rule += f"-{risk}"
    elif multiple:
        rule = "subsolid-multiple-lt6" if size < small else "subsolid-multiple-ge6"
    elif chosen.kind == "ground_glass":
        rule = "ggn-single-lt6" if size < small else "ggn-single-ge6"
    elif (
        chosen.solid_component_mm is not None
        and round_mm(chosen.solid_component_mm) >= small
        and size >= small
    ):
        rule = "partsolid-single-solid-ge6"
    else:
        rule = "partsolid-single-lt6" if size < small else "partsolid-single-ge6"
    kind_words = {"solid": "solid", "ground_glass": "ground-glass", "part_solid": "part-solid"}[
        chosen.kind
    ]
    described = (
        f"{'multiple ' if multiple else 'single '}{kind_words} pulmonary "
        f"{'nodules, largest' if multiple else 'nodule'} {size} mm"
        + (f", {risk} risk" if rule.endswith(("-low", "-high")) else "")
        + (f", unchanged for {stable_years:.1f} years" if rule == "solid-stable-2y" else "")
    )
    sources = [src for n in suspicious for src in n.sources] + list(plural_sources)
    if rule.endswith(("-low", "-high")):
        sources += list(risk_sources)
    out.findings.append(
        outcome_for(
            FLEISCHNER,
            rule,
            sources=tuple(sources),
            sentences=tuple(s for n in suspicious for s in n.sources if s.startswith("D")),
            words=frozenset().union(*(n.words for n in suspicious)),
            finding=described,
        )
    )
    return out


_SPAN = re.compile(
    r"\b(?:for|over)\s+(?:more than|over|at least|greater than|>)?\s*"
    r"(\d+(?:\.\d+)?|[a-z]+)\s+years?\b",
    re.I,
)
_SINCE = re.compile(r"\bsince\s+(?:\w+\s+)?((?:19|20)\d\d)\b", re.I)


def _stable_years(
    case: Case, nodules: list[Nodule], sentences: list[DictationSentence]
) -> float | None:
    """Years every one of ``nodules`` has been unchanged, when all are solid and called
    stable; None when that is not so or no span can be read (see the module docstring)."""
    if not nodules or any(n.kind != "solid" or n.status != "stable" for n in nodules):
        return None
    texts = {s.id: s.text for s in sentences}
    acquired = case.study.acquisition_time.date()
    ct_dates = sorted(c.date for c in case.study.comparisons if c.modality is Modality.CT)
    spans = []
    for nodule in nodules:
        said = " ".join(texts[src] for src in nodule.sources if src in texts)
        spans.append(_span_of(said, acquired, ct_dates))
    if any(span is None for span in spans):
        return None
    return min(span for span in spans if span is not None)


def _span_of(text: str, acquired: date, ct_dates: list[date]) -> float | None:
    if (match := _SPAN.search(text)) is not None:
        word = match.group(1).lower()
        if word[0].isdigit():
            return float(word)
        if word in (counts := numbers().count_words()):
            return float(counts[word])
    if (since := _SINCE.search(text)) is not None:
        # "since 2024": counted from the end of that year, never longer than it can be
        return (acquired - date(int(since.group(1)), 12, 31)).days / 365.25
    named = [d for d in ct_dates if d.isoformat() in text]
    compared = named[0] if named else (ct_dates[-1] if ct_dates else None)
    if compared is None or compared > acquired:
        return None
    return (acquired - compared).days / 365.25
