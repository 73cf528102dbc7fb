"""BI-RADS (5th edition, 2013): the management that follows the radiologist's own category.

The category is never computed from findings: it is the final assessment the radiologist
dictated ("BI-RADS 4", "BI-RADS category 3", "BI-RADS 4B"). A breast study without one is
listed as not applicable, with the reason.
"""

from __future__ import annotations

import re

from reportdraft.guidelines.outcome import GuidelineOutcome, outcome_for
from reportdraft.models import Case, DictationSentence, Modality

BIRADS = "bi-rads-2013"
_CATEGORY = re.compile(
    r"\bbi-?rads\s*(?:category|assessment|final assessment)?\s*[:#-]?\s*([0-6])\s*([abc])?\b", re.I
)


def is_breast_study(case: Case) -> bool:
    """A mammogram, or a breast ultrasound or MRI."""
    study = case.study
    return study.modality is Modality.MG or bool(
        re.search(r"breast|mammo", f"{study.procedure.display} {study.body_part}", re.I)
    )


def birads(case: Case, sentences: list[DictationSentence]) -> GuidelineOutcome:
    """One recommendation per distinct dictated BI-RADS category."""
    out = GuidelineOutcome()
    if not is_breast_study(case):
        return out
    seen: dict[str, list[str]] = {}
    for sentence in sentences:
        for m in _CATEGORY.finditer(sentence.text):
            category = m.group(1) + (m.group(2).upper() if m.group(2) and m.group(1) == "4" else "")
            seen.setdefault(category, []).append(sentence.id)
    if not seen:
        out.skip(BIRADS, "no BI-RADS assessment category was dictated")
        return out
    # A probably benign finding seen on ultrasound alone is followed with ultrasound.
    ultrasound = case.study.modality is Modality.US
    for category, ids in seen.items():
        rule = f"category-{category[0]}"
        if rule == "category-3" and ultrasound:
            rule = "category-3-us"
        out.findings.append(
            outcome_for(
                BIRADS,
                rule,
                sources=tuple(ids),
                sentences=tuple(ids),
                category=category,
                finding=f"BI-RADS {category} assessment",
            )
        )
    return out
