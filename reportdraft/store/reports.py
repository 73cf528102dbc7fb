"""Reports: create (idempotently), read, list, and conditional writes.

Payloads cross the boundary as domain models only: :class:`StoredReport` carries a
validated ``Case``, ``Draft`` and attested ``Report``; the JSON columns are written from
``model_dump(mode="json")`` and read back through ``model_validate``, so a row that does
not match the models fails loudly instead of reaching a radiologist.

Every write is conditional on the ETag counter (``UPDATE ... WHERE id = ? AND version =
?``): of two writers holding the same version exactly one succeeds, the other gets
:class:`StaleVersion` (the API answers 412). On PostgreSQL the UPDATE also takes the
row lock that serialises the audit append following it in the same transaction.

Facility scoping: ``reports.facility`` is the case's performing-facility identifier.
The readers take ``facilities``, the set of facilities the caller may see (None: no
restriction, for the service itself and for admin / all-facilities keys), and filter
in SQL (:func:`_visible`), so a hidden report is exactly as absent as one that does not
exist: the same ``NotFoundError``, the same unknown cursor, no gap after a LIMIT.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reportdraft.errors import ConflictError, InputError, NotFoundError
from reportdraft.models import Case, Draft, Priority
from reportdraft.models.report import SIGNED_STATUSES, Report
from reportdraft.store import audit_trail, jobs
from reportdraft.store.db import Database
from reportdraft.store.tables import IdempotencyRow, ReportRow

_Q = TypeVar("_Q", bound=Any)

QUEUED = "queued"
DRAFTING = "drafting"
FAILED = "failed"
PENDING_STATES = frozenset({QUEUED, DRAFTING})
"""Report states before a draft exists."""


class StaleVersion(ConflictError):  # noqa: N818 - names the outcome, like AttestationRefused
    """The report changed since the caller read it (ETag mismatch): 412 in the API."""

    code = "precondition_failed"
    http_status = 412


class IdempotencyKeyReused(ConflictError):  # noqa: N818
    """The Idempotency-Key was used before with a different request body."""

    code = "idempotency_key_reused"
    http_status = 422


@dataclass(frozen=True, kw_only=True)
class StoredReport:
    """A report row with its payloads validated into domain models."""

    id: str
    accession: str
    facility: str | None
    priority: Priority
    state: str
    version: int
    case: Case
    draft: Draft | None
    report: Report | None
    error_code: str | None
    error: str | None
    critical_open: bool
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def etag(self) -> str:
        """The strong ETag of this representation: the quoted version counter."""
        return f'"{self.version}"'


def new_report_id() -> str:
    """A fresh, unguessable report id (``r-`` + 32 hex digits)."""
    return f"r-{uuid.uuid4().hex}"


def request_hash(body: bytes) -> str:
    """The sha256 an idempotency record keeps of the request body."""
    return hashlib.sha256(body).hexdigest()


def _stored(row: ReportRow) -> StoredReport:
    return StoredReport(
        id=row.id,
        accession=row.accession,
        facility=row.facility,
        priority=Priority(row.priority),
        state=row.state,
        version=row.version,
        case=Case.model_validate(row.case_doc),
        draft=Draft.model_validate(row.draft_doc) if row.draft_doc is not None else None,
        report=Report.model_validate(row.report_doc) if row.report_doc is not None else None,
        error_code=row.error_code,
        error=row.error,
        critical_open=row.critical_open,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def facility_of(case: Case) -> str | None:
    """The facility a case's report belongs to (None when the case names no identifier)."""
    return case.study.performing_facility.identifier or None


def _visible(facilities: Set[str]) -> ColumnElement[bool]:
    """The SQL condition for reports a caller restricted to ``facilities`` may see.

    The report's facility must be one of them, so a report whose case named no
    facility is visible only to callers without a restriction (``facilities=None``).
    """
    return ReportRow.facility.is_not(None) & ReportRow.facility.in_(sorted(facilities))


def visible_to(facility: str | None, facilities: Set[str] | None) -> bool:
    """:func:`_visible` for a report already read: the same rule, in Python."""
    return facilities is None or (facility is not None and facility in facilities)


def _scoped(query: Select[_Q], facilities: Set[str] | None) -> Select[_Q]:
    return query if facilities is None else query.where(_visible(facilities))


