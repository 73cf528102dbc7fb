"""Critical-finding detection and closed-loop communication (DESIGN.md section 6).

Detection: a spaCy pipeline (blank English, a regex sentence splitter, medspaCy's target
matcher with the critical-finding lexicon, medspaCy's ConText with radiology rules) finds
each mention of a critical finding, decides its assertion (present, uncertain, negated,
historical, hypothetical) with the cues that decided it, and whether it alerts: present or
uncertain, in Findings, Impression or text without sections. Lexicon, rules and section
headers are data files under ``reportdraft/data/critical/``; sites override them with
:func:`configure`.

Communication: deadlines per ACR category, the state of a communication record, the rule
that Category 1/2 alerts block signing until documented, and the sentence for the report.

Importing this package is cheap; spaCy and medspaCy load on the first detection.
"""

from __future__ import annotations

from typing import Any

from reportdraft.critical.communication import (
    DEFAULT_POLICY,
    DeadlinePolicy,
    blocks_signing,
    communicated_late,
    communication_state,
    communication_statement,
    deadline,
    escalation_due,
)
from reportdraft.critical.compare import lexicon_entry_for_ai_type, missing_from_impression
from reportdraft.critical.detector import (
    Detector,
    Passage,
    active_detector,
    configure,
    detect_draft,
    detect_text,
    most_urgent_category,
)
from reportdraft.critical.lexicon import Lexicon, LexiconEntry, load_lexicon


def run_cli(text: str, section_aware: bool) -> list[dict[str, Any]]:
    """What ``reportdraft critical FILE|- [--section-aware]`` prints: every mention as JSON-ready
    dicts (assertion, triggers, ``alert`` true or false), in reading order."""
    return [m.model_dump(mode="json") for m in detect_text(text, section_aware=section_aware)]


__all__ = [
    "DEFAULT_POLICY",
    "DeadlinePolicy",
    "Detector",
    "Lexicon",
    "LexiconEntry",
    "Passage",
    "active_detector",
    "blocks_signing",
    "communicated_late",
    "communication_state",
    "communication_statement",
    "configure",
    "deadline",
    "detect_draft",
    "detect_text",
    "escalation_due",
    "lexicon_entry_for_ai_type",
    "load_lexicon",
    "missing_from_impression",
    "most_urgent_category",
    "run_cli",
]
