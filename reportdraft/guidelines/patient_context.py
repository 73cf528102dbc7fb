"""Facts about the patient and the study that decide which guideline applies.

Age at acquisition (from the birth date), sex, smoking history and other lung-cancer risk
factors, a known malignancy, immunosuppression and the screening context, each with the
ids of the texts it was read from (``C:clinical_history``, ``C:indication``, ``D3`` ...).
History text is read clause by clause with its negation ("No personal history of breast
cancer" is no cancer history) and with family history kept apart ("mother diagnosed with
lung cancer" is a risk factor, not the patient's cancer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportdraft.guidelines.reading import negated_at
from reportdraft.models import Case, Modality, NormalizedDictation, SectionKind

_CANCER = (
    r"\b(cancers?|\w*carcinomas?|malignan\w*|\w*lymphomas?|melanomas?|\w*sarcomas?|leuka?emias?"
    r"|myelomas?|mesotheliomas?|\w*blastomas?|seminomas?|metasta\w*|oncolog\w*|neoplasms?"
    r"|(?:re)?staging)\b"
)
"""The patient's cancer, however dictated: "biopsy-proven sigmoid adenocarcinoma", "known
lymphoma", "history of melanoma", "metastatic disease", "staging of ...". Prefixed names
(adeno-, osteo-, lipo-, neuro-) are the same diagnoses, so those names take any prefix."""
_IMMUNO = (
    r"\b(immunosuppress\w*|immunocompromis\w*|transplant\w*|hiv|aids|chemotherapy"
    r"|neutropeni\w*|on (?:chronic |long[- ]term |high[- ]dose )?steroids)\b"
)
_FAMILY = r"\b(family|mother|father|sister|brother|sibling|parent|aunt|uncle|grand\w+)\b"
_HYPOTHETICAL = (
    r"\b(rule out|r/o|evaluate for|eval for|assess for|concern for|suspected|screen\w* for|\?)"
)
_NEVER_SMOKER = (
    r"\b(never[- ]smoker|non[- ]?smoker|never smoked|lifelong non[- ]?smoker|no smoking history"
    r"|no history of smoking|denies (?:any )?(?:smoking|tobacco))\b"
)
_SMOKER = r"\b(smok\w*|tobacco|cigarettes?|pack[- ]?years?|\bpy\b)"
_RISK = (
    r"\b(asbestos|radon|uranium|family history of lung cancer|(?:mother|father|sister"
    r"|brother)\b[^.;]{0,40}\blung cancer)"
)
_SCREENING_PROCEDURE = re.compile(
    r"\b(ldct|low[- ]dose|lung cancer screening|lung screening|screening)\b", re.IGNORECASE
)
_SCREENING_CODES = frozenset({"71271", "G0297", "S8032"})
"""CPT 71271 (CT thorax, low dose for lung cancer screening) and its HCPCS predecessors."""


@dataclass(frozen=True)
class Fact:
    """A yes/no fact with the texts it was read from (empty when it was not found)."""

    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sources)


@dataclass(frozen=True)
class PatientContext:
    """What the guidelines need to know about the patient and the study."""

    age: int | None
    sex: str
    smoker: Fact = field(default_factory=Fact)
    never_smoker: Fact = field(default_factory=Fact)
    other_risk: Fact = field(default_factory=Fact)
    stated_high_risk: Fact = field(default_factory=Fact)
    stated_low_risk: Fact = field(default_factory=Fact)
    known_malignancy: Fact = field(default_factory=Fact)
    immunosuppressed: Fact = field(default_factory=Fact)
    screening: Fact = field(default_factory=Fact)
    modality: str = ""
    study_text: str = ""

    def high_risk(self) -> tuple[bool, tuple[str, ...]]:
        """Fleischner risk: a dictated "high/low risk" wins; else smoking or another risk
        factor (asbestos, radon, uranium, family history of lung cancer, emphysema or
        fibrosis: the last two read from the dictation by the caller) makes it high.
        Without any documented risk factor the patient is treated as low risk."""
        if self.stated_high_risk:
            return True, self.stated_high_risk.sources + self.smoker.sources
        if self.stated_low_risk:
            return False, self.stated_low_risk.sources
        if self.smoker and not self.never_smoker:
            return True, self.smoker.sources
        if self.other_risk:
            return True, self.other_risk.sources
        return False, self.never_smoker.sources


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"(?<=[.;])\s+|\n", text) if c.strip()]


def _affirmed_personal(pattern: str, text: str) -> bool:
    """``pattern`` occurs in a clause that neither negates it, nor is about a relative, nor
    is hypothetical ("rule out malignancy")."""
    for clause in _clauses(text):
        for m in re.finditer(pattern, clause, re.I):
            if negated_at(clause, m.start()):
                continue
            if re.search(_FAMILY, clause, re.I) or re.search(_HYPOTHETICAL, clause, re.I):
                continue
            return True
    return False


def _texts(case: Case, dictation: NormalizedDictation) -> list[tuple[str, str]]:
    texts = [("C:indication", case.study.indication)]
    if case.study.clinical_history:
        texts.append(("C:clinical_history", case.study.clinical_history))
    texts += [
        (s.id, s.text) for s in dictation.content() if s.section is SectionKind.CLINICAL_HISTORY
    ]
    return texts


def _fact(texts: list[tuple[str, str]], test: object) -> Fact:
    found = tuple(src for src, text in texts if callable(test) and test(text))
    return Fact(found)


def read_context(case: Case, dictation: NormalizedDictation) -> PatientContext:
    """The patient's and the study's guideline-relevant facts."""
    study = case.study
    acquired = study.acquisition_time.date()
    born = case.patient.birth_date
    age = acquired.year - born.year - ((acquired.month, acquired.day) < (born.month, born.day))
    texts = _texts(case, dictation)
    every = [*texts, *((s.id, s.text) for s in dictation.content())]
    smoker = _fact(
        texts,
        lambda t: bool(re.search(_SMOKER, t, re.I)) and not re.search(_NEVER_SMOKER, t, re.I),
    )
    never = _fact(texts, lambda t: bool(re.search(_NEVER_SMOKER, t, re.I)))
    risk = _fact(texts, lambda t: bool(re.search(_RISK, t, re.I)))
    high = _fact(every, lambda t: bool(re.search(r"\bhigh[- ]risk\b", t, re.I)))
    low = _fact(every, lambda t: bool(re.search(r"\blow[- ]risk\b", t, re.I)))
    cancer = _fact(
        texts,
        lambda t: (
            _affirmed_personal(_CANCER, t)
            and not re.search(r"\b(?:lung )?cancer screening\b", t, re.I)
        ),
    )
    immuno = _fact(texts, lambda t: _affirmed_personal(_IMMUNO, t))
    screening_sources: list[str] = []
    procedure = f"{study.procedure.display} {study.body_part}"
    if study.modality is Modality.CT and re.search(r"chest|thorax|lung", procedure, re.I):
        if study.procedure.code in _SCREENING_CODES or _SCREENING_PROCEDURE.search(
            study.procedure.display
        ):
            screening_sources.append("C:procedure")
        if re.search(
            r"\b(lung cancer screening|lung screening|ldct|low[- ]dose)\b", study.indication, re.I
        ):
            screening_sources.append("C:indication")
    return PatientContext(
        age=age,
        sex=case.patient.sex,
        smoker=smoker,
        never_smoker=never,
        other_risk=risk,
        stated_high_risk=high,
        stated_low_risk=low,
        known_malignancy=cancer,
        immunosuppressed=immuno,
        screening=Fact(tuple(screening_sources)),
        modality=study.modality.value,
        study_text=f"{study.procedure.display} {study.body_part}",
    )
