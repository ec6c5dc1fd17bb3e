"""SQLite backend: one file, WAL journal; the default."""

from __future__ import annotations

from pathlib import Path

from clinqa.store.db import SQLiteDatabase
from clinqa.store.sql import SQLStore


class SQLiteStore(SQLStore):
    def __init__(self, path: Path | str) -> None:
        super().__init__(SQLiteDatabase(path))
        self.path = self.db.location
