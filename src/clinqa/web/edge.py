"""The outermost layer of the app, in plain ASGI: the request body limit (the bytes actually read, whatever
`Content-Length` says, chunked bodies included) and the browser security headers on every response."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinqa.settings import settings

# No page runs a script (the forms and links work without one), so none may run: an injected <script> or
# javascript: link does nothing even if some value escaped the templates' escaping.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none';"
    " form-action 'self'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Article addresses are slugs of questions: they are not sent to other sites (PubMed links, the original page).
    "referrer-policy": "same-origin",
}
# Answers, conversations and the pages of a session are nobody else's: no browser or proxy keeps a copy.
NO_STORE = "no-store"
STATIC_PREFIX = "/static/"
# The requests whose body may hold a FHIR patient record, larger than any other body, have a limit of their own:
# the JSON API's ask, the CDS services, and the ask form sent as multipart (only a file upload carries a record).
RECORD_API = "/api/ask"
RECORD_PREFIX = "/cds-services/"
RECORD_FORM = "/ask"
MULTIPART = b"multipart/form-data"


def body_limit(method: str, path: str, content_type: bytes = b"") -> int:
    """The largest body read for a request: `web.max_record_body_bytes` where a FHIR record may come, else
    `web.max_body_bytes`."""
    web = settings().web
    form = path == RECORD_FORM and content_type.lower().startswith(MULTIPART)
    record = method == "POST" and (path == RECORD_API or path.startswith(RECORD_PREFIX) or form)
    return web.max_record_body_bytes if record else web.max_body_bytes


class BodyTooLarge(HTTPException):
    """The request body is larger than its limit (`body_limit`); raised while it is being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class Edge:
    """Count the body bytes as the app reads them and refuse the request (413) once they pass the limit, so an
    endless chunked body costs at most the limit plus one chunk; a declared `Content-Length` over the limit is
    refused before anything is read. Adds the security headers, and `Cache-Control: no-store` to everything but
    the static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        limit = body_limit(scope["method"], scope["path"], content_type)
        cacheable = scope["path"].startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_headers(message.get("headers", []), cacheable)}
            await send(message)

        if declared_too_large(scope, limit):
            await refuse(send_with_headers, limit)
            return
        read = 0
        over = False  # once the limit is passed, whatever the app answers becomes the 413
        refused = started = False

        async def counted() -> Message:
            nonlocal read, over
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    over = True
                    raise BodyTooLarge(limit)
            return message

        async def answer(message: Message) -> None:
            nonlocal refused, started
            if not over:
                started = started or message["type"] == "http.response.start"
                await send_with_headers(message)
            elif not refused and message["type"] == "http.response.start":
                # The app's own answer to a body cut short (a parse error, wrapped or not) is replaced.
                refused = True
                await refuse(send_with_headers, limit)

        try:
            await self.app(scope, counted, answer)
        except BodyTooLarge:
            if started:  # an answer already on its way cannot become a 413
                raise
            if not refused:
                await refuse(send_with_headers, limit)


def declared_too_large(scope: Scope, limit: int) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return not value.isdigit() or len(value) > 18 or int(value) > limit
    return False


def with_headers(headers: list[tuple[bytes, bytes]], cacheable: bool) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    added = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
    if not cacheable and b"cache-control" not in present:
        added.append((b"cache-control", NO_STORE.encode()))
    return [*headers, *added]


async def refuse(send: Send, limit: int) -> None:
    body = json.dumps({"error": f"request body larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
