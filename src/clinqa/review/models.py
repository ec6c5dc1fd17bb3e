"""Editorial review types: users and their roles, articles (saved answers), versions, audit events, source diffs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from clinqa.types import Answer, Frozen


class Role(StrEnum):
    READER = "reader"  # reads approved articles
    AUTHOR = "author"  # saves answers as articles, revises and submits them
    REVIEWER = "reviewer"  # a member of the medical advisory board: reviews and approves (and may author)
    ADMIN = "admin"  # manages users; may do everything a reviewer may


class User(Frozen):
    """A local account. The password hash never leaves the store."""

    id: str
    username: str
    role: Role
    created_at: dt.datetime
    disabled_at: dt.datetime | None = Field(default=None, description="When the account was disabled; None if enabled")
    sessions_revoked_at: dt.datetime | None = Field(
        default=None, description="Login sessions begun before this are over (set on disabling and password resets)"
    )

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


class ApiToken(Frozen):
    """An API token as listed: its id, name and dates, never the token (the store keeps only its SHA-256)."""

    id: str
    username: str = Field(description="The owner: the token acts as this user")
    name: str = Field(default="", description="What the token is for, as given at creation")
    created_at: dt.datetime
    expires_at: dt.datetime = Field(description="Refused from then on (accounts.token_ttl_days after creation)")
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None

    def status(self, at: dt.datetime) -> str:
        """'revoked', 'expired' or 'active' at `at`."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if at >= self.expires_at else "active"


class AccountAction(StrEnum):
    USER_ADDED = "user_added"
    ROLE_CHANGED = "role_changed"
    DISABLED = "disabled"
    ENABLED = "enabled"
    PASSWORD_RESET = "password_reset"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"


class AccountEvent(Frozen):
    """One recorded change of an account or of its API tokens, in the same append-only audit log as articles."""

    username: str = Field(description="The account changed")
    actor: str = Field(description="The admin, the user themselves (their own token), or 'local-operator'")
    at: dt.datetime
    action: AccountAction
    detail: str | None = Field(default=None, description="e.g. 'author → reviewer', or the token's id and name")


class ArticleState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_REREVIEW = "needs_rereview"  # "source updated — needs re-review"


class PassageDiff(Frozen):
    """A cited passage that a re-ingest replaced: its old text and, where one matches, its replacement's."""

    document_id: str
    passage_id: str = Field(description="The id the article cites; no longer in the knowledge base")
    section: str = Field(default="", description="Section path of the old passage, ' > '-joined")
    old_text: str
    new_text: str | None = Field(default=None, description="None when no new passage of the same section matches")
    new_passage_id: str | None = None


# Far above any real article's count of versions, and within SQLite's 64-bit integers: a version number outside
# 1..MAX_VERSION names no version (the web and the CLI refuse it as a bad parameter).
MAX_VERSION = 1_000_000


class ArticleVersion(Frozen):
    """One saved answer of an article. Versions are never changed; an edit or regeneration adds one."""

    article_id: str
    number: int = Field(ge=1)
    answer: Answer
    created_by: str = Field(description="Username of the version's author")
    created_at: dt.datetime
    cited_passages: list[str] = Field(description="Passage ids the answer's sentences come from, in answer order")


class Article(Frozen):
    """A saved answer under editorial review. `current_version` is the one being worked on or reviewed;
    `approved_version` is the one readers see, and stays so until a newer version is approved."""

    id: str = Field(description="Stable URL-safe slug")
    title: str = Field(description="The question")
    state: ArticleState
    current_version: int = Field(ge=1)
    current_author: str = Field(description="Username of the current version's author (may not approve it)")
    approved_version: int | None = None
    author: str = Field(description="Username of the article's first author")
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    source_changes: list[PassageDiff] = Field(
        default_factory=list, description="Cited passages replaced since the approval; cleared by the next approval"
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def source_updated(self) -> bool:
        return bool(self.source_changes)


class AuditEvent(Frozen):
    """One recorded state change of an article. The audit log is append-only."""

    article_id: str
    actor: str = Field(description="Username, or 'system' for a change caused by a re-ingest")
    at: dt.datetime
    from_state: ArticleState | None = Field(description="None when the article was created")
    to_state: ArticleState
    comment: str | None = None


def cited_passages(answer: Answer) -> list[str]:
    """Passage ids the answer's sentences come from, each once, in answer order."""
    return list(dict.fromkeys(s.source.passage_id for s in answer.sentences()))
