"""Named errors become a status code and a message (JSON naming the field for the API, a page for people), never a
stack trace. (The body limit and the security headers: edge.py.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from clinqa.errors import ClinqaError, NotFound, RecordError
from clinqa.review import AccountError, AuthError, NotPermitted, RateLimited, ReviewStateError
from clinqa.web.auth import LoginRequired
from clinqa.web.backend import RECORD_FIELD
from clinqa.web.cds_hooks import CORS, PrefetchMissing

# Named errors and their status codes; a subclass not listed takes its nearest listed base's.
STATUS: dict[type[ClinqaError], int] = {
    NotFound: 404,
    PrefetchMissing: 412,
    RecordError: 422,  # the patient record sent cannot be read: the message names the resource
    AuthError: 401,
    NotPermitted: 403,
    ReviewStateError: 409,
    RateLimited: 429,
    AccountError: 400,
    ClinqaError: 400,
}


def status_of(exc: ClinqaError) -> tuple[int, dict[str, str] | None]:
    """The status code of a named error, and the headers that go with it."""
    status = next(STATUS[c] for c in type(exc).__mro__ if c in STATUS)
    if isinstance(exc, RateLimited):
        return status, {"Retry-After": str(exc.retry_after_s)}
    if isinstance(exc, AuthError):
        return status, {"WWW-Authenticate": "Bearer"}
    return status, None


def install_error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    """JSON errors for the API, pages for people; never a stack trace."""

    def respond(
        request: Request, status: int, message: str, field: str | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        path = request.url.path
        if path.startswith(("/api/", "/cds-services")):
            body: dict[str, Any] = {"error": message}
            if field:
                body["field"] = field
            if path.startswith("/cds-services"):  # an EHR page calling across origins reads the error too
                headers = {**(headers or {}), **CORS}
            return JSONResponse(body, status_code=status, headers=headers)
        context = {"status": status, "message": message}
        return templates.TemplateResponse(request, "error.html", context, status_code=status, headers=headers)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError | ValidationError)  # registered for these two only
        errors = list(exc.errors())
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "form", "query", "path"))
        return respond(request, 422, f"{field or 'request'}: {first['msg']}", field or None)

    app.add_exception_handler(RequestValidationError, invalid)
    # A value a handler builds a model from (e.g. the ask form's fields) is the request's too: 422, not 500.
    app.add_exception_handler(ValidationError, invalid)

    async def named_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ClinqaError)  # registered for ClinqaError and its subclasses only
        status, headers = status_of(exc)
        field = RECORD_FIELD if isinstance(exc, RecordError) else None
        return respond(request, status, str(exc), field, headers)

    for error in STATUS:
        app.add_exception_handler(error, named_error)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return respond(request, 401, "log in first")
        back = request.url.path if request.method == "GET" else ""
        return RedirectResponse(f"/login?next={quote(back)}" if back else "/login", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return respond(request, exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return respond(request, 500, "internal error; the server log has the details")
