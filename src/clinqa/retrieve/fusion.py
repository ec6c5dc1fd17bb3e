"""Rank fusion: pure functions over (id -> score) maps."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def reciprocal_rank(runs: list[Mapping[int, float]], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion (Cormack et al., 2009)."""
    fused: dict[int, float] = {}
    for run in runs:
        for rank, doc in enumerate(sorted(run, key=lambda d: (-run[d], d))):
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank + 1)
    return fused


def convex(runs: list[Mapping[int, float]], weights: list[float]) -> dict[int, float]:
    """Weighted sum of min-max normalised scores; a document missing from a run scores 0 there."""
    if len(runs) != len(weights):
        raise ValueError("one weight per run")
    fused: dict[int, float] = {}
    for run, weight in zip(runs, weights, strict=True):
        if not run:
            continue
        values = np.fromiter(run.values(), dtype=np.float64)
        low, span = float(values.min()), float(values.max() - values.min()) or 1.0
        for doc, score in run.items():
            fused[doc] = fused.get(doc, 0.0) + weight * (score - low) / span
    return fused


def top(scores: Mapping[int, float], k: int) -> list[tuple[int, float]]:
    """The k best (id, score) pairs; ties broken by id so results are deterministic."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
