"""Critical mentions of edited content, with the detector of ``reportdraft.critical``.

Sign-off re-detects critical mentions in edited statements with
:func:`reportdraft.critical.detect_text` and decides signing with the rules of
:mod:`reportdraft.critical.closed_loop` (see ``attest.signoff_rules``). spaCy and medspaCy are
hard dependencies, so no fallback copy of any of those rules lives here: one
implementation, imported.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportdraft.critical import DetectText, alerting_sections, detect_text
from reportdraft.models import CriticalMention, DraftSection
from reportdraft.models.draft import Draft

__all__ = ["DetectText", "mentions_for_content"]


def mentions_for_content(
    content: Sequence[DraftSection], draft: Draft, *, detect: DetectText | None = None
) -> list[CriticalMention]:
    """Critical mentions of the edited ``content``.

    A statement the radiologist left unchanged (same id, text and section) keeps the
    mentions the drafting pipeline found for it (they were detected with the full
    report's context). Every edited or new statement is detected again with ``detect``
    (default: :func:`reportdraft.critical.detect_text`); a mention alerts only in the
    sections the critical package says alert (:func:`reportdraft.critical.alerting_sections`).
    """
    detect = detect or detect_text
    alerting = alerting_sections()
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
            for mention in detect(statement.text):
                found.append(
                    mention.model_copy(
                        update={
                            "statement_id": statement.id,
                            "section": section.kind.value,
                            "alert": mention.alert and section.kind in alerting,
                        }
                    )
                )
    return found
