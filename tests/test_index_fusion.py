"""Fusion of the BM25 and embedding rankings (the learned one and the baselines), the relative
floor, and the vector search behind the embedding side."""

import json

import numpy as np
import pytest

from jupyter_cursor.index.embedder import EMBEDDING_MODELS
from jupyter_cursor.index.fusion import (
    FEATURES,
    LearnedFusion,
    candidate_features,
    convex_fusion,
    normalise,
    query_features,
    reciprocal_rank_fusion,
    relative_floor,
)


def ids(ranked):
    return [uid for uid, _ in ranked]


def test_normalise_maps_each_list_to_zero_one():
    assert normalise([("a", 12.0), ("b", 6.0), ("c", 0.0)]) == {"a": 1.0, "b": 0.5, "c": 0.0}
    # cosines between the embedder's floor and 1: a weak best hit stays weak
    assert normalise([("a", 0.5), ("b", 0.2)], 0.25, 1.0) == {"a": 1 / 3, "b": 0.0}
    assert normalise([]) == {}


def test_a_hit_strong_on_one_side_is_not_lost():
    # BM25 is sure of "exact" (far ahead of its other hits); embeddings never saw it. Reciprocal
    # rank fusion puts the three chunks both sides find middling first; scores keep "exact" up.
    lexical = [("exact", 30.0), ("m1", 6.0), ("m2", 5.5), ("m3", 5.0)]
    semantic = [("m1", 0.42), ("m2", 0.41), ("m3", 0.40), ("s1", 0.39)]
    assert ids(reciprocal_rank_fusion([ids(lexical), ids(semantic)])).index("exact") == 3
    assert (
        ids(convex_fusion(lexical, semantic, bm25_weight=0.5, floor=0.0, min_similarity=0.25))[0]
        == "exact"
    )
    # and a chunk only the embeddings are sure of, against a BM25 list of weak partial matches
    semantic = [("meaning", 0.9), ("m1", 0.3), ("m2", 0.29)]
    lexical = [("m1", 6.0), ("m2", 3.0), ("l1", 2.0)]
    assert ids(reciprocal_rank_fusion([ids(lexical), ids(semantic)]))[0] == "m1"
    assert ids(convex_fusion(lexical, semantic, min_similarity=0.25))[0] == "meaning"


def test_one_side_empty_gives_the_other_sides_order():
    lexical = [("a", 3.0), ("b", 2.0), ("c", 1.0)]
    assert ids(convex_fusion(lexical, [], floor=0.0)) == ["a", "b", "c"]
    assert ids(convex_fusion([], lexical, floor=0.0)) == ["a", "b", "c"]
    assert convex_fusion([], []) == []


def test_the_floor_drops_the_weak_tail():
    lexical = [("a", 10.0), ("b", 9.0), ("c", 1.2), ("d", 1.0)]
    semantic = [("a", 0.8), ("b", 0.7), ("c", 0.3), ("d", 0.29)]
    everything = convex_fusion(lexical, semantic, bm25_weight=0.5, floor=0.0, min_similarity=0.25)
    kept = convex_fusion(lexical, semantic, bm25_weight=0.5, floor=0.5, min_similarity=0.25)
    assert ids(everything) == ["a", "b", "c", "d"]
    assert ids(kept) == ["a", "b"]
    assert relative_floor([("x", 2.0), ("y", 1.0), ("z", 0.9)], 0.5) == [("x", 2.0), ("y", 1.0)]
    assert relative_floor([], 0.5) == []


def test_vector_search_ranks_by_cosine_on_one_blas_thread_and_restores_the_process_setting():
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    from jupyter_cursor.index.vectors import VectorStore

    def blas_threads():
        return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    rng = np.random.default_rng(0)
    store = VectorStore(16)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.set_chunks({f"u{i}": f"h{i}" for i in range(300)})
    store.add_vectors({f"h{i}": v for i, v in enumerate(vectors)})
    before = blas_threads()
    query = vectors[7]
    expected = np.argsort(-(vectors @ query))[:5]
    # searches from several threads at once (the server's) leave the process's BLAS as it was
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: store.search(query, 5), range(40)))
    assert all(r == results[0] for r in results)
    assert [uid for uid, _ in results[0]] == [f"u{i}" for i in expected]
    assert results[0][0][1] == pytest.approx(1.0, abs=1e-5)
    assert blas_threads() == before


