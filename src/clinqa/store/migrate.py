"""Numbered schema migrations, one folder per backend (`migrations/sqlite/0002_sessions.sql`), recorded in the
`schema_migrations` table and applied by `clinqa migrate`.

Opening a knowledge base checks its schema: an empty database is created at the latest schema (there is nothing to
lose), an older one is refused with `SchemaOutdated` naming `clinqa migrate`, one made by a newer clinqa with
`StoreError`. A SQLite file made before numbered migrations is adopted by `clinqa migrate` (clinqa.store.legacy).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from importlib import resources

from clinqa.errors import StoreError
from clinqa.packages import utc_now
from clinqa.store.db import Database, Dialect
from clinqa.store.legacy import adopt_legacy, is_legacy

_FILE = re.compile(r"(\d{4})_(\w+)\.sql")
_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)"
)
# One migrating process at a time: SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL takes a lock.
_LOCK = {"sqlite": None, "postgres": "SELECT pg_advisory_xact_lock(7235142)"}


class SchemaOutdated(StoreError):
    """The knowledge base's schema is older than this clinqa's; `clinqa migrate` brings it up to date."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(dialect: Dialect) -> list[Migration]:
    """The backend's migrations, in order."""
    folder = resources.files("clinqa.store").joinpath("migrations", dialect)
    found = []
    for entry in folder.iterdir():
        match = _FILE.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def applied(db: Database) -> list[int]:
    """The versions recorded as applied (none for an empty or a pre-migration database)."""
    if "schema_migrations" not in db.tables():
        return []
    return [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY version")]


def pending(db: Database) -> list[Migration]:
    done = set(applied(db))
    return [m for m in migrations(db.dialect) if m.version not in done]


@dataclass(frozen=True)
class MigrationReport:
    applied: list[Migration]
    adopted_legacy: bool
    seconds: float


def migrate(db: Database) -> MigrationReport:
    """Apply every pending migration, each in its own transaction; a no-op when the schema is current."""
    started = time.perf_counter()
    adopted = False
    done: list[Migration] = []
    with db.transaction():
        _serialise(db)
        if is_legacy(db):
            # Brought to the shape of migration 1, whose IF NOT EXISTS statements then complete it.
            adopt_legacy(db)
            adopted = True
        db.execute(_TABLE)
    for migration in migrations(db.dialect):
        with db.transaction():
            _serialise(db)
            if migration.version in applied(db):  # another process got here first
                continue
            db.script(migration.sql)
            _record(db, migration)
            done.append(migration)
    return MigrationReport(done, adopted, time.perf_counter() - started)


def check_schema(db: Database) -> None:
    """Create an empty database's schema; refuse an older or a newer one by name."""
    if not db.tables() - {"schema_migrations"}:
        migrate(db)
        return
    known = {m.version for m in migrations(db.dialect)}
    have = set(applied(db))
    if have - known:
        raise StoreError(
            f"{db.location}: the schema is at migration {max(have)}, newer than this clinqa knows"
            f" ({max(known)}); upgrade clinqa"
        )
    if known - have:
        raise SchemaOutdated(
            f"{db.location}: the knowledge base's schema is out of date ({len(known - have)} migration(s) pending);"
            f" run `clinqa --db {db.location} migrate` (back it up first)"
        )


def _serialise(db: Database) -> None:
    if lock := _LOCK[db.dialect]:
        db.execute(lock)


def _record(db: Database, migration: Migration) -> None:
    db.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        (migration.version, migration.name, utc_now().isoformat()),
    )
