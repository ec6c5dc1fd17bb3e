"""Server-side login sessions, kept in the knowledge base (table web_sessions): a random token in the
`clinqa_session` cookie names a session that holds the username and the session's CSRF token; the database keeps
only the token's SHA-256. Every worker process sees the same sessions, and a restart of the server ends none. A
session ends at logout or `web.session_ttl_s` (settings) after login."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from clinqa.settings import settings
from clinqa.store import Database

SESSION_COOKIE = "clinqa_session"
LOGIN_COOKIE = "clinqa_login"  # the login form's CSRF token: there is no session to hold it yet
LOGIN_FORM_TTL_S = 3600


@dataclass(frozen=True)
class Session:
    token: str
    username: str
    csrf: str  # the token every form of this session carries
    expires_at: float


class Sessions:
    """Live sessions by token, in the database. An expired session is as good as unknown."""

    def __init__(self, db: Database, ttl_s: float | None = None, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.ttl_s = settings().web.session_ttl_s if ttl_s is None else ttl_s
        self.clock = clock

    def start(self, username: str) -> Session:
        """A new session (a new token: a token seen before login never becomes a logged-in one)."""
        session = Session(new_token(), username, new_token(), self.clock() + self.ttl_s)
        with self.db.transaction():
            self.db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (self.clock(),))
            self.db.execute(
                "INSERT INTO web_sessions (token_sha256, username, csrf, expires_at) VALUES (?, ?, ?, ?)",
                (_digest(session.token), username, session.csrf, session.expires_at),
            )
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        row = self.db.execute(
            "SELECT username, csrf, expires_at FROM web_sessions WHERE token_sha256=? AND expires_at > ?",
            (_digest(token), self.clock()),
        ).fetchone()
        return Session(token, row[0], row[1], row[2]) if row else None

    def end(self, token: str | None) -> None:
        if token:
            self.db.execute("DELETE FROM web_sessions WHERE token_sha256=?", (_digest(token),))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty token never matches."""
    return bool(given and expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Lax, and Secure when the page was served over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
