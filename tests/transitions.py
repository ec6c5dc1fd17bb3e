"""The review moves each role may make, written out independently of workflow.TRANSITIONS (shared by the
review tests and the web tests)."""

from __future__ import annotations

from clinqa.review.models import ArticleState as S

AUTHORING = {
    (None, S.DRAFT),
    (S.DRAFT, S.DRAFT),
    (S.CHANGES_REQUESTED, S.DRAFT),
    (S.APPROVED, S.DRAFT),
    (S.REJECTED, S.DRAFT),
    (S.NEEDS_REREVIEW, S.DRAFT),
    (S.DRAFT, S.SUBMITTED),
    (S.CHANGES_REQUESTED, S.SUBMITTED),
}
REVIEWING = {
    (S.SUBMITTED, S.UNDER_REVIEW),
    (S.NEEDS_REREVIEW, S.UNDER_REVIEW),
    (S.UNDER_REVIEW, S.APPROVED),
    (S.UNDER_REVIEW, S.CHANGES_REQUESTED),
    (S.UNDER_REVIEW, S.REJECTED),
}
# Every move a user may make (the first draft is creation, not a move).
ALL_USER_MOVES = (AUTHORING - {(None, S.DRAFT)}) | REVIEWING
