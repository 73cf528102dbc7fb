"""Review-page sessions in the database, so that every service process sees them.

``reportdraft.web.sessions`` decides what a session is (ids, CSRF tokens, idle and age
limits); this module only keeps the rows (:class:`reportdraft.store.tables.WebSessionRow`):
by the SHA-256 of the session id, with the signed-in key named by its SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from reportdraft.store.tables import WebSessionRow


@dataclass(frozen=True)
class StoredSession:
    """One session row."""

    id_sha256: str
    csrf: str
    key_sha256: str | None
    created_s: float
    seen_s: float
    flash: tuple[str, ...]


def insert(session: Session, row: StoredSession) -> None:
    """Store a new session."""
    session.add(
        WebSessionRow(
            id_sha256=row.id_sha256,
            csrf=row.csrf,
            key_sha256=row.key_sha256,
            created_s=row.created_s,
            seen_s=row.seen_s,
            flash=list(row.flash),
        )
    )
    session.flush()


def load(session: Session, id_sha256: str) -> StoredSession | None:
    """The session row ``id_sha256``, or None."""
    row = session.get(WebSessionRow, id_sha256)
    if row is None:
        return None
    return StoredSession(
        id_sha256=row.id_sha256,
        csrf=row.csrf,
        key_sha256=row.key_sha256,
        created_s=row.created_s,
        seen_s=row.seen_s,
        flash=tuple(row.flash or ()),
    )


def touch(session: Session, id_sha256: str, seen_s: float) -> None:
    """Record that the session was used at ``seen_s``."""
    session.execute(
        update(WebSessionRow).where(WebSessionRow.id_sha256 == id_sha256).values(seen_s=seen_s)
    )


def set_flash(session: Session, id_sha256: str, flash: list[str]) -> None:
    """Replace the session's pending flash lines."""
    session.execute(
        update(WebSessionRow).where(WebSessionRow.id_sha256 == id_sha256).values(flash=flash)
    )


def remove(session: Session, id_sha256: str) -> None:
    """Delete one session (sign-out, or found expired)."""
    session.execute(delete(WebSessionRow).where(WebSessionRow.id_sha256 == id_sha256))


def prune(session: Session, *, seen_before: float, created_before: float, keep: int) -> None:
    """Delete sessions idle since ``seen_before`` or created before ``created_before``,
    then all but ``keep``: signed-in ones first, most recently used first (a flood of
    anonymous sign-in visits neither grows the table without bound nor signs anyone out)."""
    session.execute(
        delete(WebSessionRow).where(
            (WebSessionRow.seen_s < seen_before) | (WebSessionRow.created_s < created_before)
        )
    )
    # Signed-in sessions outrank anonymous ones (a sign-in form's CSRF holder), so a flood
    # of anonymous visits evicts only anonymous sessions while signed-in ones fit.
    signed_in = case((WebSessionRow.key_sha256.is_(None), 0), else_=1)
    newest = (
        select(WebSessionRow.id_sha256)
        .order_by(signed_in.desc(), WebSessionRow.seen_s.desc())
        .limit(keep)
    )
    session.execute(delete(WebSessionRow).where(WebSessionRow.id_sha256.not_in(newest)))
