"""Critical findings the draft's impression leaves out.

A radiologist reads the impression first, and so do the clinicians who act on it: a
confirmed AI finding of a critical type, or a critical finding the radiologist dictated,
that the impression does not report is flagged HIGH. Findings are compared by lexicon
*group* (an impression's "subdural hematoma" covers an AI "intracranial hemorrhage"), and
only a mention at least as urgent counts ("pneumothorax", Cat 2, does not cover an AI
"tension pneumothorax", Cat 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportdraft.critical.detector import Detector, Passage, active_detector
from reportdraft.critical.finding_lexicon import LexiconEntry
from reportdraft.models.case import Case, Decision
from reportdraft.models.critical import CriticalMention
from reportdraft.models.dictation import NormalizedDictation
from reportdraft.models.draft import SOURCE_ID, Draft, Flag, FlagKind, SectionKind
from reportdraft.models.primitives import Severity

_SOURCE = re.compile(SOURCE_ID)


def lexicon_entry_for_ai_type(finding_type: str) -> LexiconEntry | None:
    """The lexicon entry an AI ``finding_type`` means; None when it is not a critical type."""
    return active_detector().lexicon.for_ai_type(finding_type)


@dataclass(slots=True)
class _Required:
    """A critical finding the impression must carry, and where the requirement came from."""

    entry: LexiconEntry
    sources: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def missing_from_impression(
    draft: Draft,
    case: Case,
    dictation: NormalizedDictation,
    *,
    detector: Detector | None = None,
) -> list[Flag]:
    """HIGH flags for critical findings (confirmed AI, or dictated and alerting) that have no
    alerting mention in the draft's impression. Flag ids are placeholders ``F1``, ``F2``…
    (the pipeline renumbers); ``sources`` names the AI finding and dictation sentences.
    Dictated sentences marked as instructions to the system are not read as findings."""
    det = detector or active_detector()
    required: dict[str, _Required] = {}

    for finding in case.ai_findings:
        if finding.decision is not Decision.CONFIRMED:
            continue
        entry = det.lexicon.for_ai_type(finding.finding_type)
        if entry is None:
            continue
        need = _need(required, entry)
        need.sources.append(finding.id)
        need.origins.append(f"confirmed AI finding {finding.id}")
        need.evidence.append(f"{finding.id}: {finding.description} ({finding.location})")

    # Only report content: a sentence addressed to the drafting system ("Do not mention the
    # tension pneumothorax") is not a dictated finding, and is flagged on its own.
    content = dictation.content()
    passages = [Passage(s.text, s.section.value if s.section else None) for s in content]
    for sentence, found in zip(content, det.detect_passages(passages), strict=True):
        for mention in found:
            if not mention.alert:
                continue
            entry = det.lexicon.entry(mention.finding_code)
            if entry is None:
                continue
            need = _need(required, entry)
            if sentence.id not in need.sources:
                need.sources.append(sentence.id)
                need.origins.append(f"dictated in {sentence.id}")
                need.evidence.append(f"{sentence.id}: {sentence.text}")

    # The impression is read in the context of the whole report, as the dictation was: an
    # ambiguous finding's organ ("a 3 cm nodule within the right hilum") is inferred from
    # the document, and the impression alone may not name it.
    document = "\n".join([*(p.text for p in passages), *_impression_texts(draft)])
    impression = _impression_mentions(draft, det, document)
    flags: list[Flag] = []
    for group, need in required.items():
        if any(
            det.lexicon.group_of(m.finding_code) == group and m.category <= need.entry.category
            for m in impression
        ):
            continue
        flags.append(_flag(len(flags) + 1, need))
    return flags


def _need(required: dict[str, _Required], entry: LexiconEntry) -> _Required:
    """The requirement for ``entry``'s group, keeping the most urgent entry of the group."""
    need = required.get(entry.group_code)
    if need is None:
        need = required[entry.group_code] = _Required(entry)
    elif entry.category < need.entry.category:
        need.entry = entry
    return need


def _impression_texts(draft: Draft) -> list[str]:
    return [st.text for st in draft.section(SectionKind.IMPRESSION)]


def _impression_mentions(draft: Draft, det: Detector, document: str) -> list[CriticalMention]:
    passages = [
        Passage(st.text, SectionKind.IMPRESSION.value, st.id)
        for st in draft.section(SectionKind.IMPRESSION)
    ]
    found = det.detect_passages(passages, document=document)
    return [m for mentions in found for m in mentions if m.alert]


def _flag(number: int, need: _Required) -> Flag:
    entry = need.entry
    message = (
        f"Critical finding '{entry.label}' (ACR category {entry.category}), "
        f"{' and '.join(need.origins)}, is not reported in the impression."
    )
    return Flag(
        id=f"F{number}",
        kind=FlagKind.CRITICAL_NOT_IN_IMPRESSION,
        severity=Severity.HIGH,
        message=_clip(message, 500),
        sources=[s for s in need.sources if _SOURCE.match(s)],
        evidence=[_clip(e, 500) for e in need.evidence],
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
