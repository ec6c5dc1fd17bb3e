"""SQLite knowledge bases made before numbered migrations: `clinqa migrate` brings them to the shape of migration 1
in place (nothing of value is lost) before that migration's IF NOT EXISTS statements complete them."""

from __future__ import annotations

import datetime as dt

from clinqa.settings import settings
from clinqa.store.db import Database

# Columns added after the first release; migration 1 has them for a new knowledge base.
_ADDED_COLUMNS = {
    "users": (("disabled_at", "TEXT"), ("sessions_revoked_at", "TEXT")),
    "api_tokens": (
        ("id", "TEXT"),
        ("name", "TEXT NOT NULL DEFAULT ''"),
        ("expires_at", "TEXT"),
        ("last_used_at", "TEXT"),
        ("revoked_at", "TEXT"),
    ),
    "audit_log": (("subject_kind", "TEXT NOT NULL DEFAULT 'article'"),),
}


def is_legacy(db: Database) -> bool:
    """A SQLite knowledge base of an earlier clinqa: tables, but no record of migrations."""
    tables = db.tables()
    return db.dialect == "sqlite" and bool(tables) and "schema_migrations" not in tables


def adopt_legacy(db: Database) -> None:
    """In the caller's transaction: old conversations dropped, account columns added, old tokens given an id."""
    drop_ownerless_threads(db)
    for table, column, declaration in _missing_columns(db):
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    if "api_tokens" not in db.tables():
        return
    # Tokens made before tokens had ids and expiry get an id and expire `accounts.token_ttl_days` after they were made.
    ttl = dt.timedelta(days=settings().accounts.token_ttl_days)
    legacy = db.execute("SELECT token_sha256, created_at FROM api_tokens WHERE id IS NULL").fetchall()
    for digest, created in legacy:
        expires = (dt.datetime.fromisoformat(created) + ttl).isoformat()
        db.execute(
            "UPDATE api_tokens SET id=lower(hex(randomblob(6))), expires_at=? WHERE token_sha256=?",
            (expires, digest),
        )


def drop_ownerless_threads(db: Database) -> None:
    """Conversations stored before threads had an owner and an expiry cannot be told apart by whom they belong
    to, nor kept for a known time: they are deleted (migration 1 then creates the tables as they are now)."""
    columns = _columns(db, "threads")
    if columns and "owner" not in columns:
        db.execute("DROP TABLE IF EXISTS thread_turns")
        db.execute("DROP TABLE threads")


def _columns(db: Database, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def _missing_columns(db: Database) -> list[tuple[str, str, str]]:
    missing = []
    for table, columns in _ADDED_COLUMNS.items():
        present = _columns(db, table)
        if present:  # a table the old file lacks altogether is created whole by migration 1
            missing += [(table, name, declaration) for name, declaration in columns if name not in present]
    return missing
