"""Pulmonary nodules: the reader, Fleischner 2017 (incidental) and Lung-RADS v2022 (screening).

Nodules come from dictated sentences (Findings and Impression; the same nodule mentioned
twice is merged by type and size) and from *confirmed* AI findings of type
``pulmonary_nodule`` (their measurements); rejected and pending AI findings are ignored.
Fleischner measures the mean of the long and short axis rounded to the nearest millimetre
(5.6 -> 6, 8 x 6 -> 7); Lung-RADS the mean diameter to one decimal, and places airway
(endobronchial) nodules by airway level instead of size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from reportdraft.guidelines.outcome import GuidelineOutcome, outcome_for
from reportdraft.guidelines.patient_context import PatientContext
from reportdraft.guidelines.reading import (
    Size,
    affirmed,
    has,
    negated_at,
    round_mm,
    round_tenth,
    sizes,
)
from reportdraft.guidelines.rulebook import guideline
from reportdraft.models import Case, Decision, DictationSentence, Modality

_NODULE = re.compile(
    r"\b(nodules?|granulomas?|nodular opacit(?:y|ies)|ground[- ]glass opacit(?:y|ies)|ggos?"
    r"|ggns?)\b",
    re.I,
)
_PLURAL = re.compile(
    r"\b(nodules|multiple|several|numerous|scattered|few|two|three|four|bilateral nodules)\b", re.I
)
_OTHER_ORGAN = re.compile(
    r"\b(thyroid|liver|hepatic|renal|kidney|adrenal|breast|pancrea\w*|splen\w*|lymph|nodal"
    r"|skin|subcutaneous|cutaneous|prostat\w*|ovar\w*|uter\w*|bone|osseous|vocal|gallbladder)\b",
    re.I,
)
_LUNG = re.compile(
    r"\b(lungs?|pulmonary|lingula\w*|(?:upper|middle|lower) lobe|perifissural|juxtapleural"
    r"|fissure|pleura\w*|bases?)\b",
    re.I,
)
_LOCATION = re.compile(
    r"\b(right|left|upper|middle|lower|lingula\w*|apical|basal|superior|perihilar)\b", re.I
)


@dataclass(frozen=True)
class Nodule:
    """One pulmonary nodule as read from the case."""

    dims: tuple[float, ...]
    kind: str  # solid | ground_glass | part_solid
    solid_component_mm: float | None
    benign: bool
    juxtapleural: bool
    spiculated: bool
    status: str | None  # new | growing | stable | None
    prior_mm: float | None
    plural: bool
    words: frozenset[str]
    sources: tuple[str, ...]

    @property
    def mean_mm(self) -> float:
        """Mean of the long and short axis (axial plane)."""
        axial = self.dims[:2]
        return sum(axial) / len(axial)


_NO_SOLID_PART = re.compile(
    r"\b(?:no|without|absent|lacks?|lacking|free of)\s+"
    r"(?:(?!change|growth|increase|interval|enlargement)[a-z-]+\s+){0,2}?"
    r"solid (?:component|portion|part|element)s?",
    re.I,
)


def _kind(text: str) -> str:
    """Solid, ground-glass or part-solid. A denied solid component ("pure ground-glass
    nodule with no solid component") makes a nonsolid nodule, not a part-solid one."""
    text = _NO_SOLID_PART.sub(" ", text)
    if has(
        r"part[- ]?solid|semi[- ]?solid|mixed (?:solid and )?ground[- ]glass|solid component"
        r"|solid portion",
        text,
    ):
        return "part_solid"
    if has(r"ground[- ]glass|non[- ]?solid|\bggo|\bggn|pure ground", text):
        return "ground_glass"
    return "solid"


def _benign(text: str) -> bool:
    if has(r"non[- ]?calcified|partially calcified|eccentric calcification|stippled", text):
        return False
    return bool(
        has(
            r"\bcalcified|benign calcification|popcorn|central calcification"
            r"|laminated calcification"
            r"|fat[- ]containing|contains? (?:macroscopic )?fat|hamartoma|granuloma",
            text,
        )
    )


def _status(text: str) -> str | None:
    if has(r"\b(grow\w*|grown|enlarg\w*|increas\w* in size|increased from|larger)\b", text):
        return "growing"
    if has(r"\bnew\b|newly", text) and not has(r"\bno new\b", text):
        return "new"
    if has(r"\b(stable|unchanged|no (?:interval )?change)\b", text):
        return "stable"
    return None


def _prior_and_component(text: str) -> tuple[float | None, float | None, set[int]]:
    """The prior size, the solid component and the spans (starts) of both in ``text``."""
    prior = component = None
    spans: set[int] = set()
    for size in sizes(text):
        before = text[max(0, size.start - 30) : size.start].lower()
        after = text[size.end : size.end + 25].lower()
        if re.search(
            r"(previously|from|prior|was|before|compared with|formerly)\W*(?:measuring\W*)?$",
            before,
        ):
            prior = size.mean_mm
            spans.add(size.start)
        elif re.search(r"^\W*solid component|^\W*solid portion", after) or re.search(
            r"solid (?:component|portion)\W*(?:of|measuring|measures|is|which measures)?\W*$",
            before,
        ):
            component = size.mean_mm
            spans.add(size.start)
    return prior, component, spans


_MEAN_CUE = re.compile(
    r"\b(?:mean|average|avg)\.?(?:\s+(?:axial\s+)?(?:diameter|size|dimension))?"
    r"\W*(?:of|is|=|measuring|measures)?\W*$",
    re.I,
)


_AXIS_CUE = re.compile(
    r"\b(?:long|short|longest|shortest|greatest|least|perpendicular|orthogonal)"
    r"(?:[- ]axis| dimension| diameter)?\W*(?:of|is|=|measuring|measures)?\W*$",
    re.I,
)


def _one_nodule_sizes(text: str, current: list[Size], mentions: int) -> list[Size]:
    """The sizes of ``text`` that are separate nodules.

    A sentence about one nodule that also states its mean diameter ("Solid 8 mm nodule
    (series 3, image 29), mean diameter 8 mm"; "measuring 8 x 6 mm, mean 7 mm") measures
    one nodule twice: the stated mean is its size; so do its long and short axis written
    apart ("long axis 9 mm, short axis 7 mm"). Left as two sizes they would read as two
    nodules and move a single nodule to the "multiple" rows of Fleischner.
    """
    if mentions != 1 or len(current) < 2 or _PLURAL.search(text):
        return current
    stated = [s for s in current if _MEAN_CUE.search(text[max(0, s.start - 40) : s.start])]
    if stated:
        return stated[:1]
    axes = [s for s in current if _AXIS_CUE.search(text[max(0, s.start - 25) : s.start])]
    if len(axes) >= 2:
        dims = tuple(a.long_mm for a in axes[:2])
        return [Size(dims=dims, start=axes[0].start, end=axes[1].end)]
    return current


class TextUnit(Protocol):
    """A text with the id it is cited by (a dictated sentence, a prior report's sentence)."""

    @property
    def id(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class PriorSentence:
    """A sentence of a prior report, cited ``P:prior-<n>`` (n: the comparison's position)."""

    id: str
    text: str


def with_priors(case: Case, nodules: list[Nodule]) -> list[Nodule]:
    """Nodules with their size on prior CT reports (``report_text`` of a comparison).

    A current nodule without a dictated prior size takes the size of the prior report's
    nodule of the same type on the same side (and lobe, when both name one): the
    difference decides growth for Lung-RADS, and the prior is cited ``P:prior-<n>``.
    """
    priors: list[Nodule] = []
    for n, prior in enumerate(case.study.comparisons, start=1):
        if prior.report_text is None or prior.modality is not Modality.CT:
            continue
        parts = re.split(r"(?<=[.!?])\s+", prior.report_text)
        units = [PriorSentence(id=f"P:prior-{n}", text=t) for t in parts if t.strip()]
        found, _plural, _sources = read_nodules(case, units, ai=False)
        priors += found
    if not priors:
        return nodules
    out = []
    for nodule in nodules:
        match = next(
            (
                p
                for p in priors
                if p.kind == nodule.kind
                and (p.words & {"right", "left"}) == (nodule.words & {"right", "left"})
                and (
                    not (p.words & {"upper", "middle", "lower"})
                    or not (nodule.words & {"upper", "middle", "lower"})
                    or p.words & nodule.words & {"upper", "middle", "lower"}
                )
            ),
            None,
        )
        if match is None or nodule.prior_mm is not None:
            out.append(nodule)
            continue
        out.append(
            replace(
                nodule,
                prior_mm=match.mean_mm,
                status=nodule.status if nodule.status == "new" else None,
                sources=nodule.sources + match.sources,
            )
        )
    return out


def read_nodules(
    case: Case, sentences: Sequence[TextUnit], *, ai: bool = True
) -> tuple[list[Nodule], bool, tuple[str, ...]]:
    """(nodules with a size, whether unsized plural nodules were mentioned, their sources)."""
    found: list[Nodule] = []
    plural_sources: list[str] = []
    for sentence in sentences:
        text = sentence.text
        if _OTHER_ORGAN.search(text) and not _LUNG.search(text):
            continue  # a thyroid, liver or lymph node "nodule" is not a pulmonary nodule
        mentions = [m for m in _NODULE.finditer(text) if not negated_at(text, m.start())]
        if not mentions:
            continue
        prior, component, spans = _prior_and_component(text)
        current = _one_nodule_sizes(
            text, [s for s in sizes(text) if s.start not in spans], len(mentions)
        )
        plural = bool(_PLURAL.search(text)) and not has(r"\bno (?:other|additional|further)", text)
        words = frozenset(w.lower() for w in _LOCATION.findall(text))
        if not current:
            if plural:
                plural_sources.append(sentence.id)
            continue
        for size in current:
            found.append(
                Nodule(
                    dims=size.dims,
                    kind=_kind(text),
                    solid_component_mm=component,
                    benign=_benign(text),
                    juxtapleural=bool(
                        has(
                            r"peri[- ]?fissural|juxta[- ]?pleural|subpleural|pleural[- ]based"
                            r"|fissural",
                            text,
                        )
                    ),
                    spiculated=bool(has(r"spiculat", text)),
                    status=_status(text),
                    prior_mm=prior,
                    plural=plural or len(current) > 1,
                    words=words,
                    sources=(sentence.id,),
                )
            )
    for finding in case.ai_findings if ai else ():
        if finding.decision is not Decision.CONFIRMED or "nodule" not in finding.finding_type:
            continue
        dims = tuple(
            m.value * 10 if m.unit == "cm" else m.value
            for m in finding.measurements
            if m.unit in ("mm", "cm")
        )
        if not dims:
            continue
        text = f"{finding.description} {finding.location}"
        found.append(
            Nodule(
                dims=dims[:2],
                kind=_kind(text),
                solid_component_mm=None,
                benign=_benign(text),
                juxtapleural=bool(has(r"peri[- ]?fissural|juxta[- ]?pleural|subpleural", text)),
                spiculated=bool(has(r"spiculat", text)),
                status=None,
                prior_mm=None,
                plural=False,
                words=frozenset(w.lower() for w in _LOCATION.findall(text)),
                sources=(finding.id,),
            )
        )
    return _merge(found), bool(plural_sources), tuple(plural_sources)


def _merge(nodules: list[Nodule]) -> list[Nodule]:
    """One nodule per (type, size): the Impression repeating a Finding, an AI finding
    confirming a dictated nodule, are the same nodule with more sources."""
    merged: list[Nodule] = []
    for nodule in nodules:
        same = next(
            (
                m
                for m in merged
                if m.kind == nodule.kind
                and abs(m.mean_mm - nodule.mean_mm) <= 1.0
                and not (
                    m.words & {"right", "left"}
                    and nodule.words & {"right", "left"}
                    and not m.words & nodule.words & {"right", "left"}
                )
            ),
            None,
        )
        if same is None:
            merged.append(nodule)
            continue
        index = merged.index(same)
        merged[index] = replace(
            same,
            sources=tuple(dict.fromkeys(same.sources + nodule.sources)),
            words=same.words | nodule.words,
            status=same.status or nodule.status,
            prior_mm=same.prior_mm if same.prior_mm is not None else nodule.prior_mm,
            solid_component_mm=same.solid_component_mm
            if same.solid_component_mm is not None
            else nodule.solid_component_mm,
            benign=same.benign or nodule.benign,
            juxtapleural=same.juxtapleural or nodule.juxtapleural,
            spiculated=same.spiculated or nodule.spiculated,
            plural=same.plural or nodule.plural,
            dims=same.dims if len(same.dims) >= len(nodule.dims) else nodule.dims,
        )
    return merged


def shows_lung(case: Case) -> bool:
    """A CT that includes lung: chest, abdomen (lung bases), cardiac, spine of the thorax."""
    study = case.study
    text = f"{study.procedure.display} {study.body_part}".lower()
    return study.modality is Modality.CT and bool(
        re.search(r"chest|thora|lung|abdom|cardiac|heart|coronary|rib|t[- ]?spine|thoracic", text)
    )


# --- Fleischner 2017 -------------------------------------------------------------------------

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
    if chosen.kind == "solid" or not subsolid:
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
        + (f", {risk} risk" if rule.startswith("solid") and rule != "solid-single-gt8" else "")
    )
    sources = [src for n in suspicious for src in n.sources] + list(plural_sources)
    if rule.startswith("solid") and rule != "solid-single-gt8":
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


# --- Lung-RADS v2022 -------------------------------------------------------------------------

LUNG_RADS = "lung-rads-2022"
_ORDER = ["0", "1", "2", "3", "4A", "4B", "4X"]


def _category(n: Nodule, baseline: bool) -> str:
    """The Lung-RADS category of one nodule."""
    book = guideline(LUNG_RADS)
    size = round_tenth(n.mean_mm)
    status = n.status
    if n.prior_mm is not None and status in (None, "growing", "stable"):
        status = "growing" if size - n.prior_mm > book.threshold("growth_mm") else "stable"
    if n.benign:
        return "1"
    if n.kind == "ground_glass":
        cut = book.band("non_solid")["cat3"]
        if status == "stable":
            return "2"
        return "3" if size >= cut and status != "growing" else "2"
    if n.kind == "part_solid":
        comp = round_tenth(n.solid_component_mm) if n.solid_component_mm is not None else None
        bands = book.band("part_solid_component")
        if status in ("new", "growing"):
            if comp is None:
                return "3" if status == "new" else "4A"
            return "4B" if comp >= book.band("part_solid_component_new")["cat4b"] else "4A"
        if size < book.band("part_solid_total")["cat3"]:
            cat = "2"
        elif comp is None or comp < bands["cat4a"]:
            cat = "3"
        else:
            cat = "4B" if comp >= bands["cat4b"] else "4A"
        return _stepped(cat, status)
    if n.juxtapleural and size < book.threshold("juxtapleural_max_mm") and status != "growing":
        return "2"
    if status == "new":
        b = book.band("solid_new")
    elif status == "growing":
        return "4B" if size >= book.band("solid_growing")["cat4b"] else "4A"
    else:
        b = book.band("solid")
    if size < b["cat3"]:
        cat = "2"
    elif size < b["cat4a"]:
        cat = "3"
    elif size < b["cat4b"]:
        cat = "4A"
    else:
        cat = "4B"
    return _stepped(cat, status) if status != "new" else cat


_AIRWAY = (
    r"\b(?:endobronchial|endoluminal|intraluminal|endotracheal)\b"
    r"|\bairway (?:nodules?|lesions?|masse?s?)"
    r"|\b(?:nodules?|lesions?|soft[- ]tissue|mass)\b[^,.;]{0,15}\b(?:with)?in the\b[^,.;]{0,50}"
    r"\b(?:bronch(?:us|i)|trachea)\b"
)
_PROXIMAL_AIRWAY = re.compile(
    r"(?<!sub)(?<!sub-)\bsegmental\b|\blobar\b|main[- ]?stem|main (?:bronch\w*|airway)"
    r"|bronchus intermedius|intermediate bronchus|trachea\w*|carina|central airway"
    r"|(?:upper|middle|lower|lingular) lobe bronch\w*|lingular bronch\w*",
    re.I,
)


def _airway_nodules(
    sentences: Sequence[DictationSentence], baseline: bool
) -> list[tuple[str, str, str]]:
    """Airway (endobronchial) nodules as ``(category, level, sentence id)``.

    Lung-RADS v2022 places them by airway level, not size: subsegmental -> 2; segmental
    or more proximal -> 4A at baseline or when new, 4B when stable or growing at follow-up
    (the 3-month LDCT). A dictation that names no airway level is left to the size rules.
    """
    found = []
    for sentence in sentences:
        text = sentence.text
        if not affirmed(_AIRWAY, text):
            continue
        if has(r"\bsub[- ]?segmental\b", text) and not _PROXIMAL_AIRWAY.search(text):
            found.append(("2", "subsegmental", sentence.id))
        elif _PROXIMAL_AIRWAY.search(text):
            persistent = not baseline and bool(
                has(r"\b(persist\w*|stable|unchanged|grow\w*|enlarg\w*|increas\w*)\b", text)
            )
            found.append(("4B" if persistent else "4A", "segmental or more proximal", sentence.id))
    return found


def _stepped(category: str, status: str | None) -> str:
    """Stepped management: a category 3 nodule stable at follow-up becomes 2, a 4A becomes 3."""
    if status != "stable":
        return category
    return {"3": "2", "4A": "3"}.get(category, category)


def lung_rads(
    case: Case, ctx: PatientContext, sentences: list[DictationSentence]
) -> GuidelineOutcome:
    """Lung-RADS v2022 for a lung cancer screening CT: the exam's category is its worst nodule's."""
    out = GuidelineOutcome()
    if not ctx.screening:
        return out
    nodules, _plural, plural_sources = read_nodules(case, sentences)
    nodules = with_priors(case, nodules)
    baseline = not any(c.modality is Modality.CT for c in case.study.comparisons)
    incomplete = [
        s.id
        for s in sentences
        if affirmed(
            r"prior (?:ct|examination|study) (?:is )?(?:being|to be) (?:obtained|located|requested)"
            r"|comparison (?:is )?pending|incompletely (?:evaluated|imaged)"
            r"|cannot be (?:fully )?evaluated"
            r"|(?:infectious|inflammatory) process|pneumonia",
            s.text,
        )
    ]
    book = guideline(LUNG_RADS)
    if incomplete:
        out.findings.append(
            outcome_for(
                LUNG_RADS,
                "category-0",
                sources=(*incomplete, *ctx.screening.sources),
                sentences=tuple(incomplete),
            )
        )
        return out
    airway = _airway_nodules(sentences, baseline)
    airway_ids = {sid for _, _, sid in airway}
    nodules = [n for n in nodules if not set(n.sources) <= airway_ids]
    worst = "1"
    worst_nodule: Nodule | None = None
    worst_airway: tuple[str, str, str] | None = None
    for found in airway:
        if _ORDER.index(found[0]) > _ORDER.index(worst):
            worst, worst_airway = found[0], found
    for n in nodules:
        cat = _category(n, baseline)
        if cat in ("3", "4A", "4B") and n.spiculated:
            cat = "4X"
        if _ORDER.index(cat) > _ORDER.index(worst):
            worst, worst_nodule, worst_airway = cat, n, None
    rule = {
        "1": "category-1",
        "2": "category-2",
        "3": "category-3",
        "4A": "category-4a",
        "4B": "category-4b",
        "4X": "category-4x",
    }[worst]
    if worst == "4A" and worst_nodule is not None:
        solid = (
            worst_nodule.mean_mm
            if worst_nodule.kind == "solid"
            else worst_nodule.solid_component_mm
        )
        if (
            solid is not None
            and round_tenth(solid) >= book.band("solid")["cat4a"]
            and book.threshold("pet_min_solid_mm")
        ):
            rule = "category-4a-pet"
    sources = [*ctx.screening.sources]
    sentence_ids: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()
    finding = None
    if worst_nodule is not None:
        sources = [*worst_nodule.sources, *sources]
        sentence_ids = tuple(s for s in worst_nodule.sources if s.startswith("D"))
        words = worst_nodule.words
        kind_words = {"solid": "solid", "ground_glass": "ground-glass", "part_solid": "part-solid"}[
            worst_nodule.kind
        ]
        finding = (
            f"{'baseline' if baseline else 'annual'} screening CT, "
            f"{worst_nodule.status + ' ' if worst_nodule.status else ''}"
            f"{kind_words} nodule {round_tenth(worst_nodule.mean_mm):g} mm"
        )
    elif worst_airway is not None:
        sources = [worst_airway[2], *sources]
        sentence_ids = (worst_airway[2],)
        finding = (
            f"{'baseline' if baseline else 'follow-up'} screening CT, "
            f"{worst_airway[1]} airway nodule"
        )
    elif worst == "1":
        finding = f"{'baseline' if baseline else 'annual'} screening CT without lung nodules"
    out.findings.append(
        outcome_for(
            LUNG_RADS,
            rule,
            sources=tuple(sources) + plural_sources,
            sentences=sentence_ids,
            words=words,
            finding=finding,
        )
    )
    return out
