"""The one table of allowed article state changes, per role, and the pure functions that apply it.

A change to `draft` is a new version (an edit or a regeneration): the approved version stays visible until a newer
one is approved. `needs_rereview` is reached only through the system, when a re-ingest replaces a cited passage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Literal

from clinqa.packages import utc_now
from clinqa.review.errors import NotPermitted, ReviewStateError, StaleVersion
from clinqa.review.models import Article, ArticleState, PassageDiff, Role, User

S = ArticleState
SYSTEM: Literal["system"] = "system"  # the actor of changes caused by a re-ingest
Actor = Role | Literal["system"]
Move = tuple[ArticleState | None, ArticleState]  # (from, to); from None = the article is created

_AUTHORING: frozenset[Move] = frozenset(
    {
        (None, S.DRAFT),  # save an answer as a new article (version 1)
        (S.DRAFT, S.DRAFT),  # a new version of a draft
        (S.CHANGES_REQUESTED, S.DRAFT),  # revise after review
        (S.APPROVED, S.DRAFT),  # edit or regenerate an approved article
        (S.REJECTED, S.DRAFT),
        (S.NEEDS_REREVIEW, S.DRAFT),  # regenerate from the updated source
        (S.DRAFT, S.SUBMITTED),
        (S.CHANGES_REQUESTED, S.SUBMITTED),
    }
)
_REVIEWING: frozenset[Move] = frozenset(
    {
        (S.SUBMITTED, S.UNDER_REVIEW),
        (S.NEEDS_REREVIEW, S.UNDER_REVIEW),
        (S.UNDER_REVIEW, S.APPROVED),
        (S.UNDER_REVIEW, S.CHANGES_REQUESTED),
        (S.UNDER_REVIEW, S.REJECTED),
    }
)

# The one place that says who may move an article from which state to which.
TRANSITIONS: Mapping[Actor, frozenset[Move]] = {
    Role.READER: frozenset(),
    Role.AUTHOR: _AUTHORING,
    Role.REVIEWER: _AUTHORING | _REVIEWING,  # board members may write articles too (never approve their own)
    Role.ADMIN: _AUTHORING | _REVIEWING,
    SYSTEM: frozenset((state, S.NEEDS_REREVIEW) for state in S),
}

COMMENT_REQUIRED = frozenset({S.CHANGES_REQUESTED, S.REJECTED})  # the author must be told why


def allowed_targets(actor: Actor, state: ArticleState | None) -> list[ArticleState]:
    """The states `actor` may move an article in `state` to, in declaration order."""
    return [to for to in S if (state, to) in TRANSITIONS[actor]]


def permitted_moves(article: Article, actor: User) -> list[ArticleState]:
    """The states `actor` may move `article` to now: the table's moves for their role, less approving a version
    they wrote."""
    return [
        to
        for to in allowed_targets(actor.role, article.state)
        if not (to is S.APPROVED and actor.username == article.current_author)
    ]


def check_move(actor: Actor, who: str, state: ArticleState | None, to: ArticleState, article_id: str = "") -> None:
    """Raise unless the table lets `actor` make this move: `NotPermitted` when another role could, else
    `ReviewStateError` (no role may)."""
    if (state, to) in TRANSITIONS[actor]:
        return
    what = f"article {article_id} " if article_id else "an article "
    if state is None:
        raise NotPermitted(f"{who} ({actor}) may not save articles; authors, reviewers and admins may")
    roles = [f"{r}s" for r in Role if (state, to) in TRANSITIONS[r]]
    if roles:
        raise NotPermitted(
            f"{who} ({actor}) may not move {what}from {_words(state)} to {_words(to)}; only {' or '.join(roles)} may"
        )
    targets = ", ".join(_words(t) for t in allowed_targets(actor, state)) or "nothing"
    raise ReviewStateError(f"{what}is {_words(state)}; it cannot go to {_words(to)} (from {_words(state)}: {targets})")


def check_version(article: Article, version: int) -> None:
    """Raise `StaleVersion` unless `version` is the article's current version: a decision taken on what the actor
    saw never lands on a version they did not see (a regeneration or an edit since)."""
    if version != article.current_version:
        raise StaleVersion(
            f"article {article.id} is at version {article.current_version} (by {article.current_author}) and"
            f" {_words(article.state)}; this move was made on version {version}: reload the article and look again"
        )


def new_article(article_id: str, title: str, actor: User, at: dt.datetime) -> Article:
    """A new article in draft with version 1, written by `actor`."""
    check_move(actor.role, actor.username, None, S.DRAFT, article_id)
    return Article(
        id=article_id,
        title=title,
        state=S.DRAFT,
        current_version=1,
        current_author=actor.username,
        author=actor.username,
        created_at=at,
        updated_at=at,
    )


def transition(
    article: Article,
    actor: User,
    to: ArticleState,
    comment: str | None = None,
    at: dt.datetime | None = None,
    *,
    version: int,
) -> Article:
    """The article after `actor` moves it to `to`, acting on `version` (the version they saw, which must still be
    the current one), or a `ReviewStateError` (nothing changes)."""
    check_move(actor.role, actor.username, article.state, to, article.id)
    check_version(article, version)
    if to is S.APPROVED and actor.username == article.current_author:
        raise NotPermitted(
            f"{actor.username} wrote version {article.current_version} of article {article.id}"
            " and may not approve it; another reviewer must"
        )
    if to in COMMENT_REQUIRED and not (comment or "").strip():
        raise ReviewStateError(f"moving article {article.id} to {_words(to)} needs a comment saying why")
    when = at or utc_now()
    update: dict[str, object] = {"state": to, "updated_at": when}
    if to is S.DRAFT:
        update |= {"current_version": article.current_version + 1, "current_author": actor.username}
    elif to is S.APPROVED:
        update |= {
            "approved_version": article.current_version,
            "approved_by": actor.username,
            "approved_at": when,
            "source_changes": [],
        }
    elif to is S.REJECTED and article.approved_version == article.current_version:
        # A re-review that rejects the approved version itself withdraws it: readers no longer see it.
        update |= {"approved_version": None, "approved_by": None, "approved_at": None}
    return article.model_copy(update=update)


def source_updated(article: Article, diffs: Iterable[PassageDiff], at: dt.datetime | None = None) -> Article:
    """The article after a re-ingest replaced passages its visible version cites: back to the reviewers, with the
    diffs added to those already recorded (one per passage)."""
    check_move(SYSTEM, SYSTEM, article.state, S.NEEDS_REREVIEW, article.id)
    known = {d.passage_id for d in article.source_changes}
    added = [d for d in diffs if d.passage_id not in known]
    return article.model_copy(
        update={
            "state": S.NEEDS_REREVIEW,
            "source_changes": [*article.source_changes, *added],
            "updated_at": at or utc_now(),
        }
    )


def _words(state: ArticleState) -> str:
    return state.value.replace("_", " ")
