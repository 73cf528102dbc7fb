"""Pulmonary nodules read from a case: the facts Fleischner 2017 and Lung-RADS v2022 decide on.

Nodules come from dictated sentences (Findings and Impression; the same nodule mentioned
twice is merged by type and size) and from *confirmed* AI findings of type
``pulmonary_nodule`` (their measurements); rejected and pending AI findings are ignored.
A nodule keeps the mean of its long and short axis unrounded: each guideline rounds it its
own way (:mod:`.fleischner` to the millimetre, :mod:`.lung_rads` to one decimal). One
reader for both guidelines so that an incidental and a screening nodule are read alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from reportdraft.guidelines.reading import Size, has, negated_at, sizes
from reportdraft.models import Case, Decision, Modality

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
