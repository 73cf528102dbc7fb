"""Critical-finding detection and closed-loop communication.

Detection: a spaCy pipeline (blank English, a regex sentence splitter, medspaCy's target
matcher with the critical-finding lexicon, medspaCy's ConText with radiology rules) finds
each mention of a critical finding, decides its assertion (present, uncertain, negated,
historical, hypothetical) and its temporality (new, worsening, unchanged, improving,
resolved, chronic, known) with the cues that decided them, and whether it alerts: present
or uncertain, in Findings, Impression or text without sections, and allowed by the alert
policy (an improving finding, an unchanged nodule, expected post-operative free air do not
alert). Lexicon, rules and section headers are vocabulary (``reportdraft/data/vocab/``,
read through :mod:`reportdraft.vocab`; the negation rules' phrases are the shared
``negation.yaml``), the alert policy is ``reportdraft/data/critical/alert_policy.yaml``;
sites override them with :func:`configure_site`
(``REPORTDRAFT_CRITICAL_DIR``, read by the CLI and the service at start-up).

Communication: deadlines per ACR category, the state of a communication record, the rule
that Category 1/2 alerts block signing until documented, what a record must hold to be
true and complete (times, read-back, listed override reasons:
``reportdraft/data/critical/communication.yaml``), and the sentence for the report. These
are the only copies of those rules: the API and attestation import them.

Importing this package is cheap; spaCy and medspaCy load on the first detection.
"""

from __future__ import annotations

from typing import Any

from reportdraft.critical.closed_loop import (
    DEFAULT_CLOCK_SKEW,
    DEFAULT_POLICY,
    KNOWN_TO_CARE_TEAM,
    SIGNING_CATEGORIES,
    CommunicationProblem,
    CommunicationRules,
    DeadlinePolicy,
    blocks_signing,
    communicated_late,
    communication_rules,
    communication_state,
    communication_statement,
    deadline,
    escalation_due,
    identification,
    load_communication_rules,
    override_codes,
    record_problems,
    suggested_override,
)
from reportdraft.critical.detector import (
    Detector,
    DetectText,
    Passage,
    active_detector,
    alerting_sections,
    configure,
    configure_site,
    detect_draft,
    detect_text,
    most_urgent_category,
)
from reportdraft.critical.finding_lexicon import CriticalLexicon, LexiconEntry, load_lexicon
from reportdraft.critical.impression_gaps import lexicon_entry_for_ai_type, missing_from_impression
from reportdraft.critical.policy import AlertPolicy, load_policy
from reportdraft.models.critical import StudyScope


def run_cli(
    text: str, section_aware: bool, study: StudyScope | None = None
) -> list[dict[str, Any]]:
    """What ``reportdraft critical FILE|- [--section-aware]`` prints: every mention as JSON-ready
    dicts (assertion, temporality, triggers, ``alert`` true or false), in reading order."""
    found = detect_text(text, section_aware=section_aware, study=study)
    return [m.model_dump(mode="json") for m in found]


__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "DEFAULT_POLICY",
    "KNOWN_TO_CARE_TEAM",
    "SIGNING_CATEGORIES",
    "AlertPolicy",
    "CommunicationProblem",
    "CommunicationRules",
    "CriticalLexicon",
    "DeadlinePolicy",
    "DetectText",
    "Detector",
    "LexiconEntry",
    "Passage",
    "StudyScope",
    "active_detector",
    "alerting_sections",
    "blocks_signing",
    "communicated_late",
    "communication_rules",
    "communication_state",
    "communication_statement",
    "configure",
    "configure_site",
    "deadline",
    "detect_draft",
    "detect_text",
    "escalation_due",
    "identification",
    "lexicon_entry_for_ai_type",
    "load_communication_rules",
    "load_lexicon",
    "load_policy",
    "missing_from_impression",
    "most_urgent_category",
    "override_codes",
    "record_problems",
    "run_cli",
    "suggested_override",
]
