"""Server-side sessions of the review pages, their CSRF tokens and security headers.

A browser never holds the API key: signing in puts it into a session kept in this
process's memory, and the browser gets only a random session id in an HttpOnly,
SameSite=Strict cookie (Secure when the page was served over https). Every request
presents the stored key to the same lookup the bearer header uses
(``reportdraft.api.auth.authenticate_key``), so revoking a key ends its sessions at once.

Every state-changing form carries the session's CSRF token and is refused without it
(403): SameSite=Strict already keeps other sites' forms from sending the cookie, the
token also covers older browsers and same-site subdomains.

Sessions live in memory, per process: several ``reportdraft serve`` processes behind a
load balancer need sticky sessions for the pages (the JSON API keeps no state). A restart
signs everyone out, which for a reading room is a re-entry of the key.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "rd_session"
IDLE_S = 60 * 60.0
"""A session unused for an hour ends (a reading-room workstation left alone)."""
MAX_AGE_S = 12 * 60 * 60.0
"""No session outlives a 12-hour shift."""
MAX_SESSIONS = 10_000
"""The store's bound: the oldest sessions go first (anonymous ones come with every visit
of the sign-in page)."""


@dataclass
class Session:
    """One browser's session: its CSRF token, the API key once signed in, a flash line."""

    id: str
    csrf: str
    created: float
    seen: float
    api_key: str | None = None
    flash: list[str] = field(default_factory=list)


class SessionStore:
    """The sessions of this process (thread-safe; pages run in a thread pool)."""

    def __init__(self, *, idle_s: float = IDLE_S, max_age_s: float = MAX_AGE_S) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self.idle_s = idle_s
        self.max_age_s = max_age_s

    def new(self, api_key: str | None = None) -> Session:
        """A fresh session with new id and CSRF token (also on sign-in: no fixation)."""
        now = time.monotonic()
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            created=now,
            seen=now,
            api_key=api_key,
        )
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session ``session_id`` (None when unknown, idle too long or too old)."""
        if not session_id:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.seen > self.idle_s or now - session.created > self.max_age_s:
                del self._sessions[session_id]
                return None
            session.seen = now
            self._sessions.move_to_end(session_id)
            return session

    def drop(self, session_id: str | None) -> None:
        """End a session (sign out)."""
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)


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
