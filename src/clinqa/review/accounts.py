"""Local accounts: argon2 password hashes, API tokens stored as their SHA-256 only (with an id, a name and an
expiry), disabling, password resets, a login rate limiter kept in the database.

Nothing here logs a password, a token or a hash; a failed login logs the username only when the account exists
(a mistyped password in the username field stays out of the log).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
import secrets
import time
import uuid
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clinqa.review.errors import AccountError, AuthError, NotPermitted, RateLimited
from clinqa.review.models import AccountEvent, ApiToken, Role, User
from clinqa.review.store import ReviewStore
from clinqa.review.workflow import SYSTEM
from clinqa.settings import settings
from clinqa.store import Database

log = logging.getLogger(__name__)

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
TOKEN_PREFIX = "clinqa_"
MAX_TOKEN_NAME = 64
LOCAL_OPERATOR = "local-operator"  # the actor of account changes made at the server's own shell
RESERVED = frozenset({SYSTEM, LOCAL_OPERATOR})  # actors that are not accounts
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)  # at most one write per token per minute to record its use


def normal_username(username: str) -> str:
    return username.strip().lower()


def token_digest(token: str) -> str:
    """What the store keeps of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def utc_clock() -> dt.datetime:
    """Now, in UTC, to the microsecond (a session begun in the same second as a password reset is told apart)."""
    return dt.datetime.now(dt.UTC)


