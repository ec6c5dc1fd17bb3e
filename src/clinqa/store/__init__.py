"""Storage backends behind one small protocol. SQLite is the default."""

from clinqa.store.base import Store
from clinqa.store.sqlite import SQLiteStore, open_store

__all__ = ["SQLiteStore", "Store", "open_store"]
