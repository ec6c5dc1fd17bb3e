"""FastAPI application: pages (Jinja2, no external assets, no scripts) and the JSON API, wired to one `Web` (the
engine of this worker process, and the login sessions). Handlers live in pages.py, articles.py, auth.py and api.py; they
parse, call the engine, render; errors.py turns named errors into a status code and a message naming the bad
field; edge.py limits the body read and adds the security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from clinqa.engine import Engine
from clinqa.review.diffs import word_diff
from clinqa.review.render import SOURCE_UPDATED, STATE_LINE, review_status
from clinqa.settings import settings
from clinqa.web import api, articles, auth, cds_hooks, pages
from clinqa.web.backend import AskRequest, Web
from clinqa.web.edge import Edge
from clinqa.web.errors import install_error_handlers
from clinqa.web.sessions import Sessions

__all__ = ["AskRequest", "Web", "create_app"]


def create_app(db: Path | str, sessions: Sessions | None = None) -> FastAPI:
    """The app over the knowledge base at `db` (a SQLite path or a postgresql:// URL); its `Web` is
    `app.state.web`. Expired conversations are deleted as it starts."""
    web = Web(Engine(db), sessions)
    web.purge_threads()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        web.close()  # the answer processes, if it started any

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,  # their pages load scripts from a CDN; OpenAPI stays at /openapi.json
        title="clinqa",
        version="0.1.0",
        description="Guideline-backed, cited answers to clinical questions",
    )
    app.state.web = web
    templates = page_templates()
    app.mount("/static", StaticFiles(directory=str(resources.files("clinqa.web").joinpath("static"))), name="static")
    app.middleware("http")(auth.session_middleware(web))
    app.add_middleware(Edge)  # outermost: the body is counted as it is read, every response gets the headers
    install_error_handlers(app, templates)
    app.include_router(pages.router(web, templates))
    app.include_router(auth.router(web, templates))
    app.include_router(articles.router(web, templates))
    app.include_router(api.router(web))
    app.include_router(cds_hooks.router(web))
    return app


def page_templates() -> Jinja2Templates:
    """Jinja2 with autoescape (on for .html): every text from a source, a question or a user is escaped; a URL
    from the data becomes a link only through `http_url`."""
    templates = Jinja2Templates(
        directory=str(resources.files("clinqa.web").joinpath("templates")), context_processors=[viewer_context]
    )
    templates.env.globals.update(
        state_line=STATE_LINE, review_status=review_status, word_diff=word_diff, source_updated=SOURCE_UPDATED
    )
    templates.env.filters["http_url"] = http_url
    return templates


def viewer_context(request: Request) -> dict[str, Any]:
    """Every page knows who is logged in (for the header, and the forms' CSRF token) and the question limit."""
    return {"viewer": auth.viewer(request), "max_question_chars": settings().web.max_question_chars}


def http_url(value: object) -> str | None:
    """`value` when it is an absolute http(s) URL, else None: a `javascript:` or `data:` address from an ingested
    page (or any other scheme) never becomes a link."""
    if not isinstance(value, str) or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None
