"""The guideline engine: every guideline over one case, the dictated recommendations
attributed and compared, the interface's output assembled.

Deterministic and offline: facts are read from the case (dictation sentences, confirmed AI
findings, patient, indication and history), each guideline module decides its rule, and
the rule's management comes from the versioned data files (:mod:`.rulebook`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportdraft.dictation import normalize
from reportdraft.guidelines.abdomen import adrenal, bosniak
from reportdraft.guidelines.breast import birads
from reportdraft.guidelines.dictated import attribute, concordant, expected_text, statement_text
from reportdraft.guidelines.fleischner import fleischner
from reportdraft.guidelines.lung_rads import lung_rads
from reportdraft.guidelines.outcome import FindingOutcome, GuidelineOutcome
from reportdraft.guidelines.patient_context import read_context
from reportdraft.guidelines.reading import is_recommendation
from reportdraft.guidelines.rulebook import GUIDELINE_IDS
from reportdraft.guidelines.thyroid import tirads
from reportdraft.models import Case, NormalizedDictation, SectionKind
from reportdraft.models.guidelines import Discordance, NotApplicable, RecommendationSet

_READ_SECTIONS = (SectionKind.FINDINGS, SectionKind.IMPRESSION, None)


@dataclass(frozen=True)
class Guidance:
    """The engine's full answer for a case.

    ``dictated`` maps each finding (by position in ``findings``) to the dictated sentences
    that already recommend something for it: the drafter keeps those words and adds no
    statement of its own for that finding.
    """

    findings: tuple[FindingOutcome, ...] = ()
    not_applicable: tuple[NotApplicable, ...] = ()
    discordant: tuple[Discordance, ...] = ()
    dictated: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def output(self) -> RecommendationSet:
        """The ``reportdraft recommend`` JSON value."""
        return RecommendationSet(
            recommendations=[r for f in self.findings for r in f.recommendations],
            not_applicable=list(self.not_applicable),
            discordant=list(self.discordant),
        )

    def undictated(self) -> list[FindingOutcome]:
        """Findings whose recommendation the radiologist did not dictate."""
        return [f for i, f in enumerate(self.findings) if not self.dictated.get(i)]

    def for_guideline(self, guideline_id: str) -> list[FindingOutcome]:
        """The findings of one guideline."""
        return [f for f in self.findings if f.guideline == guideline_id]


def evaluate(case: Case, dictation: NormalizedDictation | None = None) -> Guidance:
    """Apply every guideline to ``case`` (``dictation``: its normalised dictation, if known)."""
    dictation = dictation or normalize(case.dictation)
    ctx = read_context(case, dictation)
    sentences = [s for s in dictation.content() if s.section in _READ_SECTIONS]
    outcomes: list[GuidelineOutcome] = [
        fleischner(case, ctx, sentences),
        lung_rads(case, ctx, sentences),
        tirads(case, sentences),
        adrenal(case, ctx, sentences),
        bosniak(case, sentences),
        birads(case, sentences),
    ]
    findings = [f for o in outcomes for f in o.findings]
    findings.sort(key=lambda f: GUIDELINE_IDS.index(f.guideline))
    skipped = [n for o in outcomes for n in o.not_applicable]
    dictated: dict[int, list[str]] = {}
    discordant: list[Discordance] = []
    for sentence in sentences:
        if not is_recommendation(sentence.text):
            continue
        for finding in attribute(sentence.id, sentence.text, findings):
            index = findings.index(finding)
            dictated.setdefault(index, []).append(sentence.id)
            if not concordant(sentence.text, list(finding.recommendations)):
                discordant.append(
                    Discordance.model_validate(
                        {
                            "guideline": finding.guideline,
                            "statement": sentence.id,
                            "dictated": sentence.text,
                            "expected": expected_text(finding),
                        }
                    )
                )
    return Guidance(
        findings=tuple(findings),
        not_applicable=tuple(skipped),
        discordant=tuple(discordant),
        dictated={i: tuple(ids) for i, ids in dictated.items()},
    )


def recommend(case: Case) -> RecommendationSet:
    """What ``reportdraft recommend CASE.json`` prints."""
    return evaluate(case).output()


def impression_additions(case: Case, dictation: NormalizedDictation) -> list[tuple[str, list[str]]]:
    """The recommendation statements the drafter adds to the Impression: ``(text, sources)``.

    One per finding whose recommendation the radiologist did not dictate (a dictated one is
    kept as dictated, and checked: :mod:`reportdraft.verification.recommendations`). The
    sources are ``G:<guideline-id>`` and the ids of the facts behind it (dictated sentences,
    AI findings, case fields).
    """
    additions = []
    for finding in evaluate(case, dictation).undictated():
        facts = [s for s in finding.sources if not s.startswith("P:")]
        additions.append((statement_text(finding), [f"G:{finding.guideline}", *facts]))
    return additions
