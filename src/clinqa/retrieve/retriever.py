"""Hybrid retrieval: BM25 over expanded terms plus dense vectors, fused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clinqa.retrieve import fusion
from clinqa.retrieve.analysis import analyze, query_terms
from clinqa.retrieve.expand import Expansion, expand_query
from clinqa.retrieve.index import SearchIndex
from clinqa.retrieve.vectors import UNSCORED
from clinqa.settings import default_from


@dataclass(frozen=True)
class RetrievalConfig:
    """How retrieval runs; every default is the `retrieval` section of the settings tree (clinqa.settings)."""

    depth: int = default_from("retrieval", "depth")
    expansion_weight: float = default_from("retrieval", "expansion_weight")
    fusion: str = default_from("retrieval", "fusion")
    dense_weight: float = default_from("retrieval", "dense_weight")
    use_dense: bool = default_from("retrieval", "use_dense")
    normalisation: str = default_from("retrieval", "normalisation")
    dense_candidates: bool = default_from("retrieval", "dense_candidates")

    def __post_init__(self) -> None:
        if self.fusion not in ("convex", "rrf"):
            raise ValueError(f"fusion must be 'convex' or 'rrf', not {self.fusion!r}")
        if self.normalisation not in ("zscore", "minmax"):
            raise ValueError(f"normalisation must be 'zscore' or 'minmax', not {self.normalisation!r}")


@dataclass(frozen=True)
class Hit:
    passage_id: str
    score: float
    lexical_score: float
    dense_score: float


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    expansions: list[Expansion]
    query_terms: list[str]


class HybridRetriever:
    def __init__(
        self,
        index: SearchIndex,
        encode_query: Callable[[str], np.ndarray] | None,
        config: RetrievalConfig | None = None,
    ) -> None:
        self.index = index
        self.encode_query = encode_query
        self.config = config or RetrievalConfig()

    def search(
        self, query: str, k: int = 30, hints: str = "", document_weights: np.ndarray | None = None
    ) -> SearchResult:
        """The best `k` passages for `query`. `hints`: words searched at the expansion weight (where this kind
        of question is answered: "prognosis survival"); `document_weights`: a multiplier per document (in
        `index.document_ids` order), 0 leaving a document out."""
        expansions = expand_query(query, self.index.vocabulary)
        if hints:
            expansions = [*expansions, Expansion("question kind", hints, "kind")]
        own_terms = query_terms(query)
        runs = [self.lexical_scores(own_terms, expansions)]
        kept = document_weights[self.index.passage_document] > 0 if document_weights is not None else None
        if kept is not None and self.index.size:
            runs[0] = np.where(kept, runs[0], UNSCORED).astype(np.float32)
        if self.config.use_dense and self.encode_query is not None and self.index.size:
            documents = None
            if document_weights is not None:
                documents = [d for d, w in zip(self.index.document_ids, document_weights, strict=True) if w > 0]
            similarity = self.dense_scores(query, fusion.top_indices(runs[0], self.config.depth), documents)
            runs.append(np.where(kept, similarity, UNSCORED).astype(np.float32) if kept is not None else similarity)
        if len(runs) == 1:
            fused = {int(i): float(runs[0][i]) for i in fusion.top_indices(runs[0], self.config.depth)}
        elif self.config.fusion == "convex":
            weights = [1 - self.config.dense_weight, self.config.dense_weight]
            fused = fusion.convex(
                runs,
                weights,
                self.config.depth,
                None if self.config.dense_candidates else [0],
                self.config.normalisation,
            )
        else:
            tops = [{int(i): float(r[i]) for i in fusion.top_indices(r, self.config.depth)} for r in runs]
            fused = fusion.reciprocal_rank(tops)
        dense = runs[1] if len(runs) > 1 else None
        hits = [
            Hit(
                self.index.passage_ids[i],
                score,
                float(runs[0][i]),
                float(dense[i]) if dense is not None else 0.0,
            )
            for i, score in fusion.top(fused, k)
        ]
        return SearchResult(hits=hits, expansions=expansions, query_terms=own_terms)

    def lexical_scores(self, terms: list[str], expansions: list[Expansion]) -> np.ndarray:
        """BM25 score of every passage: the question's terms, plus expansion terms at a lower weight."""
        if self.index.size == 0:
            return np.zeros(0, dtype=np.float32)
        scores = self.index.bm25.get_scores(terms) if terms else np.zeros(self.index.size, dtype=np.float32)
        extra = [t for t in analyze([" ".join(e.adds for e in expansions)])[0] if t not in terms]
        if extra and self.config.expansion_weight:
            scores = scores + self.config.expansion_weight * self.index.bm25.get_scores(extra)
        return np.asarray(scores, dtype=np.float32)

    def dense_scores(self, query: str, candidates: np.ndarray, documents: list[str] | None = None) -> np.ndarray:
        """Cosine similarity to the question as asked (expansions would blur the embedding): of every passage
        held in memory; of the best `depth` of `documents` and the lexical `candidates` searched in the database."""
        assert self.encode_query is not None
        return self.index.vectors.scores(self.encode_query(query), self.config.depth, candidates, documents)
