"""FastAPI application: pages (Jinja2, no external assets) and the JSON API. Handlers parse, call the engine,
render; errors become a status code and a message naming the bad field."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from clinqa.engine import Engine
from clinqa.errors import ClinqaError, NotFound
from clinqa.types import Answer, Document, PatientContext

MAX_BODY_BYTES = 64 * 1024  # a question and patient details fit many times over
MAX_QUESTION_CHARS = 2_000


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    audience: Literal["clinician", "patient"] = "clinician"
    patient: PatientContext | None = None
    thread_id: str | None = Field(default=None, max_length=64)


class Web:
    """The engine behind a lock: one SQLite connection, used by one request at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()

    def ask(self, request: AskRequest) -> Answer:
        with self.lock:
            return self.engine.ask(
                request.question, patient=request.patient, thread_id=request.thread_id, audience=request.audience
            )

    def document(self, document_id: str) -> Document:
        with self.lock:
            return self.engine.document(document_id)

    def patient_from_text(self, text: str) -> PatientContext | None:
        if not text.strip():
            return None
        with self.lock:
            return self.engine.patient_from_text(text)


def create_app(db_path: Path) -> FastAPI:
    web = Web(Engine(db_path))
    app = FastAPI(title="clinqa", version="0.1.0", description="Guideline-backed, cited answers to clinical questions")
    templates = Jinja2Templates(directory=str(resources.files("clinqa.web").joinpath("templates")))
    app.mount("/static", StaticFiles(directory=str(resources.files("clinqa.web").joinpath("static"))), name="static")
    app.middleware("http")(limit_body_size)
    install_error_handlers(app, templates)

    @app.get("/", response_class=HTMLResponse)
    def ask_page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "ask.html", {"answer": None})

    @app.get("/ask", response_class=HTMLResponse)
    def ask_link(
        request: Request,
        question: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_CHARS)],
        audience: Literal["clinician", "patient"] = "clinician",
    ) -> HTMLResponse:
        """A question as a link, to share or bookmark (nothing about the patient is put in the address)."""
        ask = AskRequest(question=question, audience=audience)
        return templates.TemplateResponse(request, "ask.html", {"answer": web.ask(ask), "asked": ask})

    @app.post("/ask", response_class=HTMLResponse)
    def ask_form(
        request: Request,
        question: Annotated[str, Form(max_length=MAX_QUESTION_CHARS)],
        audience: Annotated[Literal["clinician", "patient"], Form()] = "clinician",
        patient_details: Annotated[str, Form(max_length=MAX_QUESTION_CHARS)] = "",
        thread_id: Annotated[str, Form(max_length=64)] = "",
    ) -> HTMLResponse:
        ask = AskRequest(
            question=question,
            audience=audience,
            patient=web.patient_from_text(patient_details),
            thread_id=thread_id or None,
        )
        answer = web.ask(ask)
        return templates.TemplateResponse(request, "ask.html", {"answer": answer, "asked": ask})

    @app.get("/sources/{document_id}", response_class=HTMLResponse)
    def source_page(request: Request, document_id: str, passage: str | None = None) -> HTMLResponse:
        document = web.document(document_id)
        return templates.TemplateResponse(request, "source.html", {"document": document, "highlight": passage})

    @app.post("/api/ask", response_model=Answer)
    def api_ask(body: AskRequest) -> Answer:
        return web.ask(body)

    @app.get("/api/sources/{document_id}", response_model=Document)
    def api_source(document_id: str) -> Document:
        return web.document(document_id)

    return app


async def limit_body_size(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    declared = request.headers.get("content-length")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return JSONResponse({"error": f"request body larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
    return await call_next(request)


def install_error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    """JSON errors for the API, pages for people; never a stack trace."""

    def respond(request: Request, status: int, message: str, field: str | None = None) -> Response:
        if request.url.path.startswith("/api/"):
            body: dict[str, Any] = {"error": message}
            if field:
                body["field"] = field
            return JSONResponse(body, status_code=status)
        context = {"status": status, "message": message}
        return templates.TemplateResponse(request, "error.html", context, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "form", "query", "path"))
        return respond(request, 422, f"{field or 'request'}: {first['msg']}", field or None)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return respond(request, 404, str(exc))

    @app.exception_handler(ClinqaError)
    async def clinqa_error(request: Request, exc: ClinqaError) -> Response:
        return respond(request, 400, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return respond(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return respond(request, 500, "internal error; the server log has the details")
