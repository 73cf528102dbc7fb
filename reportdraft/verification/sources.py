"""Every citable source id of a case, and the text it stands for.

A statement is checked against exactly the texts of the ids it cites, so this mapping is the
verifier's ground truth, and the drafting prompt shows the model the same texts: what the
model was given is what it is held to.
"""

from __future__ import annotations

from reportdraft import guidelines
from reportdraft.models import (
    AIFinding,
    Case,
    Contrast,
    NormalizedDictation,
    StudyContext,
    Template,
)
from reportdraft.templates import render_technique

_CONTRAST_TEXT = {
    Contrast.NONE: "without intravenous contrast",
    Contrast.WITH: "with intravenous contrast",
    Contrast.WITHOUT_AND_WITH: "without and with intravenous contrast",
}


def render_ai_finding(finding: AIFinding) -> str:
    """An AI finding as one sentence: description, side and location, measurements, type.

    The finding type is appended in words ("intracranial hemorrhage") because it is part of
    what the algorithm asserted: a statement naming the type is supported by the finding.
    """
    location = finding.location
    if finding.laterality is not None and finding.laterality.value not in location.lower():
        location = f"{finding.laterality.value} {location}"
    text = f"{finding.description[0].upper()}{finding.description[1:]} in the {location}"
    if finding.measurements:
        parts = [
            f"{m.value:g} {m.unit}" + (f" ({m.label})" if m.label else "")
            for m in finding.measurements
        ]
        text += ", measuring " + ", ".join(parts)
    kind = finding.finding_type.replace("_", " ")
    if kind.lower() not in text.lower():
        text += f" ({kind})"
    return text + "."


def _dose(study: StudyContext) -> str:
    if study.dose is None:
        return ""
    parts = []
    if study.dose.ctdi_vol_mgy is not None:
        parts.append(f"CTDIvol {study.dose.ctdi_vol_mgy:g} mGy")
    if study.dose.dlp_mgy_cm is not None:
        parts.append(f"DLP {study.dose.dlp_mgy_cm:g} mGy-cm")
    return ", ".join(parts)


def _comparisons(study: StudyContext) -> str:
    lines = []
    for prior in study.comparisons:
        line = f"{prior.modality.value} {prior.description or ''} dated {prior.date.isoformat()}"
        if prior.report_text:
            line += f": {prior.report_text}"
        lines.append(" ".join(line.split()))
    return "\n".join(lines)


def _context(case: Case) -> dict[str, str]:
    study = case.study
    procedure = f"{study.procedure.display} ({study.modality.value}, {study.body_part}"
    if study.laterality is not None:
        procedure += f", {study.laterality.value}"
    procedure += f", {_CONTRAST_TEXT[study.contrast]})"
    texts = {
        "C:procedure": procedure,
        "C:modality": study.modality.value,
        "C:body_part": study.body_part,
        "C:contrast": _CONTRAST_TEXT[study.contrast],
        "C:priority": study.priority.value,
        "C:indication": study.indication,
        "C:acquisition_time": study.acquisition_time.isoformat(),
        "C:ordering_physician": study.ordering_physician.name,
    }
    if study.laterality is not None:
        texts["C:laterality"] = study.laterality.value
    if study.clinical_history:
        texts["C:clinical_history"] = study.clinical_history
    if study.comparisons:
        texts["C:comparisons"] = _comparisons(study)
    if study.views is not None:
        texts["C:views"] = f"{study.views} views"
    if study.dose is not None:
        texts["C:dose"] = _dose(study)
    return texts


def source_texts(case: Case, dictation: NormalizedDictation, template: Template) -> dict[str, str]:
    """Every citable id of this case mapped to the text it stands for.

    ``D<n>``: the dictated sentence; ``A<n>``: the AI finding rendered as text (every AI
    finding, rejected ones included, so that a citation of one can be shown and flagged);
    ``T:<subsection>``: the subsection's normal default (no id where it has none);
    ``T:technique``: the rendered technique; ``T:impression`` / ``T:comparison``: the
    template defaults; ``C:<field>``:
    case context (``C:indication``, ``C:clinical_history``, ``C:comparisons``,
    ``C:procedure``, ``C:laterality``, ...); ``G:<guideline-id>``: the recommendations the
    guideline engine computes for this case (:func:`guideline_texts`).
    """
    texts = {s.id: s.text for s in dictation.sentences}
    texts.update({f.id: render_ai_finding(f) for f in case.ai_findings})
    texts.update({f"T:{s.key}": s.default for s in template.findings if s.default is not None})
    texts["T:technique"] = render_technique(template, case.study)
    if template.impression_default is not None:
        texts["T:impression"] = template.impression_default
    texts["T:comparison"] = template.comparison_default
    texts.update(_context(case))
    texts.update(guideline_texts(case, dictation))
    return texts


def guideline_texts(case: Case, dictation: NormalizedDictation) -> dict[str, str]:
    """``G:<guideline-id>`` to the guideline's recommendations for this case, one sentence
    per finding: what a drafted recommendation statement citing it is held to."""
    texts: dict[str, str] = {}
    for finding in guidelines.evaluate(case, dictation).findings:
        key = f"G:{finding.guideline}"
        sentence = guidelines.statement_text(finding)
        texts[key] = f"{texts[key]} {sentence}" if key in texts else sentence
    return texts
