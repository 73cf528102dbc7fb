"""Server-side sessions of the review pages, their CSRF tokens and security headers.

A browser never holds the API key: signing in checks it and keeps a session in the
database naming the key by its SHA-256, and the browser gets only a random session id in
an HttpOnly, SameSite=Strict cookie (Secure when the page was served over https). Every
request looks that key up exactly as the bearer header's is looked up
(``reportdraft.api.auth.authenticate_key_hash``), so revoking a key ends its sessions at
once. Neither secret is stored: the row is keyed by the SHA-256 of the session id.

Every state-changing form carries the session's CSRF token and is refused without it
(403): SameSite=Strict already keeps other sites' forms from sending the cookie, the
token also covers older browsers and same-site subdomains.

Sessions live in the database (``store.web_sessions``), so every process of
``reportdraft serve --workers N``, or several hosts on one database, serves the same
sessions without sticky routing, and a restart signs nobody out. Their limits: an hour
idle, twelve hours in all, and at most ``MAX_SESSIONS`` (anonymous ones go first, then
the least recently used).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from reportdraft.store import Database, web_sessions

COOKIE = "rd_session"
IDLE_S = 60 * 60.0
"""A session unused for an hour ends (a reading-room workstation left alone)."""
MAX_AGE_S = 12 * 60 * 60.0
"""No session outlives a 12-hour shift."""
MAX_SESSIONS = 10_000
"""The store's bound: anonymous sessions (one comes with every visit of the sign-in page)
go first, then the least recently used."""
TOUCH_S = 30.0
"""A session's last use is written at most this often (not on every page and poll)."""


@dataclass
class Session:
    """One browser's session: its CSRF token, the signed-in key (by its SHA-256), and the
    flash lines waiting for the next page."""

    id: str
    csrf: str
    created: float
    seen: float
    key_sha256: str | None = None
    flash: list[str] = field(default_factory=list)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class SessionStore:
    """The sessions of every process serving the pages, kept in the database."""

    def __init__(
        self,
        db: Database,
        *,
        idle_s: float = IDLE_S,
        max_age_s: float = MAX_AGE_S,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.idle_s = idle_s
        self.max_age_s = max_age_s
        self.max_sessions = max_sessions
        self._clock = clock

    def new(self, key_sha256: str | None = None) -> Session:
        """A fresh session with new id and CSRF token (also on sign-in: no fixation)."""
        now = self._clock()
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            created=now,
            seen=now,
            key_sha256=key_sha256,
        )
        row = web_sessions.StoredSession(
            id_sha256=_digest(session.id),
            csrf=session.csrf,
            key_sha256=key_sha256,
            created_s=now,
            seen_s=now,
            flash=(),
        )
        with self.db.write() as tx:
            web_sessions.prune(
                tx,
                seen_before=now - self.idle_s,
                created_before=now - self.max_age_s,
                keep=self.max_sessions - 1,
            )
            web_sessions.insert(tx, row)
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session ``session_id`` (None when unknown, idle too long or too old)."""
        if not session_id:
            return None
        now = self._clock()
        digest = _digest(session_id)
        with self.db.read() as tx:
            row = web_sessions.load(tx, digest)
        if row is None:
            return None
        if now - row.seen_s > self.idle_s or now - row.created_s > self.max_age_s:
            self.drop(session_id)
            return None
        if now - row.seen_s > TOUCH_S:
            with self.db.write() as tx:
                web_sessions.touch(tx, digest, now)
        return Session(
            id=session_id,
            csrf=row.csrf,
            created=row.created_s,
            seen=now,
            key_sha256=row.key_sha256,
            flash=list(row.flash),
        )

    def flash(self, session: Session, line: str) -> None:
        """Keep ``line`` for the session's next page."""
        session.flash.append(line)
        with self.db.write() as tx:
            web_sessions.set_flash(tx, _digest(session.id), session.flash)

    def take_flash(self, session: Session) -> list[str]:
        """The session's pending flash lines, which are then gone."""
        lines, session.flash = session.flash, []
        if lines:
            with self.db.write() as tx:
                web_sessions.set_flash(tx, _digest(session.id), [])
        return lines

    def drop(self, session_id: str | None) -> None:
        """End a session (sign out)."""
        if session_id:
            with self.db.write() as tx:
                web_sessions.remove(tx, _digest(session_id))


def session_of(request: Request, store: SessionStore) -> Session | None:
    """The session named by the request's cookie."""
    return store.get(request.cookies.get(COOKIE))


def set_cookie(request: Request, response: Response, session: Session) -> None:
    """Give the browser the session id: HttpOnly, SameSite=Strict, Secure over https."""
    response.set_cookie(
        COOKIE,
        session.id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def csrf_ok(session: Session | None, token: str | None) -> bool:
    """True when ``token`` is the session's CSRF token (compared in constant time)."""
    if session is None or not token:
        return False
    return secrets.compare_digest(session.csrf.encode(), token.encode())


CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-src 'self'; "
    "frame-ancestors 'none'"
)
"""The pages' Content-Security-Policy: scripts and styles only from the package's own
files (no inline script, no inline style, no eval), nothing from another host, never
framed. The signed-report view frames the PDF from the same origin (``frame-src 'self'``)."""
FRAMEABLE_CSP = "default-src 'none'; frame-ancestors 'self'"
"""The PDF's policy: it may be framed only by this origin's signed-report view."""


def secure(response: Response, *, frameable: bool = False) -> Response:
    """Add the pages' security headers to ``response``."""
    response.headers["Content-Security-Policy"] = FRAMEABLE_CSP if frameable else CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if frameable else "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
