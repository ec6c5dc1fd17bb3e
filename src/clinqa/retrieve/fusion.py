"""Rank fusion: pure functions over (id -> score) maps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def reciprocal_rank(runs: Sequence[Mapping[int, float]], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion (Cormack et al., 2009)."""
    fused: dict[int, float] = {}
    for run in runs:
        for rank, doc in enumerate(sorted(run, key=lambda d: (-run[d], d))):
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank + 1)
    return fused


def convex(
    scores: list[np.ndarray],
    weights: list[float],
    depth: int,
    candidates_from: Sequence[int] | None = None,
    normalisation: str = "zscore",
) -> dict[int, float]:
    """Weighted sum of normalised scores (z-scores, or min-max) over the union of each run's top `depth`.

    Each run scores every document (BM25 and brute-force cosine both do), so a candidate found by one run gets
    its exact score from the other rather than a floor ("fill"). Mean and spread come from each run's own top
    list, which puts BM25 and cosine on one scale (z-scores beat min-max on SciFact train; docs/BENCHMARKS.md).
    `candidates_from` limits the candidates to some runs' top lists (the others then only re-score them).
    """
    if len(scores) != len(weights):
        raise ValueError("one weight per run")
    tops = [top_indices(s, depth) for s in scores]
    pool = [tops[i] for i in candidates_from] if candidates_from is not None else tops
    candidates = np.unique(np.concatenate(pool)) if pool else np.zeros(0, dtype=np.int64)
    fused = np.zeros(len(candidates), dtype=np.float64)
    for s, best, weight in zip(scores, tops, weights, strict=True):
        if best.size == 0:
            continue
        if normalisation == "minmax":
            centre, spread = float(s[best].min()), float(s[best].max() - s[best].min())
        else:
            centre, spread = float(s[best].mean()), float(s[best].std())
        fused += weight * (s[candidates] - centre) / (spread or 1.0)
    return {int(d): float(v) for d, v in zip(candidates, fused, strict=True)}


def top_indices(scores: np.ndarray, depth: int) -> np.ndarray:
    """Positions of the `depth` highest positive scores (unordered)."""
    if scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    depth = min(depth, scores.size)
    best = np.argpartition(-scores, depth - 1)[:depth]
    return best[scores[best] > 0]


def top(scores: Mapping[int, float], k: int) -> list[tuple[int, float]]:
    """The k best (id, score) pairs; ties broken by id so results are deterministic."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
