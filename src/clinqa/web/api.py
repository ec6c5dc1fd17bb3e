"""The JSON API. Calls that act as a user need an API token (`Authorization: Bearer <token>`); errors are JSON
`{"error": ..., "field": ...}` with the status code (see install_error_handlers)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from clinqa.review import Article, ArticleState, ArticleVersion, AuditEvent, Role, User
from clinqa.review.models import MAX_VERSION
from clinqa.types import Answer, Document, DocumentSummary, Thread
from clinqa.web.auth import api_user, require_role
from clinqa.web.backend import MAX_COMMENT_CHARS, AskRequest, PatientDetails, QuestionText, Web
from clinqa.web.owners import Owner, api_owner, reader

REVIEWERS = (Role.REVIEWER, Role.ADMIN)
Token = Annotated[User, Depends(api_user)]  # the owner of the request's API token


class ArticleRequest(BaseModel):
    """Answer a question and save the answer as a draft article."""

    model_config = ConfigDict(extra="forbid")

    question: QuestionText = Field(min_length=1)
    audience: Literal["clinician", "patient"] = "clinician"
    patient: PatientDetails = None


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: ArticleState = Field(description="The state to move the article to; `draft` regenerates it as a new version")
    version: int = Field(
        ge=1,
        le=MAX_VERSION,
        description="The version the move acts on: the article's current version as the caller saw it; a newer one"
        " since makes the move stale (409, nothing changes)",
    )
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS, description="Kept in the audit log")


class Health(BaseModel):
    status: Literal["ok"]
    documents: int = Field(description="Source documents in the knowledge base")
    generation: int = Field(description="The corpus generation this worker answers from")


class ArticleDetail(BaseModel):
    article: Article
    visible_version: ArticleVersion | None = Field(description="What readers see; null before the first approval")


def router(web: Web) -> APIRouter:
    routes = APIRouter(prefix="/api")

    @routes.post("/ask", response_model=Answer)
    async def api_ask(
        request: Request, response: Response, body: AskRequest, owner: Annotated[Owner, Depends(api_owner)]
    ) -> Answer:
        """Answer, and keep the question as a conversation of the caller's: the API token's user, else the
        browser of the `clinqa_owner` cookie (given with the first answer)."""
        answer = await web.ask(body, owner.key)
        owner.remember(response, request)
        return answer

    @routes.get("/health", response_model=Health)
    def api_health() -> Health:
        """For a load balancer or a monitor: 200 when this worker reaches its database (which it queries), else
        the JSON error of a failed request. No account needed; it tells nothing about questions or patients."""
        documents, generation = web.health()
        return Health(status="ok", documents=documents, generation=generation)

    @routes.get("/sources", response_model=list[DocumentSummary])
    def api_sources() -> list[DocumentSummary]:
        return web.documents()

    @routes.get("/sources/{document_id}", response_model=Document)
    def api_source(document_id: str) -> Document:
        return web.document(document_id)

    @routes.get("/threads", response_model=list[Thread])
    def api_threads(user: Token) -> list[Thread]:
        """Every stored conversation, with its patient context: admins only."""
        require_role(user, (Role.ADMIN,), "list the conversations")
        return web.threads()

    @routes.get("/threads/{thread_id}", response_model=Thread)
    def api_thread(thread_id: str, owner: Annotated[str | None, Depends(reader)]) -> Thread:
        """One of the caller's conversations (API token, else owner cookie); anyone else's is 404."""
        return web.thread(thread_id, owner)

    @routes.get("/articles", response_model=list[Article])
    def api_articles() -> list[Article]:
        return web.articles()

    @routes.post("/articles", response_model=Article, status_code=201)
    async def api_save_article(body: ArticleRequest, user: Token) -> Article:
        ask = AskRequest(question=body.question, audience=body.audience, patient=body.patient)
        return await web.save_article(ask, user)

    @routes.get("/articles/{article_id}", response_model=ArticleDetail)
    def api_article(article_id: str) -> ArticleDetail:
        article, visible = web.article(article_id)
        return ArticleDetail(article=article, visible_version=visible)

    @routes.post("/articles/{article_id}/transitions", response_model=Article)
    async def api_move_article(article_id: str, body: TransitionRequest, user: Token) -> Article:
        return await web.move_article(article_id, user, body.to, body.comment, body.version)

    @routes.get("/articles/{article_id}/audit", response_model=list[AuditEvent])
    def api_audit(article_id: str, user: Token) -> list[AuditEvent]:
        return web.audit(article_id)[1]

    @routes.get("/review/queue", response_model=list[Article])
    def api_queue(user: Token) -> list[Article]:
        require_role(user, REVIEWERS, "see the review queue")
        return web.queue()

    return routes
