"""Whose conversation a question starts or continues: the logged-in user (session or API token), else the
browser, known by a random value in its `clinqa_owner` cookie. The database keeps only the cookie's SHA-256, and a
thread is read only by its owner (anyone else gets the same 404 as for an unknown id)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.responses import Response

from clinqa.answer.threads import browser_owner, retention, user_owner
from clinqa.web.auth import bearer, viewer
from clinqa.web.backend import Web
from clinqa.web.sessions import new_token, set_cookie

OWNER_COOKIE = "clinqa_owner"
MAX_COOKIE_CHARS = 100  # new_token() makes 43
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@dataclass(frozen=True)
class Owner:
    """Who owns the request's conversations; `new_cookie` is set when the browser has no owner cookie yet."""

    key: str
    new_cookie: str | None = None

    def remember(self, response: Response, request: Request) -> None:
        """Give the browser its owner cookie (HttpOnly, SameSite=Lax; it lasts as long as its conversations)."""
        if self.new_cookie is not None:
            lasts = int(retention().total_seconds())
            set_cookie(response, request, OWNER_COOKIE, self.new_cookie, max(lasts, 60))


def page_owner(request: Request) -> Owner:
    """The owner of a page's question: the logged-in user, else this browser (a new cookie when it has none)."""
    found = viewer(request)
    if found is not None:
        return Owner(user_owner(found.user.id))
    cookie = browser_cookie(request)
    return Owner(browser_owner(cookie)) if cookie is not None else new_browser()


def reader(request: Request, credentials: Credentials) -> str | None:
    """Who asks through the API: the API token's user (401 for a bad token), else the caller's owner cookie; None
    for neither. The session cookie counts only for pages."""
    if credentials is not None:
        web: Web = request.app.state.web
        return user_owner(web.token_user(credentials.credentials).id)
    cookie = browser_cookie(request)
    return browser_owner(cookie) if cookie is not None else None


def api_owner(known: Annotated[str | None, Depends(reader)]) -> Owner:
    """The owner of an API question: the reader, else a new browser owner (keep its cookie to follow up)."""
    return Owner(known) if known is not None else new_browser()


def new_browser() -> Owner:
    fresh = new_token()
    return Owner(browser_owner(fresh), fresh)


def browser_cookie(request: Request) -> str | None:
    cookie = request.cookies.get(OWNER_COOKIE, "")
    return cookie if 0 < len(cookie) <= MAX_COOKIE_CHARS else None
