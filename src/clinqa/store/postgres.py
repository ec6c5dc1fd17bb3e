"""PostgreSQL backend (a `postgresql://` URL): passage vectors in pgvector `vector(384)` columns, searched in the
database through an HNSW cosine index (`passage_vectors`), so a worker process holds no vectors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from clinqa.readings import embedding_key, embedding_text
from clinqa.settings import settings
from clinqa.store.db import Database
from clinqa.store.pg import PostgresDatabase
from clinqa.store.sql import SQLStore
from clinqa.types import Document, DocumentChange, Trial


class PostgresStore(SQLStore):
    _VECTOR_IN = "CAST(? AS vector)"
    _VECTOR_OUT = "CAST(vector AS text)"

    def __init__(self, db: Database | str) -> None:
        super().__init__(PostgresDatabase(db) if isinstance(db, str) else db)

    def _vector_param(self, vector: bytes) -> object:
        return vector_text(vector)

    def _vector_bytes(self, stored: Any) -> bytes:
        return vector_from_text(str(stored))

    def put_document(
        self, document: Document, vectors: Mapping[str, bytes], model: str, trials: Iterable[Trial] = ()
    ) -> DocumentChange:
        """As on every backend, and each passage's vector linked for search, in the same transaction."""
        with self.db.transaction():
            change = super().put_document(document, vectors, model, trials)
            keys = {p.id: embedding_key(embedding_text(p, document.title)) for p in document.passages}
            self.link_passage_vectors(model, keys)
        return change

    def link_passage_vectors(self, model: str, keys: Mapping[str, str]) -> int:
        """Give each passage (id -> embedding key) the stored vector of `model` for its text; passages that
        have one keep it. How many were linked."""
        if not keys:
            return 0
        rows = self.db.execute(
            "INSERT INTO passage_vectors (passage_id, document_id, model, vector)"
            " SELECT p.id, p.document_id, e.model, e.vector"
            " FROM unnest(CAST(? AS text[]), CAST(? AS text[])) AS k(passage_id, text_hash)"
            " JOIN passages p ON p.id = k.passage_id"
            " JOIN embeddings e ON e.text_hash = k.text_hash AND e.model = ?"
            " ON CONFLICT (passage_id) DO NOTHING",
            (list(keys), list(keys.values()), model),
        )
        return rows.rowcount

    def nearest_passages(
        self, model: str, query: np.ndarray, depth: int, documents: list[str] | None, exact: bool = False
    ) -> dict[str, float]:
        """The `depth` passages (of `documents`, None: of all) nearest `query` by cosine -> their similarity,
        from the HNSW index. A filtered search scans the index on until it has `depth` passages
        (`hnsw.iterative_scan`), where a plain one would return those of the first `ef_search` that pass.
        `exact`: score every passage of `documents` instead (found through the document index), which is faster
        than walking the graph when few passages pass the filter, and exact."""
        ef_search = max(settings().store.hnsw_ef_search, depth)
        where, args = "model = ?", list[object]([model])
        if documents is not None:
            where, args = where + " AND document_id = ANY(CAST(? AS text[]))", [*args, documents]
        literal = query_text(query)
        if exact and documents is not None:
            rows = self.db.execute(
                "WITH kept AS MATERIALIZED"
                f" (SELECT passage_id, vector <=> CAST(? AS vector) AS distance FROM passage_vectors WHERE {where})"
                " SELECT passage_id, distance FROM kept ORDER BY distance LIMIT ?",
                [literal, *args, depth],
            ).fetchall()
            return {r[0]: 1.0 - float(r[1]) for r in rows}
        with self.db.transaction():  # SET LOCAL: the settings end with the transaction
            self.db.execute("SELECT set_config('hnsw.ef_search', ?, true)", (str(ef_search),))
            scan = "relaxed_order" if documents is not None else "off"
            self.db.execute("SELECT set_config('hnsw.iterative_scan', ?, true)", (scan,))
            rows = self.db.execute(
                f"SELECT passage_id, vector <=> CAST(? AS vector) AS distance FROM passage_vectors WHERE {where}"
                " ORDER BY distance LIMIT ?",
                [literal, *args, depth],
            ).fetchall()
        return {r[0]: 1.0 - float(r[1]) for r in rows}

    def passage_similarity(self, model: str, query: np.ndarray, passage_ids: Iterable[str]) -> dict[str, float]:
        """The exact cosine similarity of these passages to `query`."""
        rows = self.db.execute(
            "SELECT passage_id, 1 - (vector <=> CAST(? AS vector)) FROM passage_vectors"
            " WHERE passage_id = ANY(CAST(? AS text[])) AND model = ?",
            (query_text(query), list(passage_ids), model),
        )
        return {r[0]: float(r[1]) for r in rows}


def vector_text(vector: bytes) -> str:
    """float16 bytes as pgvector's text form; every float16 is exact as a float4, so nothing is rounded."""
    return query_text(np.frombuffer(vector, dtype=np.float16))


def query_text(values: np.ndarray) -> str:
    """A vector in pgvector's text form."""
    return "[" + ",".join(repr(float(v)) for v in values.astype(np.float32)) + "]"


def vector_from_text(text: str) -> bytes:
    values = np.array(text.strip("[]").split(","), dtype=np.float32)
    return values.astype(np.float16).tobytes()