def get(
    session: Session,
    report_id: str,
    *,
    facilities: Set[str] | None = None,
    for_update: bool = False,
) -> StoredReport:
    """The report ``report_id`` if visible within ``facilities``; raises ``NotFoundError``.

    A report outside ``facilities`` raises the very error a missing one does, so the
    answer does not tell whether it exists.
    """
    query = _scoped(select(ReportRow).where(ReportRow.id == report_id), facilities)
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFoundError(f"no report {report_id}")
    return _stored(row)


def find(session: Session, report_id: str) -> StoredReport | None:
    """The report ``report_id`` or None."""
    row = session.get(ReportRow, report_id)
    return _stored(row) if row is not None else None


@dataclass(frozen=True, kw_only=True)
class Created:
    """The outcome of :func:`create`: the report and whether this call created it."""

    report: StoredReport
    created: bool


def create(
    db: Database,
    *,
    case: Case,
    created_by: str,
    now: datetime,
    idempotency_key: str | None = None,
    body_sha256: str | None = None,
    facilities: Set[str] | None = None,
) -> Created:
    """Store a new report for ``case`` and queue its drafting job, in one transaction.

    With ``idempotency_key``, the (creator, key) record is written in the same
    transaction; a later call with the same key and body returns the first report
    (``created=False``), one with a different body raises :class:`IdempotencyKeyReused`.
    Two racing calls with the same key both end with the one report: the loser's insert
    hits the unique constraint, rolls back, and reads the winner's record. A replay is
    read within ``facilities`` (the caller's scope now), never outside it.
    """
    if idempotency_key is not None and body_sha256 is None:
        raise InputError("an idempotency key needs the request body hash")
    if idempotency_key is not None:
        with db.read() as session:
            found = _replay(session, created_by, idempotency_key, body_sha256, facilities)
        if found is not None:
            return Created(report=found, created=False)
    try:
        with db.write() as session:
            if idempotency_key is not None:
                found = _replay(session, created_by, idempotency_key, body_sha256, facilities)
                if found is not None:
                    return Created(report=found, created=False)
            stored = _insert(session, case=case, created_by=created_by, now=now)
            if idempotency_key is not None:
                session.add(
                    IdempotencyRow(
                        api_key_id=created_by,
                        key=idempotency_key,
                        request_sha256=body_sha256,
                        report_id=stored.id,
                        created_at=now,
                    )
                )
                session.flush()
            return Created(report=stored, created=True)
    except IntegrityError:
        if idempotency_key is None:
            raise
    with db.read() as session:
        found = _replay(session, created_by, idempotency_key, body_sha256, facilities)
    if found is None:  # pragma: no cover - the constraint fired, so the row exists
        raise ConflictError("idempotency record vanished; retry the request")
    return Created(report=found, created=False)


def _replay(
    session: Session,
    api_key_id: str,
    key: str,
    body_sha256: str | None,
    facilities: Set[str] | None,
) -> StoredReport | None:
    row = session.scalars(
        select(IdempotencyRow).where(
            IdempotencyRow.api_key_id == api_key_id, IdempotencyRow.key == key
        )
    ).first()
    if row is None:
        return None
    if row.request_sha256 != body_sha256:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request body"
        )
    return get(session, row.report_id, facilities=facilities)


