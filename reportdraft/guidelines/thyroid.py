"""ACR TI-RADS (2017) for thyroid nodules on ultrasound.

Each nodule's points are read from its dictated description (composition, echogenicity,
shape, margin, echogenic foci; spongiform scores 0 and no other feature adds points), the
level (TR1-TR5) follows from the sum, and the maximum diameter decides FNA, follow-up or
nothing. A feature that is not described scores 0; when no composition and no
echogenicity is described but the radiologist states a TR level ("TI-RADS 4", "TR4"), the
stated level is used. A nodule's description may run over several sentences: a sentence
without a size continues the nodule before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportdraft.guidelines.outcome import GuidelineOutcome, outcome_for
from reportdraft.guidelines.reading import affirmed, sizes
from reportdraft.guidelines.rulebook import guideline
from reportdraft.models import Case, DictationSentence, Modality

TIRADS = "acr-tirads-2017"

_FEATURES: dict[str, tuple[tuple[str, str], ...]] = {
    "composition": (
        ("spongiform", r"spongiform"),
        (
            "mixed",
            r"mixed (?:cystic and solid|solid and cystic)|predominantly (?:solid|cystic)"
            r"|partially cystic|solid and cystic|cystic and solid|complex cystic",
        ),
        (
            "cystic",
            r"(?:almost completely |purely |entirely |simple )?cystic|anechoic cyst|\bcyst\b",
        ),
        ("solid", r"(?:almost completely |entirely |predominantly )?solid"),
    ),
    "echogenicity": (
        ("very_hypoechoic", r"(?:very|markedly) hypoechoic"),
        ("hypoechoic", r"hypoechoic"),
        ("hyperechoic", r"hyperechoic"),
        ("isoechoic", r"isoechoic"),
        ("anechoic", r"anechoic"),
    ),
    "shape": (
        ("taller_than_wide", r"taller[- ]than[- ]wide"),
        ("wider_than_tall", r"wider[- ]than[- ]tall"),
    ),
    "margin": (
        ("extrathyroidal", r"extra[- ]?thyroidal extension|extends? beyond the thyroid"),
        ("lobulated", r"lobulated"),
        ("irregular", r"irregular(?: margins?)?"),
        ("ill_defined", r"ill[- ]defined"),
        ("smooth", r"smooth|well[- ]defined|circumscribed"),
    ),
}
_FOCI: tuple[tuple[str, str], ...] = (
    ("punctate", r"punctate echogenic foci|microcalcifications?|punctate calcifications?"),
    ("peripheral", r"peripheral (?:rim )?calcifications?|rim calcifications?|eggshell"),
    ("macrocalcifications", r"macrocalcifications?|coarse calcifications?"),
    ("comet_tail", r"comet[- ]tail"),
)
_NODULE = re.compile(r"\b(nodules?|lesions?|masses|mass|cysts?)\b", re.I)
_STATED = re.compile(r"\b(?:ti[- ]?rads|tr)\s*(?:category\s*|level\s*)?:?\s*([1-5])\b", re.I)
_LEVELS = ("TR1", "TR2", "TR3", "TR4", "TR5")


@dataclass
class ThyroidNodule:
    """One thyroid nodule being read: size, features found, sources."""

    max_cm: float
    features: dict[str, str] = field(default_factory=dict)
    foci: set[str] = field(default_factory=set)
    stated: str | None = None
    sentences: list[str] = field(default_factory=list)
    words: set[str] = field(default_factory=set)

    def read(self, text: str) -> None:
        """Add the features ``text`` describes (first match per feature wins)."""
        lowered = text.lower()
        for feature, options in _FEATURES.items():
            if feature in self.features:
                continue
            for value, pattern in options:
                if affirmed(rf"\b(?:{pattern})", lowered):
                    self.features[feature] = value
                    break
        for value, pattern in _FOCI:
            if affirmed(rf"\b(?:{pattern})", lowered):
                self.foci.add(value)
        stated = _STATED.search(text)
        if stated and self.stated is None:
            self.stated = f"TR{stated.group(1)}"
        self.words |= {
            w.lower() for w in re.findall(r"\b(right|left|isthmus|upper|mid|lower)\b", text, re.I)
        }

    def points(self) -> int:
        """The TI-RADS point total (spongiform: 0, nothing else adds)."""
        table = guideline(TIRADS).points
        if self.features.get("composition") == "spongiform":
            return 0
        total = sum(table[f][v] for f, v in self.features.items())
        return total + sum(table["foci"][v] for v in self.foci)

    def level(self) -> str:
        """TR1-TR5 from the points, or the stated level when no feature was described."""
        if self.stated and not {"composition", "echogenicity"} & set(self.features):
            return self.stated
        points = self.points()
        levels = guideline(TIRADS).levels
        return max((lvl for lvl in _LEVELS if points >= levels[lvl]), key=_LEVELS.index)


def is_thyroid_study(case: Case) -> bool:
    """An ultrasound of the thyroid or the neck."""
    study = case.study
    text = f"{study.procedure.display} {study.body_part}".lower()
    return study.modality is Modality.US and bool(re.search(r"thyroid|neck|head", text))


def read_thyroid_nodules(case: Case, sentences: list[DictationSentence]) -> list[ThyroidNodule]:
    """The thyroid nodules described in the dictation, in order."""
    thyroid_study = is_thyroid_study(case)
    nodules: list[ThyroidNodule] = []
    current: ThyroidNodule | None = None
    for sentence in sentences:
        text = sentence.text
        if not thyroid_study and not re.search(r"thyroid", text, re.I):
            current = None
            continue
        mentions = [m for m in _NODULE.finditer(text) if affirmed(re.escape(m.group(0)), text)]
        found = sizes(text)
        if mentions and found:
            current = ThyroidNodule(max_cm=max(s.long_mm for s in found[:1]) / 10)
            current.sentences.append(sentence.id)
            current.read(text)
            nodules.append(current)
        elif current is not None and not found and _continues(text):
            current.sentences.append(sentence.id)
            current.read(text)
        else:
            current = None
    return nodules


def _continues(text: str) -> bool:
    """A sentence that goes on describing the nodule before it (features, no new organ)."""
    lowered = text.lower()
    if re.search(r"\b(lymph|parathyroid|gland is|lobe measures|isthmus measures)\b", lowered):
        return False
    return (
        any(re.search(pattern, lowered) for options in _FEATURES.values() for _, pattern in options)
        or any(re.search(p, lowered) for _, p in _FOCI)
        or bool(_STATED.search(text))
        or "echogenic foci" in lowered
    )


def tirads(case: Case, sentences: list[DictationSentence]) -> GuidelineOutcome:
    """ACR TI-RADS for each thyroid nodule of a thyroid or neck ultrasound."""
    out = GuidelineOutcome()
    if case.study.modality is not Modality.US:
        return out
    book = guideline(TIRADS)
    for nodule in read_thyroid_nodules(case, sentences):
        level = nodule.level()
        fna, follow = book.thresholds_cm[level]
        size = round(nodule.max_cm, 1)
        if fna is not None and size >= fna:
            suffix = "fna"
        elif follow is not None and size >= follow:
            suffix = "follow"
        else:
            suffix = "none"
        rule = level.lower() if level in ("TR1", "TR2") else f"{level.lower()}-{suffix}"
        points = nodule.points()
        described = f"thyroid nodule {size:g} cm, {level}" + (
            f" ({points} points)"
            if {"composition", "echogenicity"} & set(nodule.features)
            else " (stated)"
        )
        out.findings.append(
            outcome_for(
                TIRADS,
                rule,
                sources=tuple(nodule.sentences),
                sentences=tuple(nodule.sentences),
                words=frozenset(nodule.words),
                finding=described,
            )
        )
    return out
