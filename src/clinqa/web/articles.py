"""Article pages: save an answer as an article, read it (with its review status), print it, export it as Markdown,
move it through review (CSRF-protected forms), the reviewers' queue and the audit log."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from clinqa.review import ArticleState, Role, User
from clinqa.review.models import MAX_VERSION
from clinqa.review.render import article_markdown
from clinqa.settings import settings
from clinqa.web.auth import form_actor, logged_in, require_role, viewer
from clinqa.web.backend import MAX_COMMENT_CHARS, ArticlePage, AskRequest, QuestionText, Web

MOVE_LABELS = {
    ArticleState.SUBMITTED: "Submit for review",
    ArticleState.UNDER_REVIEW: "Start review",
    ArticleState.APPROVED: "Approve",
    ArticleState.CHANGES_REQUESTED: "Request changes",
    ArticleState.REJECTED: "Reject",
    ArticleState.DRAFT: "Regenerate from the current sources (new version)",
}
VersionQuery = Annotated[
    int | None, Query(ge=1, le=MAX_VERSION, description="A version number (authors, reviewers, admins)")
]


def router(web: Web, templates: Jinja2Templates) -> APIRouter:
    routes = APIRouter()

    def page(request: Request, article_id: str, version: int | None) -> ArticlePage:
        found = viewer(request)
        return web.article_page(article_id, version, found.user if found else None)

    @routes.post("/articles")
    async def save_article(
        question: Annotated[QuestionText, Form(min_length=1)],
        author: Annotated[User, Depends(form_actor)],
        audience: Annotated[Literal["clinician", "patient"], Form()] = "clinician",
    ) -> Response:
        """Answer the question again and save the answer as a draft article (the patient details of the ask
        form are not saved with it)."""
        article = await web.save_article(AskRequest(question=question, audience=audience), author)
        return RedirectResponse(f"/articles/{article.id}", status_code=303)

    @routes.get("/articles", response_class=HTMLResponse)
    def article_list(request: Request) -> Response:
        context = {"articles": web.articles(), "heading": "Articles", "queue": False}
        return templates.TemplateResponse(request, "articles.html", context)

    @routes.get("/review", response_class=HTMLResponse)
    def review_queue(request: Request, user: Annotated[User, Depends(logged_in)]) -> Response:
        require_role(user, (Role.REVIEWER, Role.ADMIN), "see the review queue")
        context = {"articles": web.queue(), "heading": "Review queue", "queue": True}
        return templates.TemplateResponse(request, "articles.html", context)

    # Registered before /articles/{article_id}, which would otherwise take "ID.md" for an id.
    @routes.get("/articles/{article_id}.md", response_class=Response)
    def article_export(request: Request, article_id: str, version: VersionQuery = None) -> Response:
        shown = page(request, article_id, version)
        return Response(
            article_markdown(shown.article, shown.shown),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{shown.article.id}.md"'},
        )

    @routes.get("/articles/{article_id}/print", response_class=HTMLResponse)
    def article_print(request: Request, article_id: str, version: VersionQuery = None) -> Response:
        return templates.TemplateResponse(request, "article_print.html", {"page": page(request, article_id, version)})

    @routes.get("/articles/{article_id}/audit", response_class=HTMLResponse)
    def article_audit(request: Request, article_id: str, _: Annotated[User, Depends(logged_in)]) -> Response:
        article, events = web.audit(article_id)
        context = {"article": article, "events": events}
        return templates.TemplateResponse(request, "audit.html", context)

    @routes.post("/articles/{article_id}/transitions")
    async def move_article(
        article_id: str,
        to: Annotated[ArticleState, Form()],
        version: Annotated[int, Form(ge=1, le=MAX_VERSION, description="The version the form was shown with")],
        actor: Annotated[User, Depends(form_actor)],
        comment: Annotated[str, Form(max_length=MAX_COMMENT_CHARS)] = "",
    ) -> Response:
        article = await web.move_article(article_id, actor, to, comment or None, version)
        return RedirectResponse(f"/articles/{article.id}", status_code=303)

    @routes.get("/articles/{article_id}", response_class=HTMLResponse, name="article_page")
    def article_page(request: Request, article_id: str, version: VersionQuery = None) -> Response:
        shown = page(request, article_id, version)
        context = {"page": shown, "move_labels": MOVE_LABELS, "share_url": share_url(shown.article.id)}
        return templates.TemplateResponse(request, "article.html", context)

    return routes


def share_url(article_id: str) -> str:
    """The article's address to share: on the configured `web.base_url`, never the request's Host header (which
    the sender of the request chooses); without one, the path alone."""
    path = f"/articles/{quote(article_id, safe='')}"
    base = settings().web.base_url.strip().rstrip("/")
    return base + path if base else path
