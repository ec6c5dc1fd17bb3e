"""Hybrid retrieval: BM25 over expanded terms plus dense vectors, fused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clinqa.retrieve import fusion
from clinqa.retrieve.analysis import analyze, query_terms
from clinqa.retrieve.expand import Expansion, expand_query
from clinqa.retrieve.index import SearchIndex


@dataclass(frozen=True)
class RetrievalConfig:
    depth: int = 100  # candidates taken from each retriever before fusion
    expansion_weight: float = 0.5  # BM25 weight of expansion terms relative to the question's own terms
    fusion: str = "convex"  # "convex" or "rrf"
    dense_weight: float = 0.5  # convex blend: weight of the dense run (lexical gets 1 - this)
    use_dense: bool = True

    def __post_init__(self) -> None:
        if self.fusion not in ("convex", "rrf"):
            raise ValueError(f"fusion must be 'convex' or 'rrf', not {self.fusion!r}")


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

    def search(self, query: str, k: int = 30) -> SearchResult:
        expansions = expand_query(query, self.index.vocabulary)
        own_terms = query_terms(query)
        lexical = self._lexical(own_terms, expansions)
        dense = self._dense(query, expansions)
        if dense:
            weights = [1 - self.config.dense_weight, self.config.dense_weight]
            fused = (
                fusion.convex([lexical, dense], weights)
                if self.config.fusion == "convex"
                else fusion.reciprocal_rank([lexical, dense])
            )
        else:
            fused = lexical
        hits = [
            Hit(self.index.passage_ids[i], score, lexical.get(i, 0.0), dense.get(i, 0.0))
            for i, score in fusion.top(fused, k)
        ]
        return SearchResult(hits=hits, expansions=expansions, query_terms=own_terms)

    def lexical_scores(self, terms: list[str], expansions: list[Expansion]) -> np.ndarray:
        """BM25 score of every passage: the question's terms, plus expansion terms at a lower weight."""
        if self.index.size == 0:
            return np.zeros(0, dtype=np.float32)
        scores = self.index.bm25.get_scores(terms) if terms else np.zeros(self.index.size, dtype=np.float32)
        extra = [t for t in analyze([" ".join(e.adds for e in expansions)])[0] if t not in terms]
        if extra:
            scores = scores + self.config.expansion_weight * self.index.bm25.get_scores(extra)
        return np.asarray(scores, dtype=np.float32)

    def _lexical(self, terms: list[str], expansions: list[Expansion]) -> dict[int, float]:
        return _top_positive(self.lexical_scores(terms, expansions), self.config.depth)

    def _dense(self, query: str, expansions: list[Expansion]) -> dict[int, float]:
        if not (self.config.use_dense and self.encode_query) or self.index.size == 0:
            return {}
        text = query
        if expansions:
            text += " (" + "; ".join(dict.fromkeys(e.adds for e in expansions)) + ")"
        similarities = self.index.vectors @ self.encode_query(text)
        return _top_positive(similarities, self.config.depth)


def _top_positive(scores: np.ndarray, depth: int) -> dict[int, float]:
    if scores.size == 0:
        return {}
    depth = min(depth, scores.size)
    best = np.argpartition(-scores, depth - 1)[:depth]
    return {int(i): float(scores[i]) for i in best if scores[i] > 0}
