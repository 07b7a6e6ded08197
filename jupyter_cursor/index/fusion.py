"""Combining the BM25 and embedding rankings.

The index fuses with a learned ranker (``LearnedFusion``): a pairwise logistic model over the union
of both sides' candidates, fitted on queries generated from the train split's notebooks
(``models/fusion``, model card there; never on the dev queries the benchmark reports). Each
candidate is described by its two normalised scores and ranks, whether both sides found it, and
how many of the query's terms its words hold and the names it defines hold (a definition answers
a question about it; a call does not); the query by how sure each side is (the best
cosine, how far each side's best hit is ahead of its second, how much the two top tens agree) and
its length. Those query features enter multiplied by each side's score, so the weight that each
side gets is set per query, by evidence, where one fixed weight (``convex_fusion``) had to serve
prose questions, which want the embedding side, and docstrings, which name the code and want BM25
(benchmarks/RESULTS.md, "Learned fusion: hybrid at least 3 points above its best side on every
class").

``convex_fusion`` (score-aware convex fusion: Bruch, Gai & Ingber, "An Analysis of Fusion
Functions for Hybrid Retrieval", 2023) serves an embedder without a fitted fusion; it and
``reciprocal_rank_fusion`` are the baselines the benchmark compares against. Last, a markdown cell that matched brings the code cell it introduces
up to just after it (``explanation_then_code``), whichever side ranked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from .catalog import HitRow

Ranked = TypeVar("Ranked", bound=tuple[HitRow, float])

# convex_fusion's weight of the BM25 side (the embedding side gets 1 - this), tuned on the dev
# queries, and its floor: fused hits under this fraction of the best hit's score are dropped.
BM25_WEIGHT = 0.4
RELATIVE_FLOOR = 0.3

# The learned fusion's weights, one model per embedder (models/fusion writes it).
FUSION_MODELS = Path(__file__).resolve().parent.parent / "models" / "fusion.json"

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


# -- the learned fusion --------------------------------------------------------------------------

# What the query says about each side: its length, how far each side's best hit is ahead of its
# second, how close the best cosine is to 1, how much the two top tens agree.
QUERY_FEATURES = ("qlen", "lex_gap", "sem_top", "sem_gap", "overlap10")
# Per candidate: BM25 score over the query's best, cosine placed between the embedder's floor and
# 1, reciprocal ranks on each side, found by both, the share of the query's terms its text holds
# and the share that the names it defines hold; then each side's score times each query feature.
CANDIDATE_FEATURES = ("l", "s", "rl", "rs", "both", "cov", "names")
MAX_QUERY_WORDS = 30
FEATURES = CANDIDATE_FEATURES + tuple(f"{side}*{q}" for q in QUERY_FEATURES for side in "ls")


def query_features(query: str, lexical: Ranking, semantic: Ranking, min_similarity: float) -> dict:
    span = max(1.0 - min_similarity, 1e-9)
    top_lexical = {uid for uid, _ in lexical[:10]}
    top_semantic = {uid for uid, _ in semantic[:10]}
    return {
        # Fitted on queries of 4 to 30 words; a chat message searched whole is read as 30.
        "qlen": math.log1p(min(len(query.split()), MAX_QUERY_WORDS)),
        "lex_gap": (
            0.0
            if not lexical
            else 1.0
            if len(lexical) == 1 or lexical[0][1] <= 0
            else 1.0 - lexical[1][1] / lexical[0][1]
        ),
        "sem_top": (semantic[0][1] - min_similarity) / span if semantic else 0.0,
        "sem_gap": (semantic[0][1] - semantic[1][1]) / span if len(semantic) > 1 else 0.0,
        "overlap10": len(top_lexical & top_semantic) / 10,
    }


def candidate_features(
    query: str,
    lexical: Ranking,
    semantic: Ranking,
    coverage: Mapping[str, Sequence[float]],
    min_similarity: float,
) -> tuple[list[str], np.ndarray]:
    """The union of both sides' ids (BM25's order, then the embedding side's others) and their
    feature rows, columns in FEATURES order. ``coverage``: id -> (share of the query's terms in
    its text, share in the names it defines) (Bm25Store.coverage; absent: 0, 0)."""
    lex = normalise(lexical)
    sem = normalise(semantic, min_similarity, 1.0)
    lex_rank = {uid: 1.0 / (1 + i) for i, (uid, _) in enumerate(lexical)}
    sem_rank = {uid: 1.0 / (1 + i) for i, (uid, _) in enumerate(semantic)}
    per_query = query_features(query, lexical, semantic, min_similarity)
    uids = list(dict.fromkeys([uid for uid, _ in lexical] + [uid for uid, _ in semantic]))
    rows = []
    for uid in uids:
        l, s = lex.get(uid, 0.0), sem.get(uid, 0.0)
        row = [l, s, lex_rank.get(uid, 0.0), sem_rank.get(uid, 0.0)]
        row += [float(uid in lex and uid in sem), *coverage.get(uid, (0.0, 0.0))]
        for name in QUERY_FEATURES:
            row += [l * per_query[name], s * per_query[name]]
        rows.append(row)
    return uids, np.array(rows, dtype=float).reshape(len(uids), len(FEATURES))


class LearnedFusion:
    """Ranks the union of both sides' candidates by ``features · weights``, a pairwise logistic
    model: sigmoid(score(a) - score(b)) is how likely a is the answer rather than b. A hit's score
    is exp(its score - the best's): the odds that it, rather than the best hit, is the answer (1
    for the best); the hits under ``floor`` of that are dropped, so a search shows fewer, better
    hits."""

    def __init__(self, weights: Mapping[str, float], floor: float, min_similarity: float):
        missing = set(FEATURES) - set(weights)
        unknown = set(weights) - set(FEATURES)
        if missing or unknown:
            raise ValueError(
                f"fusion weights do not fit the features: missing {sorted(missing)}, "
                f"unknown {sorted(unknown)}"
            )
        self.weights = np.array([float(weights[name]) for name in FEATURES])
        self.floor = float(floor)
        self.min_similarity = float(min_similarity)

    @classmethod
    def for_embedder(
        cls, model_id: str, min_similarity: float, path: Path | None = None
    ) -> LearnedFusion | None:
        """The fusion fitted on the embedder ``model_id``'s cosines (their spread is the model's
        own), looked up by its name (the part before the first "/"); None when there is none."""
        models = json.loads(Path(path or FUSION_MODELS).read_text())["models"]
        model = models.get(model_id.split("/", 1)[0])
        return None if model is None else cls(model["weights"], model["floor"], min_similarity)

    def with_floor(self, floor: float) -> LearnedFusion:
        return LearnedFusion(dict(zip(FEATURES, self.weights.tolist())), floor, self.min_similarity)

    def __call__(
        self,
        query: str,
        lexical: Ranking,
        semantic: Ranking,
        coverage: Mapping[str, Sequence[float]],
    ) -> Ranking:
        """(id, score) best first, score in (0, 1], the best hit's 1."""
        if not lexical and not semantic:
            return []
        uids, X = candidate_features(query, lexical, semantic, coverage, self.min_similarity)
        scores = X @ self.weights
        relative = np.exp(scores - scores.max())
        ranked = sorted(zip(uids, relative.tolist()), key=lambda pair: -pair[1])
        return relative_floor(ranked, self.floor)
