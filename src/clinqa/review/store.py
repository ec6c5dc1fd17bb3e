"""Persistence of accounts and articles, on the knowledge base's own connection (SQLite or PostgreSQL).

Every state change is written with its audit row in one transaction, and the change is computed inside it from
the stored article: a refused change raises before anything is written. The audit log is only ever inserted into
(triggers of the first migration refuse UPDATE and DELETE, on both backends).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable

from clinqa.errors import NotFound
from clinqa.review.models import (
    AccountAction,
    AccountEvent,
    ApiToken,
    Article,
    ArticleState,
    ArticleVersion,
    AuditEvent,
    PassageDiff,
    Role,
    User,
    cited_passages,
)
from clinqa.store import Database, IntegrityViolation
from clinqa.types import Answer

_ARTICLE_SELECT = (
    "SELECT id, title, state, current_version, current_author, approved_version, author, approved_by, approved_at,"
    " source_changes, created_at, updated_at FROM articles"
)
_USER_COLUMNS = "u.id, u.username, u.role, u.created_at, u.disabled_at, u.sessions_revoked_at"
_USER_WIDTH = _USER_COLUMNS.count(",") + 1  # the password hash follows them in _USER_SELECT
_USER_SELECT = f"SELECT {_USER_COLUMNS}, u.password_hash FROM users u"
_TOKEN_COLUMNS = "t.id, u.username, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at"
_TOKEN_FROM = "FROM api_tokens t JOIN users u ON u.id = t.user_id"
_TOKEN_SELECT = f"SELECT {_TOKEN_COLUMNS} {_TOKEN_FROM}"


class ReviewStore:
    def __init__(self, db: Database) -> None:
        self.db = db  # the knowledge base's connection (autocommit; transactions are explicit)

    # --- accounts: each change is written with its audit row (subject_kind 'user') in one transaction ---------

    def insert_user(self, user: User, password_hash: str, actor: str) -> bool:
        """False when the username is taken."""
        try:
            with self.db.transaction():
                self.db.execute(
                    "INSERT INTO users (id, username, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                    (user.id, user.username, user.role.value, password_hash, user.created_at.isoformat()),
                )
                self._account_event(
                    user.username, actor, AccountAction.USER_ADDED, f"role {user.role}", user.created_at
                )
        except IntegrityViolation:
            return False
        return True

    def user_with_hash(self, username: str) -> tuple[User, str] | None:
        row = self.db.execute(f"{_USER_SELECT} WHERE u.username=?", (username,)).fetchone()
        return (_user(row), row[_USER_WIDTH]) if row else None

    def user(self, username: str) -> User:
        found = self.user_with_hash(username)
        if found is None:
            raise NotFound(f"no user {username!r}")
        return found[0]

    def users(self) -> list[User]:
        return [_user(r) for r in self.db.execute(f"{_USER_SELECT} ORDER BY u.username")]

    def set_role(self, username: str, role: Role, actor: str, at: dt.datetime) -> User:
        with self.db.transaction():
            before = self.user(username)
            if before.role is not role:
                self.db.execute("UPDATE users SET role=? WHERE id=?", (role.value, before.id))
                self._account_event(username, actor, AccountAction.ROLE_CHANGED, f"{before.role} → {role}", at)
        return self.user(username)

    def set_disabled(self, username: str, disabled: bool, actor: str, at: dt.datetime) -> User:
        """Disabling also ends the user's login sessions; enabling does not bring them back."""
        with self.db.transaction():
            before = self.user(username)
            if before.disabled != disabled:
                if disabled:
                    self.db.execute(
                        "UPDATE users SET disabled_at=?, sessions_revoked_at=? WHERE id=?",
                        (_second(at).isoformat(), at.isoformat(), before.id),
                    )
                else:
                    self.db.execute("UPDATE users SET disabled_at=NULL WHERE id=?", (before.id,))
                action = AccountAction.DISABLED if disabled else AccountAction.ENABLED
                self._account_event(username, actor, action, None, at)
        return self.user(username)

    def reset_password(self, username: str, password_hash: str, actor: str, at: dt.datetime) -> User:
        """A new password hash; the user's login sessions end."""
        with self.db.transaction():
            user = self.user(username)
            self.db.execute(
                "UPDATE users SET password_hash=?, sessions_revoked_at=? WHERE id=?",
                (password_hash, at.isoformat(), user.id),
            )
            self._account_event(username, actor, AccountAction.PASSWORD_RESET, None, at)
        return self.user(username)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """The same password hashed with newer parameters: not an account change."""
        self.db.execute("UPDATE users SET password_hash=? WHERE id=?", (password_hash, user_id))

    def insert_token(self, token: ApiToken, digest: str, actor: str) -> None:
        created, expires = token.created_at.isoformat(), token.expires_at.isoformat()
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO api_tokens (token_sha256, user_id, created_at, id, name, expires_at)"
                " SELECT ?, id, ?, ?, ?, ? FROM users WHERE username=?",
                (digest, created, token.id, token.name, expires, token.username),
            )
            detail = f"{_token_label(token)}, expires {token.expires_at.date().isoformat()}"
            self._account_event(token.username, actor, AccountAction.TOKEN_CREATED, detail, token.created_at)

    def token_for_digest(self, digest: str) -> tuple[User, ApiToken] | None:
        """The token with this SHA-256 and its owner, whatever the token's state."""
        row = self.db.execute(
            f"SELECT {_USER_COLUMNS}, {_TOKEN_COLUMNS} {_TOKEN_FROM} WHERE t.token_sha256=?", (digest,)
        ).fetchone()
        return (_user(row), _token(row[_USER_WIDTH:])) if row else None

    def token(self, token_id: str) -> ApiToken:
        row = self.db.execute(f"{_TOKEN_SELECT} WHERE t.id=?", (token_id,)).fetchone()
        if row is None:
            raise NotFound(f"no API token {token_id!r}")
        return _token(row)

    def tokens(self, username: str) -> list[ApiToken]:
        """The user's tokens, oldest first; `NotFound` for an unknown user."""
        self.user(username)
        rows = self.db.execute(f"{_TOKEN_SELECT} WHERE u.username=? ORDER BY t.created_at, t.id", (username,))
        return [_token(r) for r in rows]

    def revoke_token(self, token_id: str, actor: str, at: dt.datetime) -> ApiToken:
        with self.db.transaction():
            token = self.token(token_id)
            if token.revoked_at is None:
                self.db.execute("UPDATE api_tokens SET revoked_at=? WHERE id=?", (_second(at).isoformat(), token_id))
                self._account_event(token.username, actor, AccountAction.TOKEN_REVOKED, _token_label(token), at)
        return self.token(token_id)

    def token_used(self, token_id: str, at: dt.datetime) -> None:
        self.db.execute("UPDATE api_tokens SET last_used_at=? WHERE id=?", (_second(at).isoformat(), token_id))

    def account_events(self, username: str | None = None) -> list[AccountEvent]:
        """Changes of accounts and their tokens, oldest first: of one user, or of everyone."""
        where, args = (" AND article_id=?", (username,)) if username else ("", ())
        rows = self.db.execute(
            "SELECT article_id, actor, at, to_state, comment FROM audit_log"
            f" WHERE subject_kind='user'{where} ORDER BY id",
            args,
        )
        return [
            AccountEvent(
                username=r[0], actor=r[1], at=dt.datetime.fromisoformat(r[2]), action=AccountAction(r[3]), detail=r[4]
            )
            for r in rows
        ]

    def _account_event(
        self, username: str, actor: str, action: AccountAction, detail: str | None, at: dt.datetime
    ) -> None:
        self.db.execute(
            "INSERT INTO audit_log (subject_kind, article_id, actor, at, from_state, to_state, comment)"
            " VALUES ('user', ?, ?, ?, NULL, ?, ?)",
            (username, actor, _second(at).isoformat(), action.value, detail),
        )

    # --- articles -----------------------------------------------------------------------------------------

    def create_article(self, slug: str, build: Callable[[str], Article], answer: Answer) -> Article:
        """Insert the article `build(free_id)` with its version 1, and the audit row of its creation."""
        with self.db.transaction():
            article = build(self._free_id(slug))
            self.db.execute(
                "INSERT INTO articles (id, title, created_at, state, current_version, current_author,"
                " approved_version, author, approved_by, approved_at, source_changes, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (article.id, article.title, article.created_at.isoformat(), *_article_values(article)),
            )
            self._insert_version(article, answer)
            self._insert_audit(article, article.author, None, "version 1")
        return article

    def change_article(
        self,
        article_id: str,
        actor: str,
        change: Callable[[Article], Article],
        comment: str | None = None,
        answer: Answer | None = None,
    ) -> Article:
        """Apply `change` to the stored article and record it; `answer` is the new version's when the change
        adds one. When `change` raises, nothing is written."""
        with self.db.transaction():
            before = self.article(article_id)
            after = change(before)
            if after.current_version != before.current_version:
                if answer is None:
                    raise ValueError("a change that adds a version needs its answer")
                self._insert_version(after, answer)
            self.db.execute(
                "UPDATE articles SET state=?, current_version=?, current_author=?, approved_version=?, author=?,"
                " approved_by=?, approved_at=?, source_changes=?, updated_at=? WHERE id=?",
                (*_article_values(after), article_id),
            )
            self._insert_audit(after, actor, before.state, comment)
        return after

    def article(self, article_id: str) -> Article:
        row = self.db.execute(f"{_ARTICLE_SELECT} WHERE id=?", (article_id,)).fetchone()
        if row is None:
            raise NotFound(f"no article {article_id!r}")
        return _article(row)

    def articles(self, states: Iterable[ArticleState] | None = None) -> list[Article]:
        if states is None:
            rows = self.db.execute(f"{_ARTICLE_SELECT} ORDER BY created_at, id")
        else:
            wanted = [s.value for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self.db.execute(f"{_ARTICLE_SELECT} WHERE state IN ({marks}) ORDER BY updated_at, id", wanted)
        return [_article(r) for r in rows]

    def version(self, article_id: str, number: int) -> ArticleVersion:
        row = self.db.execute(
            "SELECT article_id, number, answer, created_by, created_at FROM article_versions"
            " WHERE article_id=? AND number=?",
            (article_id, number),
        ).fetchone()
        if row is None:
            raise NotFound(f"article {article_id!r} has no version {number}")
        return _version(row)

    def versions(self, article_id: str) -> list[ArticleVersion]:
        rows = self.db.execute(
            "SELECT article_id, number, answer, created_by, created_at FROM article_versions"
            " WHERE article_id=? ORDER BY number",
            (article_id,),
        )
        return [_version(r) for r in rows]

    def audit(self, article_id: str) -> list[AuditEvent]:
        rows = self.db.execute(
            "SELECT article_id, actor, at, from_state, to_state, comment FROM audit_log"
            " WHERE article_id=? AND subject_kind='article' ORDER BY id",
            (article_id,),
        )
        return [
            AuditEvent(
                article_id=r[0],
                actor=r[1],
                at=dt.datetime.fromisoformat(r[2]),
                from_state=ArticleState(r[3]) if r[3] else None,
                to_state=ArticleState(r[4]),
                comment=r[5],
            )
            for r in rows
        ]

    def visible_citing(self, passage_ids: Iterable[str]) -> dict[str, list[str]]:
        """Article id -> the given passage ids that its approved (visible) version cites."""
        found: dict[str, list[str]] = {}
        sql = (
            "SELECT c.article_id, c.passage_id FROM article_citations c JOIN articles a"
            " ON a.id = c.article_id AND a.approved_version = c.number"
            " WHERE c.passage_id IN ({marks}) ORDER BY c.article_id, c.passage_id"
        )
        for article_id, passage_id in self.db.execute_in(sql, passage_ids):
            found.setdefault(article_id, []).append(passage_id)
        return found

    def _free_id(self, slug: str) -> str:
        taken = {
            r[0] for r in self.db.execute("SELECT id FROM articles WHERE id = ? OR id LIKE ?", (slug, f"{slug}-%"))
        }
        candidate, n = slug, 1
        while candidate in taken:
            n += 1
            candidate = f"{slug}-{n}"
        return candidate

    def _insert_version(self, article: Article, answer: Answer) -> None:
        number = article.current_version
        self.db.execute(
            "INSERT INTO article_versions VALUES (?, ?, ?, ?, ?)",
            (article.id, number, answer.model_dump_json(), article.current_author, article.updated_at.isoformat()),
        )
        self.db.executemany(
            "INSERT INTO article_citations VALUES (?, ?, ?)",
            ((article.id, number, p) for p in cited_passages(answer)),
        )

    def _insert_audit(self, after: Article, actor: str, from_state: ArticleState | None, comment: str | None) -> None:
        self.db.execute(
            "INSERT INTO audit_log (article_id, actor, at, from_state, to_state, comment) VALUES (?, ?, ?, ?, ?, ?)",
            (
                after.id,
                actor,
                after.updated_at.isoformat(),
                from_state.value if from_state else None,
                after.state.value,
                comment,
            ),
        )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _article_values(a: Article) -> tuple[object, ...]:
    """The columns from `state` to `updated_at`, in table order."""
    return (
        a.state.value,
        a.current_version,
        a.current_author,
        a.approved_version,
        a.author,
        a.approved_by,
        a.approved_at.isoformat() if a.approved_at else None,
        json.dumps([d.model_dump(mode="json") for d in a.source_changes]),
        a.updated_at.isoformat(),
    )


def _article(r: tuple) -> Article:  # type: ignore[type-arg]
    return Article(
        id=r[0],
        title=r[1],
        state=ArticleState(r[2]),
        current_version=r[3],
        current_author=r[4],
        approved_version=r[5],
        author=r[6],
        approved_by=r[7],
        approved_at=dt.datetime.fromisoformat(r[8]) if r[8] else None,
        source_changes=[PassageDiff.model_validate(d) for d in json.loads(r[9])],
        created_at=dt.datetime.fromisoformat(r[10]),
        updated_at=dt.datetime.fromisoformat(r[11]),
    )


def _version(r: tuple) -> ArticleVersion:  # type: ignore[type-arg]
    answer = Answer.model_validate_json(r[2])
    return ArticleVersion(
        article_id=r[0],
        number=r[1],
        answer=answer,
        created_by=r[3],
        created_at=dt.datetime.fromisoformat(r[4]),
        cited_passages=cited_passages(answer),
    )


def _user(r: tuple) -> User:  # type: ignore[type-arg]
    return User(
        id=r[0],
        username=r[1],
        role=Role(r[2]),
        created_at=dt.datetime.fromisoformat(r[3]),
        disabled_at=_instant(r[4]),
        sessions_revoked_at=_instant(r[5]),
    )


def _token(r: tuple) -> ApiToken:  # type: ignore[type-arg]
    return ApiToken(
        id=r[0],
        username=r[1],
        name=r[2],
        created_at=dt.datetime.fromisoformat(r[3]),
        expires_at=dt.datetime.fromisoformat(r[4]),
        last_used_at=_instant(r[5]),
        revoked_at=_instant(r[6]),
    )


def _token_label(token: ApiToken) -> str:
    return f"token {token.id}" + (f" ({token.name})" if token.name else "")


def _instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _second(at: dt.datetime) -> dt.datetime:
    return at.replace(microsecond=0)
