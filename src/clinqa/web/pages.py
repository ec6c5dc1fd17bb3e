"""Pages for asking: the ask form, a question as a shareable link, the answer, the source viewer."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from clinqa.errors import RecordError
from clinqa.web.backend import MAX_ID_CHARS, RECORD_FIELD, AskRequest, QuestionText, Web
from clinqa.web.owners import page_owner


def router(web: Web, templates: Jinja2Templates) -> APIRouter:
    routes = APIRouter()

    @routes.get("/", response_class=HTMLResponse)
    def ask_page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "ask.html", {"answer": None})

    @routes.get("/ask", response_class=HTMLResponse)
    async def ask_link(
        request: Request,
        question: Annotated[QuestionText, Query(min_length=1)],
        audience: Literal["clinician", "patient"] = "clinician",
    ) -> HTMLResponse:
        """A question as a link, to share or bookmark (nothing about the patient is put in the address). Opening
        a link stores nothing: a visit, a crawler or a prefetch is not a conversation."""
        ask = AskRequest(question=question, audience=audience)
        return templates.TemplateResponse(request, "ask.html", {"answer": await web.ask(ask, None), "asked": ask})

    # No CSRF token here: asking needs no account, so a forged question acts with no one's authority (and
    # continues only the forger's own conversations: a thread is read by its owner alone).
    @routes.post("/ask", response_class=HTMLResponse)
    async def ask_form(
        request: Request,
        question: Annotated[QuestionText, Form(min_length=1)],
        audience: Annotated[Literal["clinician", "patient"], Form()] = "clinician",
        patient_details: Annotated[QuestionText, Form()] = "",
        thread_id: Annotated[str, Form(max_length=MAX_ID_CHARS)] = "",
        patient_record: Annotated[UploadFile | None, File()] = None,
    ) -> HTMLResponse:
        """The form, sent as multipart when it carries a FHIR record file (a Bundle or NDJSON)."""
        owner = page_owner(request)
        ask = AskRequest(
            question=question,
            audience=audience,
            patient=await run_in_threadpool(web.patient_from_text, patient_details),
            patient_record=await uploaded_text(patient_record),
            thread_id=thread_id or None,
        )
        answer = await web.ask(ask, owner.key)
        page = templates.TemplateResponse(request, "ask.html", {"answer": answer, "asked": ask})
        owner.remember(page, request)
        return page

    @routes.get("/sources/{document_id}", response_class=HTMLResponse)
    def source_page(
        request: Request,
        document_id: str,
        passage: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
    ) -> HTMLResponse:
        document = web.document(document_id)
        return templates.TemplateResponse(request, "source.html", {"document": document, "highlight": passage})

    return routes


async def uploaded_text(upload: UploadFile | None) -> str | None:
    """The text of an uploaded record; None when no file was chosen (a browser sends an empty, unnamed part)."""
    if upload is None:
        return None
    data = await upload.read()
    if not data and not upload.filename:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(RECORD_FIELD, f"the file {upload.filename!r} is not UTF-8 text") from exc
