"""Server-side login sessions, kept in memory: a random token in the `clinqa_session` cookie names a session that
holds the username and the session's CSRF token. A session ends at logout or `web.session_ttl_s` (settings) after
login; a restart of the server ends them all (everyone logs in again)."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from clinqa.settings import settings

SESSION_COOKIE = "clinqa_session"
LOGIN_COOKIE = "clinqa_login"  # the login form's CSRF token: there is no session to hold it yet
LOGIN_FORM_TTL_S = 3600
MAX_SESSIONS = 10_000  # bounded memory: the oldest sessions end first


@dataclass(frozen=True)
class Session:
    token: str
    username: str
    csrf: str  # the token every form of this session carries
    expires_at: float


class Sessions:
    """Live sessions by token. Thread-safe; an expired session is as good as unknown."""

    def __init__(self, ttl_s: float | None = None, clock: Callable[[], float] = time.time) -> None:
        self.ttl_s = settings().web.session_ttl_s if ttl_s is None else ttl_s
        self.clock = clock
        self._live: dict[str, Session] = {}
        self._lock = threading.Lock()

    def start(self, username: str) -> Session:
        """A new session (a new token: a token seen before login never becomes a logged-in one)."""
        session = Session(new_token(), username, new_token(), self.clock() + self.ttl_s)
        with self._lock:
            if len(self._live) >= MAX_SESSIONS:
                self._drop_expired()
            while len(self._live) >= MAX_SESSIONS:
                del self._live[min(self._live, key=lambda t: self._live[t].expires_at)]
            self._live[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            session = self._live.get(token)
            if session is not None and session.expires_at <= self.clock():
                del self._live[token]
                return None
            return session

    def end(self, token: str | None) -> None:
        with self._lock:
            self._live.pop(token or "", None)

    def _drop_expired(self) -> None:
        now = self.clock()
        for token in [t for t, s in self._live.items() if s.expires_at <= now]:
            del self._live[token]


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
