"""The critical-finding rules attestation needs, through ``reportdraft.critical``'s public API.

Sign-off calls ``reportdraft.critical.blocks_signing(mentions, records)`` and re-detects
critical mentions in edited statements with ``reportdraft.critical.detect_text(text)``.
When that package is not importable (a trimmed install, or while it is being built) the
blocking rule falls back to the same rule written here from the model fields (an alerting
Cat 1/2 mention whose finding has no documented communication record), and detection
reports itself unavailable instead of guessing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from types import ModuleType

from reportdraft.models import CommunicationRecord, CriticalMention, DraftSection
from reportdraft.models.draft import Draft, SectionKind

ALERTING_SECTIONS = frozenset({SectionKind.FINDINGS, SectionKind.IMPRESSION})
"""Sections whose present/uncertain mentions alert (technique or history text does not)."""

DetectText = Callable[[str], list[CriticalMention]]


def _critical_module() -> ModuleType | None:
    try:
        return importlib.import_module("reportdraft.critical")
    except ImportError:
        return None


def blocks_signing(
    mentions: Sequence[CriticalMention], records: Sequence[CommunicationRecord]
) -> list[str]:
    """Finding codes of Cat 1/2 alerting mentions lacking a documented communication."""
    module = _critical_module()
    rule = getattr(module, "blocks_signing", None) if module is not None else None
    if callable(rule):
        return sorted(set(rule(list(mentions), list(records))))
    documented = {r.finding_code for r in records if r.documented}
    return sorted(
        {
            m.finding_code
            for m in mentions
            if m.alert and m.category in (1, 2) and m.finding_code not in documented
        }
    )


def text_detector() -> DetectText | None:
    """``reportdraft.critical.detect_text`` when available, else None."""
    module = _critical_module()
    detect = getattr(module, "detect_text", None) if module is not None else None
    return detect if callable(detect) else None


def mentions_for_content(
    content: Sequence[DraftSection], draft: Draft, *, detect: DetectText | None = None
) -> list[CriticalMention]:
    """Critical mentions of the edited ``content``.

    A statement the radiologist left unchanged (same id, text and section) keeps the
    mentions the drafting pipeline found for it (they were detected with the full
    report's context). Every edited or new statement is detected again with ``detect``
    (default: ``detect_text``); a mention counts as alerting only in Findings/Impression.
    Without a detector, edited statements contribute no mentions: the caller should then
    pass mentions it detected itself.
    """
    detect = detect or text_detector()
    found: list[CriticalMention] = []
    for section in content:
        for statement in section.statements:
            original = draft.statement(statement.id)
            if (
                original is not None
                and original.text == statement.text
                and draft.section_of(statement.id) == section.kind
            ):
                found.extend(m for m in draft.critical if m.statement_id == statement.id)
                continue
            if detect is None:
                continue
            for mention in detect(statement.text):
                found.append(
                    mention.model_copy(
                        update={
                            "statement_id": statement.id,
                            "section": section.kind.value,
                            "alert": mention.alert and section.kind in ALERTING_SECTIONS,
                        }
                    )
                )
    return found
