"""Where passage vectors are searched: in the worker's memory (SQLite: every passage scored, brute force) or in
the database (PostgreSQL: pgvector's HNSW index; the worker holds no vectors).

Both give the hybrid retriever a dense score per passage position: every passage in memory; in the database the
approximate top `depth` plus the exact cosine of the lexical candidates, so that convex fusion scores each
candidate on both runs as the brute-force path does. Positions scored neither way hold `UNSCORED`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

import numpy as np

from clinqa.settings import settings

UNSCORED = np.float32(-1e30)


class PassageVectors(Protocol):
    def scores(self, query: np.ndarray, depth: int, candidates: np.ndarray, documents: list[str] | None) -> np.ndarray:
        """Cosine similarity to `query` (L2-normalised) per passage position: at least the best `depth` passages
        of `documents` (None: of all) and every position in `candidates`."""
        ...


@runtime_checkable
class VectorStore(Protocol):
    """A store that searches passage vectors itself (clinqa.store.postgres)."""

    def link_passage_vectors(self, model: str, keys: Mapping[str, str]) -> int: ...

    def nearest_passages(
        self, model: str, query: np.ndarray, depth: int, documents: list[str] | None, exact: bool = False
    ) -> dict[str, float]: ...

    def passage_similarity(self, model: str, query: np.ndarray, passage_ids: Iterable[str]) -> dict[str, float]: ...


class VectorsInMemory:
    """float32 (passages x dims), L2-normalised: every passage scored."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix

    def scores(self, query: np.ndarray, depth: int, candidates: np.ndarray, documents: list[str] | None) -> np.ndarray:
        return np.asarray(self.matrix @ query, dtype=np.float32)


class VectorsInDatabase:
    """The passages' vectors in the database, searched there. A search filtered to few passages scores them
    exactly (`store.exact_search_passages`); `passage_document` (document position per passage, positions in
    `document_ids`) tells how many a filter keeps."""

    def __init__(
        self,
        store: VectorStore,
        model: str,
        passage_ids: list[str],
        passage_document: np.ndarray,
        document_ids: list[str],
    ) -> None:
        self.store, self.model, self.passage_ids = store, model, passage_ids
        self.passage_document, self.document_ids = passage_document, document_ids
        self._positions: dict[str, int] | None = None

    def kept(self, documents: list[str]) -> int:
        """How many passages a filter to `documents` keeps."""
        wanted = set(documents)
        chosen = np.array([d in wanted for d in self.document_ids], dtype=bool)
        return int(np.count_nonzero(chosen[self.passage_document])) if len(chosen) else 0

    def positions(self) -> dict[str, int]:
        if self._positions is None:  # built on first search, not at load: a CLI command may never search
            self._positions = {p: i for i, p in enumerate(self.passage_ids)}
        return self._positions

    def scores(self, query: np.ndarray, depth: int, candidates: np.ndarray, documents: list[str] | None) -> np.ndarray:
        exact = documents is not None and self.kept(documents) <= settings().store.exact_search_passages
        found = self.store.nearest_passages(self.model, query, depth, documents, exact)
        wanted = [self.passage_ids[i] for i in candidates if self.passage_ids[i] not in found]
        if wanted:
            found.update(self.store.passage_similarity(self.model, query, wanted))
        out = np.full(len(self.passage_ids), UNSCORED, dtype=np.float32)
        positions = self.positions()
        for passage_id, score in found.items():
            position = positions.get(passage_id)
            if position is not None:  # a passage stored after this index was built
                out[position] = score
        return out
