"""The radiologist's sign-off input: edits, decisions, acknowledgements, communications.

One :class:`SignOff` document (``signoff.json`` for ``reportdraft sign``; the same shape
in the API) carries everything the radiologist did to a draft before signing::

    {
      "statement_edits": [
        {"id": "S3", "text": "No pleural effusion."},           # edit, keeps id S3
        {"id": "S5", "delete": true},                            # remove
        {"id": "S4", "section": "impression"},                   # move to Impression
        {"section": "impression", "text": "Call back.", "after": "S7"}   # new (gets S<n>)
      ],
      "decisions": {"A1": "confirmed", "A2": "rejected"},
      "acknowledgements": [{"flag_id": "F2", "reason": "Size confirmed on prior study."}],
      "communications": [ ...CommunicationRecord objects... ],
      "reason": "Laterality corrected after call from ED."      # post-sign changes
    }

Instead of ``statement_edits`` a client may send ``content``: the complete edited
sections (the draft's shape). Either way, a statement whose text differs from the draft's
becomes ``generator="radiologist"``, new statements get fresh ids ``S<max+1>``, and who
and when are filled in from the signer and the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reportdraft.errors import InputError
from reportdraft.models import (
    CommunicationRecord,
    Decision,
    Draft,
    DraftSection,
    SectionKind,
    Statement,
    Strict,
)
from reportdraft.models.draft import SourceId
from reportdraft.models.report import FindingDecision, FlagAcknowledgement

RADIOLOGIST_SOURCE = "R:radiologist"
"""Source id given to a statement the radiologist wrote when the edit names no sources."""

StatementId = Annotated[str, Field(pattern=r"^S\d+$")]


class StatementEdit(Strict):
    """One edit: change, move or delete a statement (``id``), or add one (no ``id``).

    ``after`` places an added or moved statement after that statement of the target
    section; without it the statement goes to the end of the section.
    """

    id: StatementId | None = None
    text: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    section: SectionKind | None = None
    after: StatementId | None = None
    delete: bool = False
    sources: list[SourceId] | None = Field(default=None, min_length=1)
    subsection: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")] | None = None

    @model_validator(mode="after")
    def _shape(self) -> StatementEdit:
        if self.delete and (self.id is None or self.text or self.section or self.after):
            raise ValueError("a delete names only the statement id")
        if self.id is None and (self.text is None or self.section is None):
            raise ValueError("a new statement needs text and section")
        return self


class AcknowledgementInput(Strict):
    """An acknowledgement as a client sends it (who and when are filled in on apply)."""

    flag_id: Annotated[str, Field(pattern=r"^F\d+$")]
    reason: Annotated[str, Field(min_length=3, max_length=1000)]


class SignOff(Strict):
    """Everything the radiologist did to a draft before signing (see the module docstring)."""

    schema_version: Literal["1"] = "1"
    content: list[DraftSection] | None = None
    statement_edits: list[StatementEdit] = Field(default_factory=list, max_length=500)
    decisions: dict[Annotated[str, Field(pattern=r"^A\d{1,3}$")], Decision] = Field(
        default_factory=dict
    )
    acknowledgements: list[AcknowledgementInput] = Field(default_factory=list)
    communications: list[CommunicationRecord] = Field(default_factory=list)
    reason: Annotated[str, Field(min_length=3, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _one_edit_form(self) -> SignOff:
        if self.content is not None and self.statement_edits:
            raise ValueError("give either content or statement_edits, not both")
        if any(d is Decision.PENDING for d in self.decisions.values()):
            raise ValueError("decisions: use 'confirmed' or 'rejected'")
        return self


def _number(statement_id: str) -> int:
    return int(statement_id[1:])


def next_statement_id(*groups: Sequence[Statement]) -> int:
    """The next free statement number after every id in ``groups``."""
    return max((_number(st.id) for group in groups for st in group), default=0) + 1


def _mark_radiologist(statement: Statement, draft: Draft) -> Statement:
    original = draft.statement(statement.id)
    if original is None or original.text != statement.text:
        return statement.model_copy(update={"generator": "radiologist", "fallback": False})
    return statement


def normalize_content(content: Sequence[DraftSection], draft: Draft) -> list[DraftSection]:
    """Sections in reading order; changed and new statements marked as the radiologist's."""
    order = list(SectionKind)
    ordered = sorted(content, key=lambda sec: order.index(sec.kind))
    return [
        sec.model_copy(update={"statements": [_mark_radiologist(s, draft) for s in sec.statements]})
        for sec in ordered
    ]


