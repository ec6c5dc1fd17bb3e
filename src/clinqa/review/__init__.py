"""Editorial review: answers saved as articles, reviewed by the medical advisory board, re-reviewed when a cited
source passage changes. `ReviewService` is the facade; `workflow.TRANSITIONS` the one table of allowed moves."""

from clinqa.review.errors import (
    AccountError,
    AuthError,
    NotPermitted,
    RateLimited,
    ReviewStateError,
    StaleVersion,
)
from clinqa.review.models import Article, ArticleState, ArticleVersion, AuditEvent, PassageDiff, Role, User
from clinqa.review.service import ReviewService

__all__ = [
    "AccountError",
    "Article",
    "ArticleState",
    "ArticleVersion",
    "AuditEvent",
    "AuthError",
    "NotPermitted",
    "PassageDiff",
    "RateLimited",
    "ReviewService",
    "ReviewStateError",
    "Role",
    "StaleVersion",
    "User",
]
