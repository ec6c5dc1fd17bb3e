"""Rendering of articles for the terminal and as Markdown: their review status, source changes and audit log
(the answer itself: answer/render.py). Titles, usernames and comments go into tables as `Text`, never as rich markup."""

from __future__ import annotations

import datetime as dt

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from clinqa.answer.render import to_markdown
from clinqa.review.diffs import word_diff
from clinqa.review.models import (
    AccountAction,
    AccountEvent,
    ApiToken,
    Article,
    ArticleState,
    ArticleVersion,
    AuditEvent,
    PassageDiff,
    User,
)

STATE_LINE = {
    ArticleState.DRAFT: "draft",
    ArticleState.SUBMITTED: "submitted for review",
    ArticleState.UNDER_REVIEW: "under review",
    ArticleState.CHANGES_REQUESTED: "changes requested",
    ArticleState.APPROVED: "approved",
    ArticleState.REJECTED: "rejected",
    ArticleState.NEEDS_REREVIEW: "source updated — needs re-review",
}

ACCOUNT_ACTION = {
    AccountAction.USER_ADDED: "added",
    AccountAction.ROLE_CHANGED: "role changed",
    AccountAction.DISABLED: "disabled",
    AccountAction.ENABLED: "enabled",
    AccountAction.PASSWORD_RESET: "password reset",
    AccountAction.TOKEN_CREATED: "API token created",
    AccountAction.TOKEN_REVOKED: "API token revoked",
}

PENDING = "Pending human review — educational use only"
SOURCE_UPDATED = "Source updated — needs re-review"

WORD_STYLE = {"equal": "", "delete": "red strike", "insert": "bold green"}


def articles_table(articles: list[Article]) -> Table:
    table = Table("state", "version", "by", "title")
    table.add_column("id", overflow="fold")
    for a in articles:
        version = str(a.current_version) + (f" (v{a.approved_version} approved)" if a.approved_version else "")
        table.add_row(STATE_LINE[a.state], version, Text(a.current_author), Text(a.title), Text(a.id))
    return table


def users_table(users: list[User]) -> Table:
    table = Table("username", "role", "created", "status")
    for u in users:
        status = f"disabled since {u.disabled_at.isoformat()}" if u.disabled_at else "active"
        table.add_row(Text(u.username), u.role.value, u.created_at.isoformat(), status)
    return table


def tokens_table(tokens: list[ApiToken], at: dt.datetime) -> Table:
    """A user's API tokens by id and name (the token itself is never stored), with their status at `at`."""
    table = Table("id", "name", "created", "expires", "last used", "status")
    for t in tokens:
        last_used = t.last_used_at.isoformat() if t.last_used_at else "never"
        status = t.status(at) + (f" {t.revoked_at.isoformat()}" if t.revoked_at else "")
        table.add_row(t.id, Text(t.name), t.created_at.isoformat(), t.expires_at.isoformat(), last_used, status)
    return table


def account_events_table(events: list[AccountEvent]) -> Table:
    table = Table("when", "who", "account", "change", "detail", title="Account audit log")
    for e in events:
        table.add_row(e.at.isoformat(), Text(e.actor), Text(e.username), ACCOUNT_ACTION[e.action], Text(e.detail or ""))
    return table


def article_header(article: Article) -> RenderableType:
    lines = [
        Text.assemble((article.title, "bold"), f"  ({article.id})"),
        Text(f"{STATE_LINE[article.state]}; version {article.current_version} by {article.current_author}"),
    ]
    if article.approved_version and article.approved_at:
        lines.append(
            Text(
                f"readers see version {article.approved_version}, approved by {article.approved_by}"
                f" on {article.approved_at.isoformat()}"
            )
        )
    else:
        lines.append(Text("not yet approved: readers see nothing"))
    return Group(*lines)


def source_changes(diffs: list[PassageDiff]) -> RenderableType:
    """The cited passages a re-ingest replaced, word by word: removed words struck in red, new ones in green."""
    parts: list[RenderableType] = [Text(f"Source changes ({len(diffs)})", style="bold yellow")]
    for d in diffs:
        parts.append(Text(f"{d.document_id} › {d.section or '(no section)'}  [{d.passage_id}]", style="dim"))
        if d.new_text is None:
            parts.append(Text.assemble(("- ", "red"), (d.old_text, "red")))
            parts.append(Text("+ (removed: no passage of this section replaces it)", style="green"))
            continue
        line = Text("~ ")
        for op, words in word_diff(d.old_text, d.new_text):
            line.append(words, style=WORD_STYLE[op])
            line.append(" ")
        parts.append(line)
    return Group(*parts)


def audit_table(events: list[AuditEvent]) -> Table:
    table = Table("when", "who", "from", "to", "comment", title="Audit log")
    for e in events:
        from_state = STATE_LINE[e.from_state] if e.from_state else "(created)"
        table.add_row(e.at.isoformat(), Text(e.actor), from_state, STATE_LINE[e.to_state], Text(e.comment or ""))
    return table


def review_status(article: Article, version: int) -> str:
    """What a reader is told about a version: who approved it and when, or that it is pending review."""
    if version == article.approved_version and article.approved_by and article.approved_at:
        return f"Approved by {article.approved_by} on {article.approved_at.date().isoformat()}"
    return PENDING


def article_markdown(article: Article, version: ArticleVersion) -> str:
    """The article as Markdown: the question, its review status, then the answer as `clinqa ask` writes it."""
    answer = to_markdown(version.answer).split("\n", 1)[1]  # the answer's own title line is the question again
    status = (
        f"**{review_status(article, version.number)}** · {STATE_LINE[article.state]} · version {version.number}"
        f" · last updated {article.updated_at.date().isoformat()}"
    )
    lines = [f"# {article.title}", "", status, ""]
    if article.source_updated:
        changed = ", ".join(sorted({d.document_id for d in article.source_changes}))
        lines += [f"> ⚠ {SOURCE_UPDATED}: cited passages of {changed} changed since the approval.", ""]
    return "\n".join(lines) + answer
