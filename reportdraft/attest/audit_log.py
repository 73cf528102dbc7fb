"""Append-only, hash-chained audit log of everything done to a report.

Each entry (one JSON object per line) holds its sequence number, the previous entry's
hash and its own hash: sha256 of its canonical JSON without the ``hash`` field. Editing
an entry changes its hash; deleting or reordering entries breaks the next entry's
``prev_hash`` or the sequence; :func:`verify_chain` names the first broken entry.
(Cutting entries off the *end* leaves a valid shorter chain: keep the last hash
elsewhere, e.g. in the database, to detect that.)

The log records drafts, edits, AI-finding decisions, flag acknowledgements,
communications, transitions, signatures and addenda; :func:`events_for` derives those
events from a report before and after a lifecycle step, so every path (CLI, API) logs
the same way.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AwareDatetime, Field, JsonValue, ValidationError

from reportdraft.attest.signing import canonical_bytes, sha256_hex
from reportdraft.errors import ConflictError, InputError
from reportdraft.io import decode_text, ensure_directory
from reportdraft.models import Strict
from reportdraft.models.report import Report, ReportVersion

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first entry."""


class AuditAction(StrEnum):
    """What an audit entry records."""

    DRAFT_CREATED = "draft_created"
    EDIT = "edit"
    DECISION = "decision"
    FLAG_ACKNOWLEDGEMENT = "flag_acknowledgement"
    COMMUNICATION = "communication"
    TRANSITION = "transition"
    SIGNATURE = "signature"
    ADDENDUM = "addendum"


class AuditEvent(Strict):
    """Something that happened to a report, before it is chained into the log."""

    at: AwareDatetime
    actor: Annotated[str, Field(min_length=1, max_length=64)]
    action: AuditAction
    report_id: Annotated[str, Field(min_length=1, max_length=64)]
    version: Annotated[int, Field(ge=1)]
    data: dict[str, JsonValue] = Field(default_factory=dict)


class AuditEntry(AuditEvent):
    """An event as stored: with its place in the chain."""

    seq: Annotated[int, Field(ge=1)]
    prev_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def entry_hash(entry: Mapping[str, object]) -> str:
    """The hash an entry must carry: sha256 of its canonical JSON without ``hash``."""
    return sha256_hex(canonical_bytes({k: v for k, v in entry.items() if k != "hash"}))


def chain_events(
    events: Sequence[AuditEvent], *, prev_hash: str = GENESIS_HASH, start_seq: int = 1
) -> list[AuditEntry]:
    """Chain ``events`` after an entry with hash ``prev_hash`` and number ``start_seq - 1``."""
    entries = []
    for offset, event in enumerate(events):
        body = {
            **event.model_dump(mode="json"),
            "seq": start_seq + offset,
            "prev_hash": prev_hash,
        }
        entry = AuditEntry.model_validate({**body, "hash": entry_hash(body)})
        entries.append(entry)
        prev_hash = entry.hash
    return entries


@dataclass(frozen=True)
class ChainCheck:
    """Result of :func:`verify_chain`: ``first_broken`` is the 1-based entry position."""

    ok: bool
    count: int
    first_broken: int | None = None
    problem: str | None = None


def verify_chain(entries: Sequence[object]) -> ChainCheck:
    """Check every entry's hash, link and sequence number; stop at the first broken one.

    ``entries`` are the parsed lines of a log (a line that was not JSON is passed as its
    text and reported as broken).
    """
    prev = GENESIS_HASH
    for position, raw in enumerate(entries, start=1):
        if not isinstance(raw, Mapping):
            return ChainCheck(False, len(entries), position, "not a JSON object")
        problem = _entry_problem(raw, position, prev)
        if problem is not None:
            return ChainCheck(False, len(entries), position, problem)
        prev = str(raw["hash"])
    return ChainCheck(True, len(entries))


def _entry_problem(raw: Mapping[str, object], position: int, prev: str) -> str | None:
    try:
        AuditEntry.model_validate(raw)
    except ValidationError as exc:
        return f"malformed entry ({exc.error_count()} field error(s))"
    if raw["seq"] != position:
        return f"sequence number {raw['seq']} where {position} was expected (entry deleted?)"
    if raw["prev_hash"] != prev:
        return "prev_hash does not match the previous entry (entry deleted or edited?)"
    if entry_hash(raw) != raw["hash"]:
        return "entry hash does not match its content (entry edited)"
    return None


def read_log(path: Path) -> list[object]:
    """The parsed lines of a log file (blank lines skipped; non-JSON lines as text)."""
    if not path.is_file():
        raise InputError(f"audit log not found: {path}")
    parsed: list[object] = []
    for line in decode_text(path.read_bytes(), f"audit log {path}").splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            parsed.append(line)
    return parsed


