"""Terminal rendering of articles, their source changes and audit log (the answer itself: answer/render.py)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from clinqa.review.diffs import word_diff
from clinqa.review.models import Article, ArticleState, AuditEvent, PassageDiff, User

STATE_LINE = {
    ArticleState.DRAFT: "draft",
    ArticleState.SUBMITTED: "submitted for review",
    ArticleState.UNDER_REVIEW: "under review",
    ArticleState.CHANGES_REQUESTED: "changes requested",
    ArticleState.APPROVED: "approved",
    ArticleState.REJECTED: "rejected",
    ArticleState.NEEDS_REREVIEW: "source updated — needs re-review",
}


WORD_STYLE = {"equal": "", "delete": "red strike", "insert": "bold green"}


def articles_table(articles: list[Article]) -> Table:
    table = Table("state", "version", "by", "title")
    table.add_column("id", overflow="fold")
    for a in articles:
        version = str(a.current_version) + (f" (v{a.approved_version} approved)" if a.approved_version else "")
        table.add_row(STATE_LINE[a.state], version, a.current_author, a.title, a.id)
    return table


def users_table(users: list[User]) -> Table:
    table = Table("username", "role", "created")
    for u in users:
        table.add_row(u.username, u.role.value, u.created_at.isoformat())
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
        table.add_row(e.at.isoformat(), e.actor, from_state, STATE_LINE[e.to_state], e.comment or "")
    return table