def test_vector_coverage_follows_every_change_of_chunks_and_vectors():
    from jupyter_cursor.index.vectors import VectorStore

    store = VectorStore(2)
    one = np.array([1.0, 0.0], np.float32)
    store.set_chunks({"a": "h1", "b": "h2", "c": "h1"})
    assert store.coverage() == (0, 3)
    store.add_vectors({"h1": one})
    assert store.coverage() == (2, 3)  # two chunks share the content h1
    store.update_chunks(["c"], {"d": "h3"})
    assert store.coverage() == (1, 3)
    store.add_vectors({"h2": one, "h3": one})
    assert store.coverage() == (3, 3)
    store.set_chunks({"e": "h4"})
    store.forget_unused()
    assert store.coverage() == (0, 1)


def test_a_matched_markdown_cell_brings_the_code_cell_below_it_up_to_just_after_it():
    from jupyter_cursor.index.catalog import HitRow
    from jupyter_cursor.index.fusion import explanation_then_code

    def row(path, index, kind, start=0):
        return HitRow(f"{path}:{index}:{start}", path, f"c{index}", index, start, start, kind, "")

    ranked = [
        (row("a.ipynb", 3, "markdown"), 0.9),
        (row("a.ipynb", 7, "code"), 0.8),
        (row("b.ipynb", 4, "code"), 0.7),  # index 4 of another notebook: not a.ipynb's
        (row("a.ipynb", 4, "code"), 0.6),  # the code below the markdown: moves up
        (row("a.ipynb", 4, "code", 40), 0.5),  # its second window stays where it ranked
        (row("a.ipynb", 8, "markdown"), 0.4),  # the cell below is a markdown one: stays
        (row("a.ipynb", 9, "markdown"), 0.3),
        (row("a.py", None, "python"), 0.2),
        (row("a.ipynb", 5, "code"), 0.1),  # below a code cell: stays
    ]
    moved = explanation_then_code(ranked)
    assert [(r.path, r.cell_index, r.start_line) for r, _ in moved] == [
        ("a.ipynb", 3, 0),
        ("a.ipynb", 4, 0),
        ("a.ipynb", 7, 0),
        ("b.ipynb", 4, 0),
        ("a.ipynb", 4, 40),
        ("a.ipynb", 8, 0),
        ("a.ipynb", 9, 0),
        ("a.py", None, 0),
        ("a.ipynb", 5, 0),
    ]
    assert sorted(s for _, s in moved) == sorted(s for _, s in ranked)  # scores unchanged
    # a code cell that ranked above its prose is left there
    assert explanation_then_code([ranked[3], ranked[0]]) == [ranked[3], ranked[0]]


# -- the learned fusion --------------------------------------------------------------------------


def only(**weights):
    """Fusion weights: these, every other feature 0."""
    return {name: weights.get(name, 0.0) for name in FEATURES}


def test_learned_fusion_ranks_the_union_by_its_weights():
    lexical = [("a", 9.0), ("b", 3.0)]
    semantic = [("c", 0.9), ("b", 0.8), ("d", 0.4)]
    # (share of the query's terms in the text, in the names the chunk defines)
    coverage = {"a": (0.5, 0.0), "b": (1.0, 0.0), "d": (0.25, 0.5)}
    by = lambda **w: ids(LearnedFusion(only(**w), 0.0, 0.3)("q", lexical, semantic, coverage))  # noqa: E731
    assert by(l=1.0) == ["a", "b", "c", "d"]  # BM25's order, then the rest (ties: first seen)
    assert by(s=1.0)[:3] == ["c", "b", "d"]
    assert by(both=1.0)[0] == "b"
    assert by(cov=1.0) == ["b", "a", "d", "c"]
    assert by(names=1.0)[0] == "d"
    # a query feature moves a side's weight: here the embeddings' best is far ahead of its second
    assert by(**{"s*sem_gap": 1.0, "l": 0.01})[0] == "c"