class LoginLimiter:
    """At most `max_failures` failed logins per username within `window_s` seconds. The failures are kept in the
    database (table login_failures), so every worker process counts the same ones and a restart forgets none."""

    def __init__(
        self, db: Database, max_failures: int = 5, window_s: float = 300.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock

    def check(self, username: str) -> None:
        """Raise `RateLimited` while the username has too many recent failures."""
        since = self.clock() - self.window_s
        count, oldest = self.db.execute(
            "SELECT COUNT(*), MIN(at) FROM login_failures WHERE username=? AND at > ?",
            (normal_username(username), since),
        ).fetchone()
        if count >= self.max_failures:
            raise RateLimited(max(1, math.ceil(oldest + self.window_s - self.clock())))

    def failed(self, username: str) -> None:
        now = self.clock()
        with self.db.transaction():
            # Failures older than the window count for nothing: dropped, so a spray of made-up usernames stays small.
            self.db.execute("DELETE FROM login_failures WHERE at <= ?", (now - self.window_s,))
            self.db.execute("INSERT INTO login_failures (username, at) VALUES (?, ?)", (normal_username(username), now))

    def succeeded(self, username: str) -> None:
        self.db.execute("DELETE FROM login_failures WHERE username=?", (normal_username(username),))


class Accounts:
    """Users and API tokens on the review store. Changes to accounts are made by an admin (`by`, as stored now)
    or, with `by=None`, by the local operator: someone at the server's own shell, who could edit the database file
    anyway. Each change is one row of the append-only audit log, with who made it."""

    def __init__(
        self,
        store: ReviewStore,
        hasher: PasswordHasher | None = None,
        limiter: LoginLimiter | None = None,
        clock: Callable[[], dt.datetime] = utc_clock,
    ) -> None:
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self.limiter = limiter or LoginLimiter(store.db)
        self.clock = clock
        self._dummy_hash: str | None = None

    # --- users --------------------------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: Role, by: User | None = None) -> User:
        """Create an account (by an admin, or the local operator)."""
        actor = self._manager(by)
        name = normal_username(username)
        if not USERNAME.fullmatch(name) or name in RESERVED:
            raise AccountError(
                f"username {username!r}: 2-32 characters, lower-case letters, digits, '.', '_' or '-',"
                f" not {' or '.join(repr(r) for r in sorted(RESERVED))}"
            )
        self._check_password(password)
        user = User(
            id=uuid.uuid4().hex[:12], username=name, role=Role(role), created_at=self.clock().replace(microsecond=0)
        )
        if not self.store.insert_user(user, self.hasher.hash(password), actor):
            raise AccountError(f"username {name!r} is taken")
        log.info("user %s created with role %s by %s", name, user.role.value, actor)
        return user

    def set_role(self, username: str, role: Role, by: User | None = None) -> User:
        """A new role; it counts at once (the stored role is read on every action)."""
        actor = self._manager(by)
        user = self.store.set_role(normal_username(username), Role(role), actor, self.clock())
        log.info("user %s now has role %s (by %s)", user.username, user.role.value, actor)
        return user

    def disable(self, username: str, by: User | None = None) -> User:
        """The user can no longer log in; their sessions and API tokens stop working at once."""
        actor = self._manager(by)
        name = normal_username(username)
        if name == actor:
            raise AccountError("an admin may not disable their own account")
        user = self.store.set_disabled(name, True, actor, self.clock())
        log.info("user %s disabled by %s", user.username, actor)
        return user

    def enable(self, username: str, by: User | None = None) -> User:
        """The user may log in again; their unexpired, unrevoked tokens work again, their old sessions do not."""
        actor = self._manager(by)
        user = self.store.set_disabled(normal_username(username), False, actor, self.clock())
        log.info("user %s enabled by %s", user.username, actor)
        return user

    def reset_password(self, username: str, password: str, by: User | None = None) -> User:
        """A new password; the user's login sessions end (their API tokens stay: revoke them separately)."""
        actor = self._manager(by)
        self._check_password(password)
        user = self.store.reset_password(normal_username(username), self.hasher.hash(password), actor, self.clock())
        log.info("password of user %s reset by %s", user.username, actor)
        return user

    def events(self, username: str | None = None) -> list[AccountEvent]:
        """The audit log of account changes, oldest first: of one user, or of everyone."""
        name = normal_username(username) if username else None
        if name:
            self.store.user(name)  # NotFound for an unknown user, not an empty log
        return self.store.account_events(name)

    def authenticate(self, username: str, password: str) -> User:
        """The user, or `AuthError` (the same for an unknown username and a wrong password; a disabled account is
        named only to someone who gave its password), or `RateLimited`."""
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
        if user.disabled:
            log.warning("login refused: user %s is disabled", user.username)
            raise AuthError("this account is disabled; ask an admin")
        if self.hasher.check_needs_rehash(stored):
            self.store.set_password_hash(user.id, self.hasher.hash(password))
        return user

    # --- API tokens ---------------------------------------------------------------------------------------

    def issue_token(self, user: User, name: str = "") -> tuple[ApiToken, str]:
        """A new API token for `user`: what listings show of it, and the token itself, returned this once (the
        store keeps only its SHA-256). It expires `accounts.token_ttl_days` from now."""
        owner = self.store.user(user.username)
        if owner.disabled:
            raise AccountError(f"{owner.username} is disabled")
        label = " ".join(name.split())
        if len(label) > MAX_TOKEN_NAME:
            raise AccountError(f"a token name has at most {MAX_TOKEN_NAME} characters")
        created = self.clock().replace(microsecond=0)
        info = ApiToken(
            id=uuid.uuid4().hex[:12],
            username=owner.username,
            name=label,
            created_at=created,
            expires_at=created + dt.timedelta(days=settings().accounts.token_ttl_days),
        )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.store.insert_token(info, token_digest(token), owner.username)
        log.info("API token %s created for user %s", info.id, owner.username)
        return info, token

    def create_token(self, user: User, name: str = "") -> str:
        """A new API token for `user`, returned once."""
        return self.issue_token(user, name)[1]

    def tokens(self, username: str) -> list[ApiToken]:
        return self.store.tokens(normal_username(username))

    def revoke_token(self, token_id: str, by: User | None = None) -> ApiToken:
        """Refuse the token from now on. Its owner may revoke it; so may an admin or the local operator."""
        token = self.store.token(token_id.strip())
        owner = by is not None and normal_username(by.username) == token.username
        actor = token.username if owner else self._manager(by)
        revoked = self.store.revoke_token(token.id, actor, self.clock())
        log.info("API token %s of user %s revoked by %s", token.id, token.username, actor)
        return revoked

    def user_for_token(self, token: str) -> User:
        """The token's owner. An expired or revoked token, or one whose owner is disabled, is refused like an
        unknown one."""
        found = self.store.token_for_digest(token_digest(token.strip()))
        at = self.clock()
        if found is None or found[0].disabled or found[1].status(at) != "active":
            raise AuthError("unknown, expired or revoked API token")
        user, info = found
        if info.last_used_at is None or at - info.last_used_at >= LAST_USED_RESOLUTION:
            self.store.token_used(info.id, at)
        return user

    # ------------------------------------------------------------------------------------------------------

    def _manager(self, by: User | None) -> str:
        """Who makes an account change: the local operator (`by` None), or `by` if an enabled admin now."""
        if by is None:
            return LOCAL_OPERATOR
        current = self.store.user(normal_username(by.username))
        if current.role is not Role.ADMIN or current.disabled:
            state = "disabled" if current.disabled else current.role.value
            raise NotPermitted(f"{current.username} ({state}) may not manage users; only admins may")
        return current.username

    def _check_password(self, password: str) -> None:
        shortest = settings().accounts.min_password_length
        if len(password) < shortest:
            raise AccountError(f"the password must have at least {shortest} characters")

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
        return self._dummy_hash


def session_current(user: User, started_at: dt.datetime) -> bool:
    """Whether a login session of `user` begun at `started_at` still holds: the account is enabled, and was
    neither disabled nor had its password reset since."""
    revoked = user.sessions_revoked_at
    return not user.disabled and (revoked is None or started_at >= revoked)
