"""The editorial review facade: the one object the CLI and the web call for accounts and articles."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from functools import partial

from argon2 import PasswordHasher

from clinqa.errors import NotFound
from clinqa.review import workflow
from clinqa.review.accounts import Accounts, LoginLimiter
from clinqa.review.diffs import passage_diffs
from clinqa.review.errors import ReviewStateError
from clinqa.review.models import MAX_VERSION, Article, ArticleState, ArticleVersion, AuditEvent, Role, User
from clinqa.review.store import ReviewStore, now
from clinqa.store import Database
from clinqa.types import Answer, AnswerStatus, DocumentChange, Passage

# Article ids are slugs of the question, which may describe a patient: log lines name actors, states and
# documents, never an article's id, title or answer (the audit log in the database has the full record).
log = logging.getLogger(__name__)

QUEUE = (ArticleState.SUBMITTED, ArticleState.UNDER_REVIEW, ArticleState.NEEDS_REREVIEW)
SLUG_LENGTH = 60


class ReviewService:
    """Accounts, articles and their review on one knowledge base connection (the store's, either backend)."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None, limiter: LoginLimiter | None = None) -> None:
        self.store = ReviewStore(db)
        self.accounts = Accounts(self.store, hasher, limiter)

    # --- accounts -----------------------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: Role | str, by: User | None = None) -> User:
        """A new local account; `by` (when given) must be an admin."""
        return self.accounts.add_user(username, password, Role(role), by)

    def set_role(self, username: str, role: Role | str, by: User | None = None) -> User:
        return self.accounts.set_role(username, Role(role), by)

    def users(self) -> list[User]:
        return self.store.users()

    def user(self, username: str) -> User:
        return self.store.user(username.strip().lower())

    def authenticate(self, username: str, password: str) -> User:
        """The user; `AuthError` for a wrong username or password, `RateLimited` after too many failures."""
        return self.accounts.authenticate(username, password)

    def create_token(self, user: User) -> str:
        """A new API token, returned once (only its SHA-256 is stored)."""
        return self.accounts.create_token(user)

    def user_for_token(self, token: str) -> User:
        return self.accounts.user_for_token(token)

    # --- articles -----------------------------------------------------------------------------------------

    def save_article(self, answer: Answer, author: User) -> Article:
        """Save an answer as a new article: draft, version 1, titled with the question."""
        actor = self._current(author)
        if answer.status is not AnswerStatus.ANSWERED:
            raise ReviewStateError(
                f"only an answered question can be saved as an article (this one is {answer.status})"
            )
        title = answer.question.strip()
        article = self.store.create_article(
            slug(title), lambda article_id: workflow.new_article(article_id, title, actor, now()), answer
        )
        log.info("article saved by %s", actor.username)
        return article

    def new_version(
        self, article_id: str, answer: Answer, author: User, comment: str | None = None, *, version: int
    ) -> Article:
        """An edit or regeneration of `version` (which must be the current one): a new version in draft. The
        approved version stays visible until a newer one is approved."""
        if answer.status is not AnswerStatus.ANSWERED:
            raise ReviewStateError(f"only an answered question can be an article version (this one is {answer.status})")
        return self._move(article_id, author, ArticleState.DRAFT, comment, version, answer)

    # Each move names the version the actor saw (`version`); a stale one is refused with `StaleVersion`.

    def submit(self, article_id: str, actor: User, comment: str | None = None, *, version: int) -> Article:
        return self._move(article_id, actor, ArticleState.SUBMITTED, comment, version)

    def start_review(self, article_id: str, actor: User, comment: str | None = None, *, version: int) -> Article:
        return self._move(article_id, actor, ArticleState.UNDER_REVIEW, comment, version)

    def approve(self, article_id: str, actor: User, comment: str | None = None, *, version: int) -> Article:
        return self._move(article_id, actor, ArticleState.APPROVED, comment, version)

    def request_changes(self, article_id: str, actor: User, comment: str | None = None, *, version: int) -> Article:
        return self._move(article_id, actor, ArticleState.CHANGES_REQUESTED, comment, version)

    def reject(self, article_id: str, actor: User, comment: str | None = None, *, version: int) -> Article:
        return self._move(article_id, actor, ArticleState.REJECTED, comment, version)

    def check_version(self, article_id: str, version: int) -> None:
        """`StaleVersion` unless `version` is the article's current one (checked again when the move is written)."""
        workflow.check_version(self.store.article(article_id), version)

    def queue(self) -> list[Article]:
        """The reviewers' queue: submitted, under review and needs re-review, oldest change first."""
        return self.store.articles(QUEUE)

    def articles(self) -> list[Article]:
        return self.store.articles()

    def article(self, article_id: str) -> Article:
        return self.store.article(article_id)

    def version(self, article_id: str, number: int | None = None) -> ArticleVersion:
        """A version of the article; without `number`, the current one (the one being worked on or reviewed)."""
        if number is not None and not 1 <= number <= MAX_VERSION:
            raise NotFound(f"article {article_id!r} has no version {number}")
        return self.store.version(article_id, number or self.store.article(article_id).current_version)

    def versions(self, article_id: str) -> list[ArticleVersion]:
        return self.store.versions(article_id)

    def visible_version(self, article_id: str) -> ArticleVersion | None:
        """What readers see: the approved version, until a newer one is approved; None before any approval."""
        article = self.store.article(article_id)
        return self.store.version(article_id, article.approved_version) if article.approved_version else None

    def audit(self, article_id: str) -> list[AuditEvent]:
        self.store.article(article_id)  # NotFound for an unknown article, not an empty log
        return self.store.audit(article_id)

    # --- re-review on source change -----------------------------------------------------------------------

    def on_document_changed(
        self, change: DocumentChange, old_passages: Mapping[str, Passage], new_passages: Mapping[str, Passage]
    ) -> list[Article]:
        """Send every article whose visible version cites a passage this change removed back to the reviewers
        (`needs_rereview`, actor "system"), with a diff per passage. `old_passages` are the removed passages as
        they were; `new_passages` the ones the change added. Returns the articles flagged."""
        flagged = []
        for article_id, passage_ids in self.store.visible_citing(change.passages_removed).items():
            article = self.store.article(article_id)
            assert article.approved_version is not None  # visible_citing joins on it
            visible = self.store.version(article_id, article.approved_version)
            diffs = passage_diffs(passage_ids, change.document_id, old_passages, new_passages, visible.answer)
            comment = f"source updated: {len(diffs)} cited passage(s) of {change.document_id} changed"
            flagged.append(
                self.store.change_article(
                    article_id, workflow.SYSTEM, partial(workflow.source_updated, diffs=diffs), comment
                )
            )
            log.info("an approved article needs re-review: %s", comment)
        return flagged

    def _move(
        self,
        article_id: str,
        actor: User,
        to: ArticleState,
        comment: str | None,
        version: int,
        answer: Answer | None = None,
    ) -> Article:
        user = self._current(actor)
        comment = comment.strip() if comment and comment.strip() else None
        before_state = self.store.article(article_id).state.value
        # The move is checked inside the write's transaction, on the article as stored: a version added since
        # the actor looked makes it stale there, not just here.
        move = partial(workflow.transition, actor=user, to=to, comment=comment, version=version)
        after = self.store.change_article(article_id, user.username, move, comment, answer)
        log.info("article moved from %s to %s by %s", before_state, to.value, user.username)
        return after

    def _current(self, actor: User) -> User:
        """The actor as stored now: a role changed since login (or a token was issued) counts."""
        return self.store.user(actor.username)


def slug(title: str) -> str:
    """A URL-safe slug of the question: lower-case ASCII words joined by '-', at most SLUG_LENGTH characters."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+", plain)
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > SLUG_LENGTH:
            break
        out = f"{out}-{word}" if out else word
    return out or (words[0][:SLUG_LENGTH] if words else "article")
