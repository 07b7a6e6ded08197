"""Combining the BM25 and embedding rankings.

Score-aware convex fusion (Bruch, Gai & Ingber, "An Analysis of Fusion Functions for Hybrid
Retrieval", 2023): each side's scores are normalised to [0, 1] and summed with a weight tuned on
dev queries. BM25 scores are divided by the query's best (they have no scale of their own); cosine
similarities are placed between the embedder's floor and 1, so that a side's weak best hit stays
weak (min-max within the list made every list's best a 1, and lost 2 points on the dev queries) (benchmarks/RESULTS.md, "Search (issue 19)"). Unlike reciprocal
rank fusion it keeps how far ahead a side's best hit is, so a chunk that one side is sure of is not
buried under chunks both sides find mediocre. A relative floor then drops the tail that is far
below the best hit: a search shows fewer, better hits. Last, a markdown cell that matched brings
the code cell it introduces up to just after it (``explanation_then_code``), whichever side ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from .catalog import HitRow

Ranked = TypeVar("Ranked", bound=tuple[HitRow, float])

# Weight of the BM25 side (the embedding side gets 1 - this); tuned on the dev queries.
BM25_WEIGHT = 0.4
# Fused hits under this fraction of the best hit's score are dropped.
RELATIVE_FLOOR = 0.3

# Cormack, Clarke & Buettcher (2009): reciprocal rank fusion's k. Kept as the baseline the
# benchmark compares against.
RRF_K = 60

Ranking = list[tuple[str, float]]


def normalise(ranked: Ranking, low: float = 0.0, high: float | None = None) -> dict[str, float]:
    """Scores of one side's list placed between ``low`` (0) and ``high`` (1; default the list's
    best score), clipped to [0, 1]."""
    if not ranked:
        return {}
    top = max(score for _, score in ranked) if high is None else high
    span = top - low
    return {
        uid: min(1.0, max(0.0, (score - low) / span)) if span > 0 else 1.0 for uid, score in ranked
    }


def convex_fusion(
    lexical: Ranking,
    semantic: Ranking,
    bm25_weight: float = BM25_WEIGHT,
    floor: float = RELATIVE_FLOOR,
    min_similarity: float = 0.0,
) -> Ranking:
    """Fuse BM25 (id, score) and embedding (id, cosine) lists, best first, into (id, fused score)
    best first: the weighted sum of the normalised scores (a side that did not return an id gives
    it 0), without the hits under ``floor`` times the best fused score. ``min_similarity``: the
    embedder's cosine of "unrelated"."""
    sides = (
        (normalise(lexical), bm25_weight),
        (normalise(semantic, min_similarity, 1.0), 1.0 - bm25_weight),
    )
    scores: dict[str, float] = {}
    for normalised, weight in sides:
        for uid, score in normalised.items():
            scores[uid] = scores.get(uid, 0.0) + weight * score
    fused = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    return relative_floor(fused, floor)


def relative_floor(ranked: Ranking, floor: float) -> Ranking:
    """The hits whose score is at least ``floor`` times the best one's."""
    if not ranked or floor <= 0:
        return ranked
    cut = ranked[0][1] * floor
    return [(uid, score) for uid, score in ranked if score >= cut]


def explanation_then_code(ranked: Sequence[Ranked]) -> list[Ranked]:
    """``ranked`` (catalog row, score), best first, with the code cell right below each matched
    markdown cell moved up to just after it when it ranked lower: the code that prose explains
    (its chunk carries that prose as context), shown beside it rather than pages later. Nothing
    else moves relative to the rest, and a cell that did not match is not added.

    nDCG@10 on the dev queries (benchmarks/RESULTS.md, "Search (issue 19)"), written / generated:
    BM25 0.391 / 0.471 -> 0.436 / 0.605, embeddings 0.411 / 0.537 -> 0.421 / 0.608, hybrid
    0.450 / 0.548 -> 0.488 / 0.610. Moving the code cell above its prose instead gained more on
    the generated queries (whose answer is that code) and lost more of the written ones, which
    also judge prose relevant."""
    first: dict[tuple[str, int], int] = {}
    for i, (row, _) in enumerate(ranked):
        if row.cell_index is not None:
            first.setdefault((row.path, row.cell_index), i)
    out: list[Ranked] = []
    taken: set[int] = set()
    for i, item in enumerate(ranked):
        if i in taken:
            continue
        out.append(item)
        taken.add(i)
        row = item[0]
        if row.kind == "markdown" and row.cell_index is not None:
            j = first.get((row.path, row.cell_index + 1))
            if j is not None and j not in taken and ranked[j][0].kind == "code":
                out.append(ranked[j])
                taken.add(j)
    return out


def reciprocal_rank_fusion(
    rankings: list[list[str]], weights: list[float] | None = None, k: int = RRF_K
) -> Ranking:
    """Fuse rankings (best first) into (id, score) best first: score = sum w / (k + rank)."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