def test_learned_fusion_scores_are_odds_against_the_best_and_the_floor_drops_the_tail():
    lexical = [("a", 9.0), ("b", 8.0), ("c", 1.0)]
    fused = LearnedFusion(only(l=10.0), 0.0, 0.3)("q", lexical, [], {})
    assert fused[0] == ("a", 1.0)
    assert fused[1][1] == pytest.approx(np.exp(10 * (8 / 9 - 1)))
    kept = LearnedFusion(only(l=10.0), 0.2, 0.3)("q", lexical, [], {})
    assert ids(kept) == ["a", "b"]
    assert LearnedFusion(only(l=1.0), 0.2, 0.3)("q", [], [], {}) == []


def test_query_features_describe_how_sure_each_side_is():
    lexical = [("a", 10.0), ("b", 5.0)]
    semantic = [("a", 0.9), ("c", 0.5)]
    f = query_features("one two three", lexical, semantic, 0.3)
    assert f["qlen"] == pytest.approx(np.log(4))
    assert f["lex_gap"] == pytest.approx(0.5)
    assert f["sem_top"] == pytest.approx(6 / 7)
    assert f["sem_gap"] == pytest.approx(4 / 7)
    assert f["overlap10"] == pytest.approx(0.1)
    uids, rows = candidate_features("one two three", lexical, semantic, {"a": (1.0, 0.5)}, 0.3)
    assert uids == ["a", "b", "c"] and rows.shape == (3, len(FEATURES))
    a = dict(zip(FEATURES, rows[0]))
    assert (a["l"], a["rl"], a["rs"], a["both"], a["cov"], a["names"]) == (1, 1, 1, 1, 1, 0.5)
    assert a["s"] == pytest.approx(6 / 7)  # the cosine between the floor and 1
    assert a["s*sem_gap"] == pytest.approx(6 / 7 * 4 / 7)
    c = dict(zip(FEATURES, rows[2]))
    assert (c["l"], c["both"], c["cov"], c["names"], c["rs"]) == (0, 0, 0, 0, 0.5)


def test_weights_that_do_not_fit_the_features_are_refused(tmp_path):
    with pytest.raises(ValueError, match="missing"):
        LearnedFusion({"l": 1.0}, 0.1, 0.3)
    with pytest.raises(ValueError, match="unknown"):
        LearnedFusion({**only(l=1.0), "bogus": 1.0}, 0.1, 0.3)
    empty = tmp_path / "fusion.json"
    empty.write_text(json.dumps({"version": 1, "models": {}}))
    assert LearnedFusion.for_embedder("code-minilm-v1/fp32/128", 0.3, empty) is None


@pytest.mark.parametrize("name", sorted(EMBEDDING_MODELS))
def test_every_embedder_ships_a_fusion_that_puts_what_both_sides_are_sure_of_first(name):
    embedder = EMBEDDING_MODELS[name]
    fusion = LearnedFusion.for_embedder(f"{embedder.model_name}/fp32/128", embedder.min_similarity)
    assert fusion is not None and 0 < fusion.floor < 1
    lexical = [("sure", 12.0), ("lex", 7.0), ("both weak", 4.0)]
    semantic = [("sure", 0.8), ("sem", 0.6), ("both weak", 0.45)]
    coverage = {"sure": (1.0, 0.5), "lex": (0.6, 0.0), "both weak": (0.3, 0.0)}
    fused = fusion("read the csv file", lexical, semantic, coverage)
    assert ids(fused)[0] == "sure"
    # all else equal, a chunk that holds more of the query's terms in the names it defines (and
    # so in its words), or that both sides found, ranks higher
    weights = dict(zip(FEATURES, fusion.weights))
    assert weights["names"] > 0 and weights["cov"] + weights["names"] > 0 and weights["both"] > 0