def _insert(session: Session, *, case: Case, created_by: str, now: datetime) -> StoredReport:
    row = ReportRow(
        id=new_report_id(),
        accession=case.study.accession_number,
        facility=facility_of(case),
        priority=case.study.priority.value,
        state=QUEUED,
        version=1,
        case_doc=case.model_dump(mode="json"),
        draft_doc=None,
        report_doc=None,
        critical_open=False,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    jobs.enqueue(session, report_id=row.id, priority=case.study.priority, now=now)
    audit_trail.append(
        session,
        report_id=row.id,
        event="report.created",
        actor=created_by,
        at=now,
        data={"accession": row.accession, "priority": row.priority},
    )
    return _stored(row)


def save(
    session: Session,
    report_id: str,
    *,
    expected_version: int,
    now: datetime,
    state: str | None = None,
    draft: Draft | None = None,
    report: Report | None = None,
    error_code: str | None = None,
    error: str | None = None,
    critical_open: bool | None = None,
) -> int:
    """Write the given fields if the row is still at ``expected_version``; return the new one.

    Raises :class:`StaleVersion` when another writer got there first and
    ``NotFoundError`` when the report does not exist.
    """
    values: dict[str, Any] = {"version": expected_version + 1, "updated_at": now}
    if state is not None:
        values["state"] = state
    if draft is not None:
        values["draft_doc"] = draft.model_dump(mode="json")
    if report is not None:
        values["report_doc"] = report.model_dump(mode="json")
    if error_code is not None:
        values["error_code"] = error_code
    if error is not None:
        values["error"] = error
    if critical_open is not None:
        values["critical_open"] = critical_open
    result = session.execute(
        update(ReportRow)
        .where(ReportRow.id == report_id, ReportRow.version == expected_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if session.get(ReportRow, report_id) is None:
            raise NotFoundError(f"no report {report_id}")
        raise StaleVersion(
            f"report {report_id} changed (it is no longer version {expected_version}); "
            "read it again and retry"
        )
    return expected_version + 1


@dataclass(frozen=True, kw_only=True)
class Page:
    """One page of a listing and the cursor of the next page (None at the end)."""

    items: list[StoredReport]
    next_cursor: str | None


def list_reports(
    session: Session,
    *,
    state: str | None = None,
    priority: Priority | None = None,
    accession: str | None = None,
    critical_open: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
    facilities: Set[str] | None = None,
) -> Page:
    """Reports newest first, filtered; ``cursor`` is the last id of the previous page.

    Only reports visible within ``facilities`` are listed, and a cursor naming a hidden
    report is refused like an unknown one.
    """
    query = _scoped(select(ReportRow), facilities)
    if state is not None:
        query = query.where(ReportRow.state == state)
    if priority is not None:
        query = query.where(ReportRow.priority == priority.value)
    if accession is not None:
        query = query.where(ReportRow.accession == accession)
    if critical_open is not None:
        query = query.where(ReportRow.critical_open == critical_open)
    if cursor is not None:
        anchor = session.scalars(
            _scoped(select(ReportRow).where(ReportRow.id == cursor), facilities)
        ).first()
        if anchor is None:
            raise InputError("cursor: unknown report id")
        query = query.where(
            (ReportRow.created_at < anchor.created_at)
            | ((ReportRow.created_at == anchor.created_at) & (ReportRow.id < anchor.id))
        )
    rows = list(
        session.scalars(
            query.order_by(ReportRow.created_at.desc(), ReportRow.id.desc()).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[_stored(r) for r in rows], next_cursor=rows[-1].id if more else None)


def same_accession(
    session: Session, *, accession: str, facility: str | None, exclude: str, limit: int = 20
) -> list[str]:
    """Ids of the other reports of ``accession`` at ``facility``, oldest first.

    Accession numbers are issued per facility, so a match needs a known facility: with
    none, nothing matches (and no report of another facility is ever named).
    """
    if facility is None:
        return []
    query = (
        select(ReportRow.id)
        .where(
            ReportRow.accession == accession,
            ReportRow.facility == facility,
            ReportRow.id != exclude,
        )
        .order_by(ReportRow.created_at, ReportRow.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def count(session: Session) -> int:
    """How many reports there are."""
    return int(session.scalar(select(func.count()).select_from(ReportRow)) or 0)


SIGNED_STATES = frozenset(status.value for status in SIGNED_STATUSES)
"""Report states of a signed report (the lifecycle's signed statuses)."""


@dataclass(frozen=True, kw_only=True)
class WorklistEntry:
    """One worklist row: what a reading radiologist scans, without validating payloads.

    The worklist lists up to a few hundred reports on every refresh; reading (let alone
    validating) each report's whole case, draft and signed chain would cost more than
    the page may take (``bench/web_ttfb.py``: decoding the JSON of 200 reports alone took
    about 200 ms), so the database extracts these few fields from the stored JSON (JSON
    path operators on SQLite and PostgreSQL alike). Everything a radiologist acts on is
    read through :func:`get` with full validation.

    ``open_flags`` and ``alerts`` are those of the first version: the draft, which is
    edited in place until it is signed and is what the worklist is for. A signed report
    has nothing open to act on (its flags were resolved to sign it); the page shows no
    clock for it.
    """

    id: str
    accession: str
    priority: Priority
    state: str
    critical_open: bool
    created_at: datetime
    acquired_at: datetime
    modality: str
    procedure: str
    patient: str
    alerts: int
    open_flags: int


def _patient_name(name: dict[str, Any] | None) -> str:
    name = name or {}
    given = " ".join(str(g) for g in name.get("given") or [])
    family = str(name.get("family") or "")
    return f"{family}, {given}".strip(", ") if given else family


_CASE_PATHS = (
    ("study", "acquisition_time"),
    ("study", "modality"),
    ("study", "procedure", "display"),
    ("patient", "name"),
)
_DRAFT_PATHS = (
    ("versions", 0, "draft", "flags"),
    ("versions", 0, "acknowledgements"),
    ("versions", 0, "critical"),
)


def _json_paths(
    session: Session, column: Any, paths: tuple[tuple[str | int, ...], ...], label: str
) -> list[Any]:
    """Select ``paths`` of a JSON ``column``: on SQLite one ``json_extract`` with every
    path (the document is parsed once, and the answer is a JSON array of the values);
    elsewhere one path operator each (PostgreSQL)."""
    if session.get_bind().dialect.name == "sqlite":
        texts = [
            "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
            for path in paths
        ]
        return [func.json_extract(column, *texts).label(label)]
    return [column[path].label(f"{label}_{i}") for i, path in enumerate(paths)]


def _values(row: Any, label: str, count: int) -> list[Any]:
    """The values :func:`_json_paths` selected, in order, whichever form they came in."""
    if hasattr(row, label):  # SQLite: one JSON array (NULL while there is no report)
        packed = getattr(row, label)
        return list(json.loads(packed)) if packed else [None] * count
    return [getattr(row, f"{label}_{i}") for i in range(count)]


def _entry(row: Any) -> WorklistEntry:
    acquired, modality, procedure, patient = _values(row, "case_fields", len(_CASE_PATHS))
    flags, acks, critical = _values(row, "draft_fields", len(_DRAFT_PATHS))
    acknowledged = {a.get("flag_id") for a in acks or []}
    return WorklistEntry(
        id=row.id,
        accession=row.accession,
        priority=Priority(row.priority),
        state=row.state,
        critical_open=row.critical_open,
        created_at=row.created_at,
        acquired_at=datetime.fromisoformat(str(acquired)),
        modality=str(modality or ""),
        procedure=str(procedure or ""),
        patient=_patient_name(patient),
        alerts=sum(1 for m in critical or [] if m.get("alert")),
        open_flags=sum(1 for f in flags or [] if f.get("id") not in acknowledged),
    )


def worklist(
    session: Session,
    *,
    facilities: Set[str] | None,
    states: Set[str] | None = None,
    priority: Priority | None = None,
    limit: int = 200,
) -> list[WorklistEntry]:
    """The reports to read, STAT first, then oldest first (longest waiting on top).

    ``states`` None lists every state. Scoped like every reader (``facilities``). The
    order uses the row's creation time (when the workstation sent the case), which
    follows the acquisition closely and is indexed; the page shows the time since
    acquisition itself.
    """
    picked = _scoped(select(ReportRow.id), facilities)
    if states is not None:
        picked = picked.where(ReportRow.state.in_(sorted(states)))
    if priority is not None:
        picked = picked.where(ReportRow.priority == priority.value)
    stat_first = case((ReportRow.priority == Priority.STAT.value, 0), else_=1)
    ids = list(
        session.scalars(
            picked.order_by(stat_first, ReportRow.created_at, ReportRow.id).limit(limit)
        )
    )
    if not ids:
        return []
    # The JSON paths are read for the listed rows only (a sort over every matching row
    # would otherwise carry them all), each document parsed once per row.
    query = select(
        ReportRow.id,
        ReportRow.accession,
        ReportRow.priority,
        ReportRow.state,
        ReportRow.critical_open,
        ReportRow.created_at,
        *_json_paths(session, ReportRow.case_doc, _CASE_PATHS, "case_fields"),
        *_json_paths(session, ReportRow.report_doc, _DRAFT_PATHS, "draft_fields"),
    ).where(ReportRow.id.in_(ids))
    rows = {row.id: row for row in session.execute(query)}
    return [_entry(rows[i]) for i in ids if i in rows]