def apply_edits(
    base: Sequence[DraftSection], edits: Sequence[StatementEdit], draft: Draft
) -> list[DraftSection]:
    """Apply ``edits`` in order to ``base`` (the current content) and return new content.

    Raises :class:`InputError` naming the edit when it refers to a statement that is not
    there; nothing is applied then.
    """
    sections: dict[SectionKind, list[Statement]] = {sec.kind: list(sec.statements) for sec in base}
    fresh = next_statement_id(draft.statements(), [s for ss in sections.values() for s in ss])

    def locate(statement_id: str, index: int) -> tuple[SectionKind, int]:
        for kind, statements in sections.items():
            for pos, st in enumerate(statements):
                if st.id == statement_id:
                    return kind, pos
        raise InputError(f"statement_edits[{index}]: no statement {statement_id} in the report")

    def insert(kind: SectionKind, statement: Statement, after: str | None, index: int) -> None:
        target = sections.setdefault(kind, [])
        if after is None:
            target.append(statement)
            return
        pos = next((i for i, st in enumerate(target) if st.id == after), None)
        if pos is None:
            raise InputError(f"statement_edits[{index}]: no statement {after} in {kind.value}")
        target.insert(pos + 1, statement)

    for index, edit in enumerate(edits):
        if edit.id is None:
            if edit.text is None or edit.section is None:
                # The model refuses this shape; an edit built without validation
                # (``model_construct``) reaches here and is refused the same way.
                raise InputError(
                    f"statement_edits[{index}]: a new statement needs text and section"
                )
            statement = Statement(
                id=f"S{fresh}",
                subsection=edit.subsection,
                text=edit.text,
                sources=edit.sources or [RADIOLOGIST_SOURCE],
                generator="radiologist",
            )
            fresh += 1
            insert(edit.section, statement, edit.after, index)
            continue
        kind, pos = locate(edit.id, index)
        current = sections[kind][pos]
        if edit.delete:
            del sections[kind][pos]
            continue
        update: dict[str, object] = {}
        if edit.text is not None and edit.text != current.text:
            update.update(text=edit.text, generator="radiologist", fallback=False)
        if edit.sources is not None:
            update["sources"] = edit.sources
        if edit.subsection is not None:
            update["subsection"] = edit.subsection
        changed = current.model_copy(update=update)
        if (edit.section is not None and edit.section != kind) or edit.after is not None:
            del sections[kind][pos]
            insert(edit.section or kind, changed, edit.after, index)
        else:
            sections[kind][pos] = changed
    content = [DraftSection(kind=k, statements=v) for k, v in sections.items()]
    return normalize_content(content, draft)


def decisions_from(signoff: SignOff, *, by: str, at: datetime) -> list[FindingDecision]:
    """The sign-off's decisions as recorded values."""
    return [
        FindingDecision(finding_id=fid, decision=decision, by=by, at=at)
        for fid, decision in sorted(signoff.decisions.items(), key=lambda kv: _number(kv[0]))
    ]


def acknowledgements_from(signoff: SignOff, *, by: str, at: datetime) -> list[FlagAcknowledgement]:
    """The sign-off's acknowledgements as recorded values."""
    return [
        FlagAcknowledgement(flag_id=a.flag_id, by=by, reason=a.reason, at=at)
        for a in signoff.acknowledgements
    ]


def check_references(signoff: SignOff, draft: Draft, ai_ids: Sequence[str]) -> None:
    """Refuse decisions or acknowledgements naming things the case/draft does not have."""
    unknown_ai = sorted(set(signoff.decisions) - set(ai_ids), key=_number)
    flag_ids = {f.id for f in draft.flags}
    unknown_flags = [a.flag_id for a in signoff.acknowledgements if a.flag_id not in flag_ids]
    problems = []
    if unknown_ai:
        problems.append(f"decisions name unknown AI finding(s) {', '.join(unknown_ai)}")
    if unknown_flags:
        problems.append(f"acknowledgements name unknown flag(s) {', '.join(unknown_flags)}")
    if problems:
        raise InputError("; ".join(problems))
