"""Who is asking: the session cookie for pages (with a CSRF token on every form that changes something), an API
token (`Authorization: Bearer …`) for the JSON API; the login and logout pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from clinqa.review import AuthError, NotPermitted, RateLimited, Role, User
from clinqa.review.accounts import session_current
from clinqa.review.render import ACCOUNT_ACTION
from clinqa.web.backend import Viewer, Web
from clinqa.web.sessions import (
    LOGIN_COOKIE,
    LOGIN_FORM_TTL_S,
    SESSION_COOKIE,
    clear_cookie,
    new_token,
    same_token,
    set_cookie,
)

CSRF_MESSAGE = "this form is out of date or did not come from this site; reload the page and try again"
bearer = HTTPBearer(auto_error=False, description="An API token from `clinqa users token USERNAME`")


class LoginRequired(Exception):
    """The page needs a logged-in user; the visitor is sent to the login page."""


def session_middleware(web: Web) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Resolve the session cookie once per request into `request.state.viewer` (None when logged out)."""

    async def resolve_viewer(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        # Database reads, in a pool thread: the event loop stays free for other requests.
        found = await run_in_threadpool(web.viewer, token) if token else None
        if found is not None:
            # A session lasts ttl_s from its login; one begun before the user was disabled or had their password
            # reset is over, for good (enabling the user again does not bring it back).
            started = dt.datetime.fromtimestamp(found.session.expires_at - web.sessions.ttl_s, dt.UTC)
            if not session_current(found.user, started):
                await run_in_threadpool(web.sessions.end, token)
                found = None
        request.state.viewer = found
        return await call_next(request)

    return resolve_viewer


def viewer(request: Request) -> Viewer | None:
    found: Viewer | None = getattr(request.state, "viewer", None)
    return found


def logged_in(request: Request) -> User:
    """Dependency of pages that need a login."""
    found = viewer(request)
    if found is None:
        raise LoginRequired
    return found.user


def form_actor(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> User:
    """Dependency of every form that changes something: the logged-in user, once the form's CSRF token matches
    the session's (403 otherwise, and nothing changes)."""
    found = viewer(request)
    if found is None:
        raise LoginRequired
    if not same_token(csrf, found.session.csrf):
        raise HTTPException(403, CSRF_MESSAGE)
    return found.user


def api_user(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    """Dependency of API calls that act as a user: the owner of the bearer token (401 without a valid one)."""
    if credentials is None:
        raise AuthError("an API token is needed: Authorization: Bearer <token>")
    web: Web = request.app.state.web
    return web.token_user(credentials.credentials)


def require_role(user: User, roles: Iterable[Role], what: str) -> User:
    allowed = list(roles)
    if user.role not in allowed:
        names = " and ".join(f"{r.value}s" for r in allowed)
        raise NotPermitted(f"{user.username} ({user.role.value}) may not {what}; only {names} may")
    return user


def local_path(target: str | None, default: str = "/articles") -> str:
    """Where to go after login: a path on this site only (never another site, `//host` included)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def router(web: Web, templates: Jinja2Templates) -> APIRouter:
    routes = APIRouter()

    def login_form(
        request: Request, next_path: str, status: int = 200, message: str | None = None, retry_after: int | None = None
    ) -> Response:
        """The form, with a fresh login CSRF token in a cookie and in a hidden field (double submit)."""
        token = new_token()
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        context = {"csrf": token, "next": local_path(next_path), "message": message}
        page = templates.TemplateResponse(request, "login.html", context, status_code=status, headers=headers)
        set_cookie(page, request, LOGIN_COOKIE, token, LOGIN_FORM_TTL_S)
        return page

    @routes.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next_path: Annotated[str, Query(alias="next", max_length=2000)] = "") -> Response:
        return login_form(request, next_path)

    @routes.post("/login", response_class=HTMLResponse)
    def log_in(
        request: Request,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
        csrf: Annotated[str, Form(max_length=200)] = "",
        next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
    ) -> Response:
        if not same_token(csrf, request.cookies.get(LOGIN_COOKIE, "")):
            raise HTTPException(403, CSRF_MESSAGE)
        try:
            session = web.log_in(username, password)
        except RateLimited as ex:
            return login_form(request, next_path, 429, str(ex), ex.retry_after_s)
        except AuthError as ex:
            return login_form(request, next_path, 401, str(ex))
        web.sessions.end(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(local_path(next_path), status_code=303)
        set_cookie(response, request, SESSION_COOKIE, session.token, int(web.sessions.ttl_s))
        clear_cookie(response, request, LOGIN_COOKIE)
        return response

    @routes.post("/logout")
    def log_out(request: Request, _: Annotated[User, Depends(form_actor)]) -> Response:
        web.sessions.end(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/", status_code=303)
        clear_cookie(response, request, SESSION_COOKIE)
        return response

    @routes.get("/accounts/audit", response_class=HTMLResponse)
    def account_audit(request: Request, user: Annotated[User, Depends(logged_in)]) -> Response:
        """Every change to an account or an API token: who made it, when (admins)."""
        require_role(user, (Role.ADMIN,), "see the account audit log")
        context = {"events": web.account_events(), "labels": ACCOUNT_ACTION}
        return templates.TemplateResponse(request, "account_audit.html", context)

    return routes