class AuditLog:
    """A JSONL audit log file, appended to under an exclusive lock.

    The lock keeps two writers (two API workers, a CLI run) from chaining onto the same
    last entry. Appending checks the last entry's own hash, so a log whose tail was
    edited is not silently extended; :func:`verify_chain` checks the whole file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _locked(self) -> Iterator[None]:
        ensure_directory(self.path.parent)
        with open(self.path.with_suffix(self.path.suffix + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        """Append ``events`` after the last entry; returns the stored entries."""
        with self.appending(events) as chained:
            return chained

    @contextmanager
    def appending(self, events: Sequence[AuditEvent]) -> Iterator[list[AuditEntry]]:
        """Append ``events`` (written and fsynced), and take them back if the block fails.

        For a step whose other half is a file (the signed report): append, then rename the
        report into place inside the block; if the rename raises, the log is truncated to
        its previous length (or removed, if this created it) before the error propagates,
        so the log and the report change together or not at all. The lock is held for the
        whole block, so no other writer can chain onto entries that may be taken back.
        """
        with self._locked():
            existed = self.path.is_file()
            entries = read_log(self.path) if existed else []
            prev, seq = GENESIS_HASH, 1
            if entries:
                last = entries[-1]
                if not isinstance(last, Mapping) or entry_hash(last) != last.get("hash"):
                    raise ConflictError(f"audit log {self.path}: last entry is damaged")
                prev, seq = str(last["hash"]), int(str(last["seq"])) + 1
            chained = chain_events(events, prev_hash=prev, start_seq=seq)
            size = self.path.stat().st_size if existed else 0
            try:
                with open(self.path, "a", encoding="utf-8") as handle:
                    for entry in chained:
                        handle.write(canonical_bytes(entry).decode("utf-8") + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                yield chained
            except BaseException:
                self._take_back(size if existed else None)
                raise

    def _take_back(self, size: int | None) -> None:
        """Undo an append: truncate to ``size`` bytes, or remove a log the append created."""
        if size is None:
            if self.path.is_file():
                self.path.unlink()
            return
        with open(self.path, "r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())


def _statement_changes(before: ReportVersion, after: ReportVersion) -> dict[str, JsonValue]:
    old = {st.id: (sec.kind, st.text) for sec in before.content for st in sec.statements}
    new = {st.id: (sec.kind, st.text) for sec in after.content for st in sec.statements}
    changes: dict[str, JsonValue] = {
        "edited": [i for i in new if i in old and new[i][1] != old[i][1]],
        "added": [i for i in new if i not in old],
        "removed": [i for i in old if i not in new],
        "moved": [i for i in new if i in old and new[i][0] != old[i][0]],
    }
    return {k: v for k, v in changes.items() if v}


def events_for(
    before: Report | None, after: Report, *, actor: str, at: datetime
) -> list[AuditEvent]:
    """The audit events of one lifecycle step (``before`` is None when the report was opened)."""
    cur = after.current
    rid, ver = after.id, cur.version

    def event(action: AuditAction, data: dict[str, JsonValue], who: str = actor) -> AuditEvent:
        return AuditEvent(at=at, actor=who, action=action, report_id=rid, version=ver, data=data)

    events: list[AuditEvent] = []
    if before is None:
        prov = cur.draft.provenance
        events.append(
            event(
                AuditAction.DRAFT_CREATED,
                {
                    "accession_number": cur.draft.accession_number,
                    "backend": prov.backend,
                    "model": prov.model,
                    "prompt_version": prov.prompt_version,
                    "draft_sha256": sha256_hex(canonical_bytes(cur.draft)),
                },
            )
        )
        base = cur.model_copy(
            update={
                "content": cur.draft.sections,
                "decisions": [],
                "acknowledgements": [],
                "communications": [],
                "transitions": [],
                "addenda": [],
                "signature": None,
            }
        )
    else:
        base = before.current
    changes = _statement_changes(base, cur)
    if changes:
        events.append(event(AuditAction.EDIT, changes))
    for d in cur.decisions[len(base.decisions) :]:
        data: dict[str, JsonValue] = {"finding_id": d.finding_id, "decision": d.decision.value}
        events.append(event(AuditAction.DECISION, data, d.by))
    for a in cur.acknowledgements[len(base.acknowledgements) :]:
        events.append(
            event(
                AuditAction.FLAG_ACKNOWLEDGEMENT, {"flag_id": a.flag_id, "reason": a.reason}, a.by
            )
        )
    old_records = {r.id: r for r in base.communications}
    for record in cur.communications:
        if old_records.get(record.id) != record:
            events.append(event(AuditAction.COMMUNICATION, record.model_dump(mode="json")))
    for t in cur.transitions[len(base.transitions) :]:
        data = {
            "from": t.from_status.value if t.from_status else None,
            "to": t.to_status.value,
            "reason": t.reason,
        }
        events.append(event(AuditAction.TRANSITION, data, t.by))
    for addendum in cur.addenda[len(base.addenda) :]:
        data = {"id": addendum.id, "text_sha256": sha256_hex(addendum.text.encode("utf-8"))}
        events.append(event(AuditAction.ADDENDUM, data, addendum.author.id))
    if cur.signature is not None and cur.signature != base.signature:
        if cur.signer is None:  # the model refuses this; a version built without validation
            raise InputError(f"version {ver} of {rid} carries a signature but no signer")
        data = {
            "status": cur.status.value,
            "key_id": cur.signature.key_id,
            "payload_sha256": cur.signature.payload_sha256,
        }
        events.append(event(AuditAction.SIGNATURE, data, cur.signer.id))
    return events
