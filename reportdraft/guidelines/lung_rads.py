"""Lung-RADS v2022: the category of a lung cancer screening CT, its worst nodule's.

The nodules come from :mod:`.lung_nodules`, with their size on prior CT reports (growth is
the difference); Lung-RADS measures the mean diameter to one decimal, and places airway
(endobronchial) nodules by airway level instead of size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reportdraft.guidelines.lung_nodules import Nodule, read_nodules, with_priors
from reportdraft.guidelines.outcome import GuidelineOutcome, outcome_for
from reportdraft.guidelines.patient_context import PatientContext
from reportdraft.guidelines.reading import affirmed, has, round_tenth
from reportdraft.guidelines.rulebook import guideline
from reportdraft.models import Case, DictationSentence, Modality

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
