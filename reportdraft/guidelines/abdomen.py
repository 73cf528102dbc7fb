"""Incidental adrenal masses (ACR 2017) and cystic renal masses (Bosniak 2019) on CT/MR.

Adrenal: size is the long axis; an unenhanced attenuation <= 10 HU, macroscopic fat
(myelolipoma) or signal loss on opposed-phase MRI is benign; "stable" against a prior at
least a year old (or for a stated number of years) needs no follow-up; new or enlarging
masses and a cancer history change the branch.

Bosniak: the class the radiologist dictated ("Bosniak IIF", "Bosniak 2F", "Bosniak
category 3") decides; without one, the 2019 features in the words used (simple cyst ->
I; a few thin septa, hyperattenuating, too small to characterize -> II; minimally
thickened or many thin septa -> IIF; thick or irregular enhancing wall or septa -> III;
enhancing nodule -> IV). A "cyst" described by nothing else is left unclassified.
"""

from __future__ import annotations

import re
from datetime import timedelta

from reportdraft.guidelines.outcome import FindingOutcome, GuidelineOutcome, outcome_for
from reportdraft.guidelines.patient_context import PatientContext
from reportdraft.guidelines.reading import affirmed, has, negated_at, sizes
from reportdraft.guidelines.rulebook import guideline
from reportdraft.models import Case, Contrast, DictationSentence, Modality

ADRENAL = "acr-adrenal-2017"
BOSNIAK = "bosniak-2019"

_ADRENAL_LESION = re.compile(
    r"\b(nodules?|mass(?:es)?|lesions?|adenomas?|incidentalomas?|myelolipomas?|thickening)\b", re.I
)
_HU = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:hu|hounsfield units?)\b", re.I)


def _side_words(text: str) -> frozenset[str]:
    return frozenset(
        w.lower() for w in re.findall(r"\b(right|left|upper|lower|mid|interpolar)\b", text, re.I)
    )


def _stable_a_year(case: Case, text: str) -> bool:
    if not has(r"\b(stable|unchanged)\b", text):
        return False
    if has(
        r"\b(\d+|one|two|three|several|many)\s*(?:years?|yrs?)\b|since 20\d\d|over (?:a|one) year",
        text,
    ):
        return True
    acquired = case.study.acquisition_time.date()
    return any(acquired - prior.date >= timedelta(days=365) for prior in case.study.comparisons)


def adrenal(
    case: Case, ctx: PatientContext, sentences: list[DictationSentence]
) -> GuidelineOutcome:
    """ACR incidental adrenal mass for each adrenal mass dictated on a CT or MR."""
    out = GuidelineOutcome()
    if case.study.modality not in (Modality.CT, Modality.MR):
        return out
    book = guideline(ADRENAL)
    for sentence in sentences:
        text = sentence.text
        organ = re.search(r"\badrenal\b", text, re.I)
        if organ is None:
            continue
        mentions = [m for m in _ADRENAL_LESION.finditer(text) if not negated_at(text, m.start())]
        found = sizes(text)
        if not mentions or not found:
            continue
        size_cm = round(max(found[0].dims) / 10, 1)
        cancer = bool(ctx.known_malignancy)
        hu = _HU.search(text)
        unenhanced = bool(
            hu
            and (
                has(
                    r"unenhanced|non[- ]?contrast|noncontrast|pre[- ]?contrast|without contrast",
                    text,
                )
                or (
                    case.study.contrast is Contrast.NONE
                    and not has(r"enhanc|venous|delayed|arterial", text)
                )
            )
        )
        benign = (
            unenhanced and hu is not None and float(hu.group(1)) <= book.threshold("benign_hu")
        ) or bool(
            affirmed(
                r"macroscopic fat|myelolipoma|signal (?:loss|drop)|lipid[- ]rich|fat[- ]containing",
                text,
            )
        )
        growing = bool(has(r"\b(new|newly|enlarg\w*|increas\w*|grow\w*)\b", text)) and not has(
            r"\bno (?:new|interval)", text
        )
        if size_cm < book.threshold("min_cm"):
            rule = "lt1cm"
        elif benign:
            rule = "benign-features"
        elif _stable_a_year(case, text):
            rule = "stable-1y"
        elif size_cm >= book.threshold("large_cm"):
            rule = "ge4cm-cancer" if cancer else "ge4cm"
        elif growing:
            rule = "growing-cancer" if cancer else "growing"
        elif cancer:
            rule = "cancer-lt4cm"
        elif size_cm <= book.threshold("small_cm"):
            rule = "1to2cm"
        else:
            rule = "2to4cm"
        sources = (sentence.id, *(ctx.known_malignancy.sources if cancer else ()))
        side = next((w for w in ("right", "left") if w in text.lower()), "")
        out.findings.append(
            outcome_for(
                ADRENAL,
                rule,
                sources=sources,
                sentences=(sentence.id,),
                words=_side_words(text),
                finding=f"{side + ' ' if side else ''}adrenal mass {size_cm:g} cm".strip()
                + (
                    ", history of cancer"
                    if cancer and rule not in ("lt1cm", "benign-features", "stable-1y")
                    else ""
                ),
            )
        )
    return _dedupe(out)


