"""Local accounts: argon2 password hashes, API tokens stored as their SHA-256 only, a login rate limiter.

Nothing here logs a password, a token or a hash; a failed login logs the username only when the account exists
(a mistyped password in the username field stays out of the log).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clinqa.review.errors import AccountError, AuthError, NotPermitted, RateLimited
from clinqa.review.models import Role, User
from clinqa.review.store import ReviewStore, now
from clinqa.review.workflow import SYSTEM

log = logging.getLogger(__name__)

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "clinqa_"


def normal_username(username: str) -> str:
    return username.strip().lower()


def token_digest(token: str) -> str:
    """What the store keeps of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LoginLimiter:
    """At most `max_failures` failed logins per username within `window_s` seconds; in memory, per process."""

    def __init__(
        self, max_failures: int = 5, window_s: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, username: str) -> None:
        """Raise `RateLimited` while the username has too many recent failures."""
        with self._lock:
            recent = self._recent(normal_username(username))
            if len(recent) >= self.max_failures:
                raise RateLimited(max(1, math.ceil(recent[0] + self.window_s - self.clock())))

    def failed(self, username: str) -> None:
        with self._lock:
            key = normal_username(username)
            self._recent(key).append(self.clock())
            if len(self._failures) > 10_000:  # bounded memory under a spray of made-up usernames
                for stale in [k for k in self._failures if not self._recent(k)]:
                    del self._failures[stale]

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(normal_username(username), None)

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= self.clock() - self.window_s:
            times.popleft()
        return times


class Accounts:
    """Users and API tokens on the review store."""

    def __init__(
        self, store: ReviewStore, hasher: PasswordHasher | None = None, limiter: LoginLimiter | None = None
    ) -> None:
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self.limiter = limiter or LoginLimiter()
        self._dummy_hash: str | None = None

    def add_user(self, username: str, password: str, role: Role, by: User | None = None) -> User:
        """Create an account. `by`, when given (the web), must be an admin; the CLI acts as the machine's owner."""
        if by is not None and by.role is not Role.ADMIN:
            raise NotPermitted(f"{by.username} ({by.role}) may not manage users; only admins may")
        name = normal_username(username)
        if not USERNAME.fullmatch(name) or name == SYSTEM:
            raise AccountError(
                f"username {username!r}: 2-32 characters, lower-case letters, digits, '.', '_' or '-', not 'system'"
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        user = User(id=uuid.uuid4().hex[:12], username=name, role=Role(role), created_at=now())
        if not self.store.insert_user(user, self.hasher.hash(password)):
            raise AccountError(f"username {name!r} is taken")
        log.info("user %s created with role %s", name, user.role.value)
        return user

    def set_role(self, username: str, role: Role, by: User | None = None) -> User:
        if by is not None and by.role is not Role.ADMIN:
            raise NotPermitted(f"{by.username} ({by.role}) may not manage users; only admins may")
        user = self.store.set_role(normal_username(username), Role(role))
        log.info("user %s now has role %s", user.username, user.role.value)
        return user

    def authenticate(self, username: str, password: str) -> User:
        """The user, or `AuthError` (the same for an unknown username and a wrong password), or `RateLimited`."""
        self.limiter.check(username)
        found = self.store.user_with_hash(normal_username(username))
        # An unknown username costs one hash too, so timing does not tell which usernames exist.
        stored = found[1] if found else self._dummy()
        if not self._verify(stored, password) or found is None:
            self.limiter.failed(username)
            log.warning("failed login for %s", f"user {found[0].username}" if found else "an unknown username")
            raise AuthError("wrong username or password")
        self.limiter.succeeded(username)
        user, stored = found
        if self.hasher.check_needs_rehash(stored):
            self.store.set_password_hash(user.id, self.hasher.hash(password))
        return user

    def create_token(self, user: User) -> str:
        """A new API token for `user`. It is returned once; the store keeps only its SHA-256."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.store.insert_token(token_digest(token), user.id, now())
        log.info("API token created for user %s", user.username)
        return token

    def user_for_token(self, token: str) -> User:
        user = self.store.user_for_token_digest(token_digest(token.strip()))
        if user is None:
            raise AuthError("unknown API token")
        return user

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
        return self._dummy_hash
