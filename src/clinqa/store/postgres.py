"""PostgreSQL backend (a `postgresql://` URL): passage vectors in a pgvector `vector(384)` column with an HNSW
cosine index, ready for retrieval in the database."""

from __future__ import annotations

from typing import Any

import numpy as np

from clinqa.store.db import Database
from clinqa.store.pg import PostgresDatabase
from clinqa.store.sql import SQLStore


class PostgresStore(SQLStore):
    _VECTOR_IN = "CAST(? AS vector)"
    _VECTOR_OUT = "CAST(vector AS text)"

    def __init__(self, db: Database | str) -> None:
        super().__init__(PostgresDatabase(db) if isinstance(db, str) else db)

    def _vector_param(self, vector: bytes) -> object:
        return vector_text(vector)

    def _vector_bytes(self, stored: Any) -> bytes:
        return vector_from_text(str(stored))


def vector_text(vector: bytes) -> str:
    """float16 bytes as pgvector's text form; every float16 is exact as a float4, so nothing is rounded."""
    values = np.frombuffer(vector, dtype=np.float16).astype(np.float32)
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def vector_from_text(text: str) -> bytes:
    values = np.array(text.strip("[]").split(","), dtype=np.float32)
    return values.astype(np.float16).tobytes()