def _dedupe(out: GuidelineOutcome) -> GuidelineOutcome:
    """The Impression repeating a Findings sentence is the same mass: keep the first."""
    kept: list[FindingOutcome] = []
    for finding in out.findings:
        same = next((k for k in kept if k.finding == finding.finding), None)
        if same is None:
            kept.append(finding)
    out.findings = kept
    return out


_BOSNIAK = re.compile(
    r"\bbosniak\s*(?:class\w*|category|type)?\s*:?\s*(iif|2f|iv|iii|ii|i|[1-4])\b", re.I
)
_CLASSES = {
    "i": "I",
    "1": "I",
    "ii": "II",
    "2": "II",
    "iif": "IIF",
    "2f": "IIF",
    "iii": "III",
    "3": "III",
    "iv": "IV",
    "4": "IV",
}
_FEATURE_CLASSES: tuple[tuple[str, str], ...] = (
    ("IV", r"enhancing (?:mural |soft[- ]tissue )?nodul\w*|enhancing solid component"),
    (
        "III",
        r"thick(?:ened)? (?:enhancing )?(?:wall|septa|septation)s?"
        r"|irregular (?:enhancing )?(?:wall|septa|septation)s?|enhancing thick",
    ),
    (
        "IIF",
        r"minimally thickened|many (?:thin )?(?:septa|septations)"
        r"|multiple thin (?:enhancing )?(?:septa|septations)|numerous (?:thin )?(?:septa"
        r"|septations)|(?:four|4|five|5|six|6) or more (?:thin )?septa",
    ),
    (
        "II",
        r"(?:few|one|two|three|single|thin) (?:thin )?(?:septa|septum|septation)s?|hyperdense"
        r"|hyperattenuating|high[- ]attenuation|too small to characteri[sz]e|proteinaceous"
        r"|hemorrhagic cyst|calcification",
    ),
    ("I", r"simple (?:renal )?cyst|simple[- ]appearing cyst"),
)


def bosniak(case: Case, sentences: list[DictationSentence]) -> GuidelineOutcome:
    """Bosniak 2019 for each cystic renal mass of a CT or MR."""
    out = GuidelineOutcome()
    if case.study.modality not in (Modality.CT, Modality.MR):
        return out
    for sentence in sentences:
        text = sentence.text
        if not re.search(r"\b(renal|kidneys?|bosniak)\b", text, re.I):
            continue
        stated = _BOSNIAK.search(text)
        cyst = re.search(r"\bcyst\w*|cystic", text, re.I)
        if stated is None and (cyst is None or negated_at(text, cyst.start())):
            continue
        if stated is not None:
            category = _CLASSES[stated.group(1).lower()]
        else:
            category = next((c for c, p in _FEATURE_CLASSES if affirmed(p, text)), "")
        if not category:
            out.skip(
                BOSNIAK,
                f"{sentence.id}: renal cyst without a Bosniak class or features that decide one",
            )
            continue
        found = sizes(text)
        size = f" {round(max(found[0].dims) / 10, 1):g} cm" if found else ""
        side = next((w for w in ("right", "left") if w in text.lower()), "")
        out.findings.append(
            outcome_for(
                BOSNIAK,
                f"class-{category.lower()}",
                sources=(sentence.id,),
                sentences=(sentence.id,),
                words=_side_words(text),
                finding=f"{side} Bosniak {category} cystic renal mass{size}".strip(),
            )
        )
    return _dedupe_bosniak(out)


def _dedupe_bosniak(out: GuidelineOutcome) -> GuidelineOutcome:
    kept: list[FindingOutcome] = []
    for finding in out.findings:
        if not any(
            k.rule == finding.rule
            and (k.words & {"right", "left"}) == (finding.words & {"right", "left"})
            for k in kept
        ):
            kept.append(finding)
    out.findings = kept
    return out
