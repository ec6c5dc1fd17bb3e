"""Named errors of the review workflow and of accounts; translated only at the edges (CLI, web)."""

from __future__ import annotations

from clinqa.errors import ClinqaError


class ReviewStateError(ClinqaError):
    """The article's state, or the user's role, does not allow this change."""


class NotPermitted(ReviewStateError):
    """The user's role does not allow this action (or the user wrote the version they would approve)."""


class StaleVersion(ReviewStateError):
    """The move names a version that is no longer the article's current one: the actor saw an older version."""


class AuthError(ClinqaError):
    """Wrong username, password or API token."""


class RateLimited(ClinqaError):
    """Too many failed logins for one username; further attempts are refused for a while."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return type(self), (self.retry_after_s,)


class AccountError(ClinqaError):
    """A user cannot be created: the username is taken or malformed, or the password is too short."""
