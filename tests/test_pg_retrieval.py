"""Retrieval on PostgreSQL (pgvector HNSW for the dense run, the BM25 index rebuilt per worker) returns what the
SQLite path returns, on the fixture pages; filtered searches still fill k. Runs on a real PostgreSQL whichever
backend the suite tests (`postgres_admin` starts it)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from clinqa.engine import Engine
from clinqa.retrieve.retriever import HybridRetriever, RetrievalConfig
from clinqa.retrieve.vectors import VectorsInDatabase, VectorsInMemory
from tests.conftest import FIXTURE_PAGES, new_database

QUESTIONS = [
    "What is the treatment of recurrent osteosarcoma?",
    "Which chemotherapy is given for Ewing sarcoma?",
    "What is the prognosis of Hodgkin lymphoma in adults?",
    "Adjuvant endocrine therapy for hormone receptor positive breast cancer",
    "How is stage III colon cancer treated after surgery?",
    "BRAF inhibitors in metastatic melanoma",
]
K = 20


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory, postgres_admin: str) -> Iterator[tuple[Engine, Engine]]:
    folder = tmp_path_factory.mktemp("pg-retrieval")
    pair = (Engine(folder / "kb.sqlite"), Engine(new_database(postgres_admin)))
    for engine in pair:
        report = engine.ingest([FIXTURE_PAGES])
        assert not report.failed and report.documents_added == 11
    yield pair
    for engine in pair:
        engine.close()


def test_vectors_are_searched_in_postgresql_and_held_in_memory_on_sqlite(engines: tuple[Engine, Engine]) -> None:
    sqlite, postgres = engines
    assert isinstance(sqlite.index().vectors, VectorsInMemory)
    assert isinstance(postgres.index().vectors, VectorsInDatabase)
    count = postgres.store.db.execute("SELECT COUNT(*) FROM passage_vectors").fetchone()[0]
    assert count == postgres.index().size == sqlite.index().size


@pytest.mark.parametrize(
    "config", [RetrievalConfig(), RetrievalConfig(dense_weight=1.0), RetrievalConfig(fusion="rrf")]
)
def test_postgresql_returns_the_top_passages_sqlite_returns(
    engines: tuple[Engine, Engine], config: RetrievalConfig
) -> None:
    found = []
    for engine in engines:
        retriever = HybridRetriever(engine.index(), engine.query_encoder(), config)
        found.append([[h.passage_id for h in retriever.search(q, k=10).hits] for q in QUESTIONS])
    for on_sqlite, on_postgres in zip(*found, strict=True):
        assert on_postgres[0] == on_sqlite[0]
        assert len(set(on_postgres) & set(on_sqlite)) >= 9


def test_a_search_kept_to_some_documents_still_returns_k_passages(engines: tuple[Engine, Engine]) -> None:
    """One document of eleven: without iterative scans HNSW returns only those of its first `ef_search`
    candidates that pass the filter (here fewer than k); with them, the k nearest of that document, as brute
    force over the SQLite path's vectors finds them."""
    sqlite, postgres = engines
    index = postgres.index()
    sizes = np.bincount(index.passage_document, minlength=len(index.document_ids))
    chosen = int(np.argmax(sizes))  # a tenth of all passages: about 10 of HNSW's first 100 candidates
    document = index.document_ids[chosen]
    assert K < sizes[chosen] < 0.15 * index.size
    query = postgres.query_encoder()("treatment of recurrent disease")
    for plan in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):  # as at scale: the HNSW index orders
        postgres.store.db.execute(f"SET {plan} = off")
    nearest = postgres.store.nearest_passages(postgres.model, query, K, [document])
    assert len(nearest) == K
    assert {p.document_id for p in postgres.store.passages(nearest).values()} == {document}
    memory = sqlite.index()
    assert isinstance(memory.vectors, VectorsInMemory)
    cosine = memory.vectors.matrix @ query
    mine = np.flatnonzero(memory.passage_document == chosen)
    brute_force = {memory.passage_ids[i] for i in mine[np.argsort(-cosine[mine])[:K]]}
    assert len(brute_force & set(nearest)) >= K - 1

    weights = (np.arange(len(index.document_ids)) == chosen).astype(np.float32)
    for engine in engines:
        retriever = HybridRetriever(engine.index(), engine.query_encoder(), RetrievalConfig(dense_weight=1.0))
        hits = retriever.search("treatment of recurrent disease", k=K, document_weights=weights).hits
        assert len(hits) == K
        assert {p.document_id for p in engine.store.passages(h.passage_id for h in hits).values()} == {document}


def test_a_search_kept_to_few_passages_scores_them_exactly(engines: tuple[Engine, Engine]) -> None:
    """Under `store.exact_search_passages` a filtered search scores every kept passage: the k nearest are
    exactly brute force's, with the same similarities, and the index counts what the filter keeps."""
    sqlite, postgres = engines
    index = postgres.index()
    assert isinstance(index.vectors, VectorsInDatabase)
    sizes = np.bincount(index.passage_document, minlength=len(index.document_ids))
    chosen = int(np.argmax(sizes))
    document = index.document_ids[chosen]
    assert index.vectors.kept([document]) == sizes[chosen]
    query = postgres.query_encoder()("treatment of recurrent disease")
    nearest = postgres.store.nearest_passages(postgres.model, query, K, [document], exact=True)
    memory = sqlite.index()
    assert isinstance(memory.vectors, VectorsInMemory)
    cosine = memory.vectors.matrix @ query
    mine = np.flatnonzero(memory.passage_document == chosen)
    best = mine[np.argsort(-cosine[mine])[:K]]
    assert set(nearest) == {memory.passage_ids[i] for i in best}
    for i in best:
        assert abs(nearest[memory.passage_ids[i]] - float(cosine[i])) < 2e-3  # vectors stored as float16
