"""Storage backends behind one small protocol: SQLite (a file path, the default) and PostgreSQL (a URL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import platformdirs

from clinqa.settings import settings
from clinqa.store.base import Store
from clinqa.store.db import Database, IntegrityViolation, is_url, open_database, redacted
from clinqa.store.migrate import MigrationReport, SchemaOutdated, migrate
from clinqa.store.sql import SQLStore
from clinqa.store.sqlite import SQLiteStore


def index_dir(location: Path | str) -> Path:
    """The folder of the derived indexes of the knowledge base at `location` (settings key `store.index_dir`)."""
    configured = settings().store.index_dir
    if configured:
        return Path(configured).expanduser()
    if is_url(location):
        # The URL without its password names the database; the folder is that database's alone.
        key = hashlib.sha256(redacted(str(location)).encode("utf-8")).hexdigest()[:16]
        return Path(platformdirs.user_cache_dir("clinqa")) / f"index-{key}"
    path = Path(location)
    return path.with_name(path.name + ".index")


def open_store(location: Path | str) -> SQLStore:
    """The knowledge base at a SQLite path or a `postgresql://` URL (its schema checked: see store.migrate)."""
    db = open_database(location)
    if db.dialect == "postgres":
        from clinqa.store.postgres import PostgresStore  # psycopg imports: open_database connected with it

        return PostgresStore(db)
    return SQLStore(db)


def migrate_database(location: Path | str) -> MigrationReport:
    """Apply the pending migrations to the knowledge base at `location` (`clinqa migrate`)."""
    db = open_database(location)
    try:
        return migrate(db)
    finally:
        db.close()


__all__ = [
    "Database",
    "IntegrityViolation",
    "SQLStore",
    "SQLiteStore",
    "SchemaOutdated",
    "Store",
    "index_dir",
    "is_url",
    "migrate_database",
    "open_database",
    "open_store",
]
