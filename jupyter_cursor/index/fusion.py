"""Combining the BM25 and embedding rankings."""

from __future__ import annotations

# Cormack, Clarke & Buettcher (2009): k = 60 damps the weight of the very top ranks so that one
# retriever's confident first hit cannot drown the other's agreement lower down.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: list[list[str]], weights: list[float] | None = None, k: int = RRF_K
) -> list[tuple[str, float]]:
    """Fuse rankings (best first) into (id, score) best first: score = sum w / (k + rank)."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
