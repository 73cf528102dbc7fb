"""Incidental adrenal masses (ACR 2017) and cystic renal masses (Bosniak 2019) on CT/MR.

Adrenal: size is the long axis; an unenhanced attenuation <= 10 HU, macroscopic fat
(myelolipoma) or signal loss on opposed-phase MRI is benign; "stable" against a prior at
least a year old (or for a stated number of years) needs no follow-up; new or enlarging
masses and a cancer history change the branch.

Bosniak: the class the radiologist dictated ("Bosniak IIF", "Bosniak 2F", "Bosniak
category 3") decides; without one, the 2019 features in the words used (simple cyst or
simple fluid -> I; a few thin septa, calcification, hyperattenuating, homogeneous 21-30 HU
portal venous, too small to characterize -> II; minimally thickened (3 mm), many (>= 4)
thin septa, heterogeneous T1 hyperintensity on fat-suppressed MRI -> IIF; thick (>= 4 mm)
or irregular enhancing wall or septa -> III; enhancing nodule -> IV), with a negation
reaching only its own list item ("no septa, no calcification"). A "cyst" described by
nothing else is left unclassified.
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
_NOT_ENH = r"(?<!non)(?<!non-)(?<!non )"
_PAREN = r"(?:\s*\([^)]*\))?"
"""An optional parenthetical ("two thin (1 mm) smooth septa"), allowed after each word."""
_FEATURE_CLASSES: tuple[tuple[str, str], ...] = (
    (
        "IV",
        _NOT_ENH + r"enhancing (?:mural |solid |soft[- ]tissue |irregular |nodular )*"
        r"(?:nodul\w*|component|soft[- ]tissue)|nodular enhancement"
        r"|nodul\w* (?:that |which )?(?:enhances|enhancing|with enhancement)",
    ),
    (
        "III",
        r"(?<!minimally )(?<!minimal )\bthick(?:ened|ening)?\b"
        + _PAREN
        + r"(?:\s+(?:or|and|/)\s+irregular)?(?:\s+(?:smooth|irregular|nodular|enhancing))*"
        r"\s+(?:walls?|sept\w*)"
        r"|\birregular(?:ly)?" + _PAREN + r"(?:\s+(?:thick\w*|enhancing|thickened))*"
        r"\s+(?:walls?|sept\w*)"
        r"|\b(?:walls?|sept\w*) (?:is |are )?(?:irregular(?:ly)?|thick(?:ened)?)\b"
        r"|enhancing thick",
    ),
    (
        "IIF",
        r"\bminimal(?:ly)? thicken\w*"
        r"|\b(?:many|multiple|numerous|innumerable|(?:four|4|five|5|six|6) or more"
        r"|four|five|six|seven|eight|nine|ten|[4-9]"
        r"|more than (?:three|3)|(?:≥|>=)\s*4)\b"
        + _PAREN
        + r"(?:\s+(?:smooth|thin|fine|enhancing|non-?enhancing)"
        + _PAREN
        + r")*\s+sept\w*"
        r"|heterogeneous(?:ly)?\s+t1[- ]?hyperintens\w*"
        r"|heterogeneous(?:ly)?\s+(?:hyperintens\w*|high[- ]signal)[^,;.]{0,50}\bt1\b",
    ),
    (
        "II",
        r"\b(?:few|one|two|three|single|a|1\s*-\s*3|1 to 3)\b"
        + _PAREN
        + r"(?:\s+(?:smooth|thin|fine|hairline|enhancing|non-?enhancing)"
        + _PAREN
        + r")*\s+sept\w*"
        r"|\bthin (?:smooth |enhancing )*sept\w*|calcif\w*|hyperdense|hyperattenuating"
        r"|high[- ]attenuation|too small to characteri[sz]e|proteinaceous|hemorrhagic cyst"
        r"|homogeneous(?:ly)?\s+(?:markedly\s+)?t1[- ]?hyperintens\w*"
        r"|homogeneous(?:ly)?\s+(?:markedly\s+)?(?:hyperintens\w*|high[- ]signal)"
        r"[^,;.]{0,50}\bt1\b",
    ),
    (
        "I",
        r"simple(?:[- ]appearing)? (?:renal |kidney |cortical |parapelvic )?cyst"
        r"|simple fluid|\b(?:water|fluid)[- ](?:attenuation|density|signal)",
    ),
)
"""Bosniak 2019 features in the words radiologists use, highest class first: an enhancing
nodule (IV); a thick (>= 4 mm) or irregular enhancing wall or septa (III); a minimally
thickened (3 mm) wall or septa, many (>= 4) thin septa, or heterogeneous T1 hyperintensity
on fat-suppressed MRI (IIF); few (1-3) thin septa, calcification, hyperattenuation,
homogeneous T1 hyperintensity, too small to characterise (II); simple fluid (I)."""

_NEG_CUE = re.compile(
    r"\b(?:no|not|without|absent|negative for|free of|lacks?|lacking|neither|nor)\b", re.I
)
_SEGMENT = re.compile(r"[,;]|\band\b|\bwith\b", re.I)
_CYSTIC_WORDS = re.compile(
    r"\bwalls?\b|\bsept\w*|\bfluid\b|low[- ]attenuation|hypoattenuat\w*|hypodens\w*"
    r"|hyperintens\w*",
    re.I,
)
_UNENHANCED = re.compile(
    r"unenhanced|non[- ]?contrast|noncontrast|pre[- ]?contrast|without contrast|\bnative\b", re.I
)
_ENHANCED = re.compile(
    r"nephrographic|portal[- ]?venous|\bvenous\b|delayed|excretory|arterial|corticomedullary"
    r"|post[- ]?contrast|contrast[- ]enhanced|enhanced phase",
    re.I,
)


def _segments(text: str) -> list[str]:
    """``text`` cut at commas, semicolons, "and" and "with": the reach of a negation.

    Descriptive dictations list features after one another ("thin smooth wall, no septa,
    no calcification, no enhancement"): a "no" denies the feature of its own segment, not
    everything after it in the sentence.
    """
    return [seg for seg in _SEGMENT.split(text) if seg.strip()]


def _present(pattern: str, text: str) -> bool:
    """``pattern`` occurs in a segment of ``text`` with no negation before it there."""
    for seg in _segments(text):
        for m in re.finditer(pattern, seg, re.I):
            if not _NEG_CUE.search(seg[: m.start()]):
                return True
    return False


def _thickness_class(text: str) -> str:
    """The class a measured wall or septum thickness gives: 3 mm IIF, >= 4 mm III
    (<= 2 mm is thin: no class of its own)."""
    worst = ""
    for seg in _segments(text):
        if not re.search(r"\bwalls?\b|\bsept\w*", seg, re.I) or _NEG_CUE.search(seg):
            continue
        if re.search(r"nodul", seg, re.I):
            continue
        thickness_words = bool(re.search(r"thick", seg, re.I))
        for size in sizes(seg):
            mm = size.long_mm
            after = seg[size.end : size.end + 20]
            if mm > 10 or not (
                thickness_words or re.search(r"\b(?:walls?|sept(?:a|um|ations?))\b", after, re.I)
            ):
                continue  # "a 7 mm septated cyst" sizes the cyst, not its septa
            if mm >= 4:
                return "III"
            if mm >= 3:
                worst = "IIF"
    return worst


def _attenuation_class(case: Case, text: str) -> str:
    """II or I from the attenuation (HU) values of a homogeneous lesion, per Bosniak 2019:
    simple fluid (-9 to 20 HU) with an assessed wall or a contrast phase is I; at
    unenhanced CT alone it is II, as are >= 70 HU unenhanced, 21-30 HU portal venous, and
    a non-enhancing homogeneous mass above 20 HU."""
    if has(r"heterogeneous", text):
        return ""
    values: list[tuple[float, bool]] = []
    for seg in _segments(text):
        for m in _HU.finditer(seg):
            unenhanced = bool(_UNENHANCED.search(seg)) or (
                case.study.contrast is Contrast.NONE and not _ENHANCED.search(seg)
            )
            values.append((float(m.group(1)), unenhanced))
    if not values:
        return ""
    if any(v >= 70 for v, pre in values if pre):
        return "II"
    if all(-9 <= v <= 20 for v, _ in values):
        assessed = any(not pre for _, pre in values) or _present(
            r"\b(?:thin|smooth|imperceptible|hairline)\b[^,;]*\bwalls?\b", text
        )
        return "I" if assessed else "II"
    if any(21 <= v <= 30 for v, pre in values if not pre) and all(v <= 30 for v, _ in values):
        return "II"
    if all(v > 20 for v, _ in values) and has(
        r"non[- ]?enhancing|no (?:measurable |internal )?enhancement|does not enhance", text
    ):
        return "II"
    return ""


def _feature_class(case: Case, text: str) -> str:
    """The highest Bosniak 2019 class the described features reach ("" when none)."""
    order = ["IV", "III", "IIF", "II", "I"]
    found = [c for c, p in _FEATURE_CLASSES if _present(p, text)]
    found += [c for c in (_thickness_class(text), _attenuation_class(case, text)) if c]
    return min(found, key=order.index) if found else ""


_RENAL = re.compile(r"\b(renal|kidneys?|bosniak)\b", re.I)
_ANAPHOR = re.compile(r"^\W*(?:it|this|the (?:lesion|cyst|mass)|this (?:lesion|cyst|mass))\b", re.I)


def _renal_units(sentences: list[DictationSentence]) -> list[tuple[tuple[str, ...], str]]:
    """The renal sentences, each joined with the sentences that go on describing its lesion.

    "There is a 2.1 cm lesion in the left kidney. It is homogeneous, 25 HU in the portal
    venous phase, with a thin wall" describes one lesion over two sentences; the second
    (opening with "it", "this lesion", "the cyst") names no kidney of its own.
    """
    units: list[tuple[tuple[str, ...], str]] = []
    for sentence in sentences:
        text = sentence.text
        if _RENAL.search(text):
            units.append(((sentence.id,), text))
        elif (
            units
            and units[-1][0][-1] == _previous_id(sentences, sentence)
            and (_ANAPHOR.search(text))
        ):
            ids, joined = units[-1]
            units[-1] = ((*ids, sentence.id), f"{joined} {text}")
    return units


def _previous_id(sentences: list[DictationSentence], sentence: DictationSentence) -> str:
    index = sentences.index(sentence)
    return sentences[index - 1].id if index else ""


def bosniak(case: Case, sentences: list[DictationSentence]) -> GuidelineOutcome:
    """Bosniak 2019 for each cystic renal mass of a CT or MR."""
    out = GuidelineOutcome()
    if case.study.modality not in (Modality.CT, Modality.MR):
        return out
    for ids, text in _renal_units(sentences):
        stated = _BOSNIAK.search(text)
        cyst = re.search(r"\bcyst\w*|cystic", text, re.I)
        lesion = re.search(r"\b(?:lesions?|mass(?:es)?)\b", text, re.I)
        if cyst is not None and negated_at(text, cyst.start()):
            cyst = None
        described = (
            lesion is not None
            and not negated_at(text, lesion.start())
            and _present(_CYSTIC_WORDS.pattern, text)
        )
        if stated is None and cyst is None and not described:
            continue
        if stated is not None:
            category = _CLASSES[stated.group(1).lower()]
        else:
            category = _feature_class(case, text)
        if not category and cyst is None:
            continue  # a renal lesion that may not be cystic: not Bosniak's to decide
        if not category:
            out.skip(
                BOSNIAK,
                f"{ids[0]}: renal cyst without a Bosniak class or features that decide one",
            )
            continue
        found = sizes(text)
        largest = max((f.long_mm for f in found), default=0.0)
        size = f" {round(largest / 10, 1):g} cm" if found else ""
        side = next((w for w in ("right", "left") if w in text.lower()), "")
        out.findings.append(
            outcome_for(
                BOSNIAK,
                f"class-{category.lower()}",
                sources=ids,
                sentences=ids,
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
