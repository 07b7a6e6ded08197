"""WorkspaceIndex end to end on tiny folders: scan, freshness, deletions, renames, recovery."""

import json
import os
import threading

import pytest
from test_index_support import FakeEmbedder, write_notebook

from jupyter_cursor.index import IndexLocked, WorkspaceIndex, fusion

HIT_KEYS = {
    *("path", "cell_id", "cell_index", "start_line", "end_line", "kind", "score", "text"),
    "matched",
}


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return root


def open_index(root, tmp_path, **kwargs):
    kwargs.setdefault("embedder", FakeEmbedder())
    index = WorkspaceIndex(root, tmp_path / "data", **kwargs)
    index.start()
    assert index.wait_idle(20)
    return index


def paths(hits):
    return [h["path"] for h in hits]


def test_hits_follow_the_contract_and_point_at_the_cell(root, tmp_path):
    nb = write_notebook(
        root / "sales.ipynb", ["# Load", "import pandas", "totals = orders.groupby('region').sum()"]
    )
    with open_index(root, tmp_path) as index:
        for mode in ("bm25", "embedding", "hybrid"):
            hits = index.search("groupby region", 5, mode)
            assert hits and set(hits[0]) == HIT_KEYS
            assert hits[0]["cell_id"] == nb.cells[2].id and hits[0]["cell_index"] == 2
            assert hits[0]["text"] == "totals = orders.groupby('region').sum()"


def test_identifiers_match_by_their_parts(root, tmp_path):
    (root / "util.py").write_text(
        "def loadTrainingData(path):\n    return path\n\n\ndef unrelated():\n    pass\n"
    )
    with open_index(root, tmp_path, embeddings=False) as index:
        assert index.search("training data", 1, "bm25")[0]["text"].startswith(
            "def loadTrainingData"
        )


def test_bm25_finds_identifiers_whole_and_split(root, tmp_path):
    write_notebook(
        root / "clean.ipynb",
        ["df = df.dropna()", "rows = drop_na(rows)", "df.plot()", "totals = df.sum()"],
    )
    with open_index(root, tmp_path, embeddings=False) as index:
        (hit,) = index.search("dropna", 5, "bm25")
        assert hit["cell_index"] == 0 and hit["matched"] == ["dropna"]
        hits = index.search("drop na", 5, "bm25")
        assert hits[0]["cell_index"] == 1 and hits[0]["matched"] == ["drop_na"]
        assert index.search("drop_na", 5, "bm25")[0]["cell_index"] == 1


def test_bm25_ranks_as_whooshs_union_matcher_over_segments_and_deletions(tmp_path):
    """The store scores each term's postings itself, with NumPy (bm25.py, for speed): the same
    hits, the same scores as Whoosh's own search of the query, across segments and deletions."""
    from whoosh.query import Or, Term

    from jupyter_cursor.index.analyzer import code_analyzer, query_terms
    from jupyter_cursor.index.bm25 import CONTEXT_BOOST, Bm25Store

    store = Bm25Store(tmp_path / "bm25")
    words = ["frame", "drop", "plot", "mean", "group", "merge", "read", "csv", "axis", "sum"]
    for segment in range(3):
        for i in range(120):
            n = segment * 120 + i
            text = " ".join(words[(n * k) % len(words)] for k in range(1, 2 + n % 7))
            store.add(f"u{n}", f"nb{n % 5}.ipynb", f"df_{n} = {text}", f"# {words[n % 10]}")
        store.commit()
    for n in range(0, 360, 11):
        store.delete(f"u{n}")
    store.commit()
    for query in ("drop frame", "group merge csv read", "plot", "axis sum mean frame drop"):
        terms = query_terms(code_analyzer(), query)  # stemmed as the store does
        union = Or(
            [Term("body", t) for t in terms]
            + [Term("context", t, boost=CONTEXT_BOOST) for t in terms]
        )
        union.matcher_type = Or.DEFAULT_MATCHER
        every = {h["uid"]: h.score for h in store._searcher.search(union, limit=None)}
        got = store.search(query, 40)
        # the same scores for the same documents, and the best 40 of them (ties in any order)
        assert len(got) == 40 and all(every[uid] == pytest.approx(score) for uid, score in got)
        assert [s for _, s in got] == pytest.approx(sorted(every.values(), reverse=True)[:40])
        assert not {uid for uid, _ in got} & {f"u{n}" for n in range(0, 360, 11)}
    store.close()


def test_bm25_postings_kept_in_memory_follow_commits_deletions_and_a_clear(tmp_path, monkeypatch):
    from jupyter_cursor.index import bm25
    from jupyter_cursor.index.bm25 import Bm25Store

    store = Bm25Store(tmp_path / "bm25")
    assert store.search("frame", 5) == []  # no documents yet
    store.add("a", "a.ipynb", "frame = load()", "")
    store.commit()
    assert [uid for uid, _ in store.search("frame", 5)] == ["a"]  # now kept
    store.add("b", "b.ipynb", "frame.plot()", "")
    store.delete("a")
    store.commit()
    assert [uid for uid, _ in store.search("frame", 5)] == ["b"]
    store.clear()
    assert store.search("frame", 5) == [] and not store._cache and not store._cached
    store.add("c", "c.ipynb", "other", "# frame")
    store.commit()
    assert [uid for uid, _ in store.search("frame", 5)] == ["c"]
    # over the bound, the oldest are dropped
    monkeypatch.setattr(bm25, "CACHED_POSTINGS", bm25.TERM_COST + 1)
    assert [uid for uid, _ in store.search("other frame", 5)] == ["c"]
    assert store._cached == bm25.TERM_COST + 1 and len(store._cache) == 1  # 1 posting
    store.close()


def test_each_matched_explanation_is_followed_by_the_code_it_introduces(root, tmp_path):
    write_notebook(
        root / "clean.ipynb",
        [
            "# Cleaning the survey",
            "# Rows with missing values are dropped before fitting.",
            "clean = frame.dropna()",
            "# Missing values per column: the missing values show which rows go missing.",
            "counts = frame.isna().sum()",
            "# Plot missing values by region",
            "frame.plot()",
        ],
    )
    with open_index(root, tmp_path, embeddings=False) as index:
        hits = index.search("missing values rows", 10, "bm25")
        # BM25's own order is 3, 1, 5, 4, 2, 6: each code cell's context carries its prose at
        # half weight, so every explanation outranks every code cell
        assert [(h["cell_index"], h["kind"]) for h in hits] == [
            (3, "markdown"),
            (4, "code"),
            (1, "markdown"),
            (2, "code"),
            (5, "markdown"),
            (6, "code"),
        ]
        # k cuts after the move: the best explanation and its code
        assert [h["cell_index"] for h in index.search("missing values rows", 2, "bm25")] == [3, 4]


def test_a_chunker_or_schema_change_rebuilds_the_index_rather_than_mixing(
    root, tmp_path, monkeypatch
):
    from jupyter_cursor.index import store

    write_notebook(root / "a.ipynb", ["# Cleaning", "df = df.dropna()"])
    # an index as the previous chunker made it: no context in the embedded text
    monkeypatch.setattr(store, "CHUNKER_VERSION", 1)
    old = FakeEmbedder()
    with open_index(root, tmp_path, embedder=old):
        pass
    monkeypatch.undo()
    new = FakeEmbedder()
    with open_index(root, tmp_path, embedder=new) as index:
        assert "rebuilt" in index.status()["note"]
        assert new.embedded == 2  # every chunk embedded again, none kept from the old index
    # the layout's version names the folder: an older schema's index is never opened
    assert store.index_dir_for(root, tmp_path / "data").parent.name == f"v{store.SCHEMA_VERSION}"


def test_skips_hidden_ignored_binary_large_and_escaping_symlinks(root, tmp_path):
    (root / ".hidden").mkdir()
    (root / ".hidden" / "a.py").write_text("needle = 1")
    (root / ".secret.py").write_text("needle = 2")
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "build").mkdir()
    (root / "build" / "b.py").write_text("needle = 3")
    (root / "run.log").write_text("needle 4")
    (root / "sub").mkdir()
    (root / "sub" / ".gitignore").write_text("local.txt\n")
    (root / "sub" / "local.txt").write_text("needle 5")
    (root / "blob.bin").write_bytes(b"needle\0\1\2")
    (root / "big.txt").write_text("needle " * 1000)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.py").write_text("needle = 6")
    os.symlink(outside, root / "linkdir")
    os.symlink(outside / "o.py", root / "link.py")
    (root / "kept.py").write_text("needle = 7")
    with open_index(root, tmp_path, embeddings=False, max_file_bytes=4000) as index:
        assert paths(index.search("needle", 20, "bm25")) == ["kept.py"]
        skipped = {s["path"]: s["reason"] for s in index.status()["skipped"]}
        assert set(skipped) == {"blob.bin", "big.txt", "link.py"}
        # A save notification cannot smuggle in what the scan excludes, nor leave the root.
        for path in ("build/b.py", ".secret.py", "../outside/o.py", "linkdir/o.py"):
            index.notify_saved(path)
        assert index.wait_idle(10)
        assert paths(index.search("needle", 20, "bm25")) == ["kept.py"]


def test_saves_deletions_and_renames_are_reflected(root, tmp_path):
    write_notebook(root / "a.ipynb", ["alphavalue = 1"])
    with open_index(root, tmp_path) as index:
        write_notebook(root / "a.ipynb", ["betavalue = 2"])
        index.notify_saved("/a.ipynb")
        assert index.wait_idle(10)
        assert index.search("alphavalue", 5, "bm25") == []
        assert paths(index.search("betavalue", 5, "bm25")) == ["a.ipynb"]

        (root / "dir").mkdir()
        os.rename(root / "a.ipynb", root / "dir" / "b.ipynb")
        index.notify_renamed("a.ipynb", "dir/b.ipynb")
        assert index.wait_idle(10)
        for mode in ("bm25", "hybrid", "embedding"):
            assert paths(index.search("betavalue", 5, mode)) == ["dir/b.ipynb"]

        os.rename(root / "dir", root / "moved")  # a folder rename
        index.notify_renamed("dir", "moved")
        assert index.wait_idle(10)
        assert paths(index.search("betavalue", 5, "bm25")) == ["moved/b.ipynb"]

        (root / "moved" / "b.ipynb").unlink()
        index.notify_deleted("moved/b.ipynb")
        assert index.wait_idle(10)
        assert index.search("betavalue", 5, "hybrid") == []
        assert index.status()["files"] == 0 and index.status()["chunks"] == 0


def test_only_changed_chunks_are_embedded_again(root, tmp_path):
    embedder = FakeEmbedder()
    write_notebook(root / "a.ipynb", [f"cell_{i} = {i}" for i in range(20)])
    with open_index(root, tmp_path, embedder=embedder) as index:
        assert embedder.embedded == 20
        sources = [f"cell_{i} = {i}" for i in range(20)]
        sources.insert(5, "inserted = True")  # shifts the index of every later cell
        write_notebook(root / "a.ipynb", sources)
        index.notify_saved("a.ipynb")
        assert index.wait_idle(10)
        assert embedder.embedded == 21
        hit = index.search("cell_19", 1, "bm25")[0]
        assert hit["cell_index"] == 20  # metadata of unchanged chunks follows the file
        os.rename(root / "a.ipynb", root / "b.ipynb")
        index.notify_renamed("a.ipynb", "b.ipynb")
        assert index.wait_idle(10)
        assert embedder.embedded == 21  # a rename reuses every vector


def test_restored_content_reuses_its_stored_vector(root, tmp_path):
    embedder = FakeEmbedder()
    write_notebook(root / "a.ipynb", ["glaciermelt = 1"])
    with open_index(root, tmp_path, embedder=embedder) as index:
        (root / "a.ipynb").unlink()
        index.notify_deleted("a.ipynb")
        assert index.wait_idle(10)
        write_notebook(root / "a.ipynb", ["glaciermelt = 1"])
        index.notify_saved("a.ipynb")
        assert index.wait_idle(10)
        assert embedder.embedded == 1
        assert [h["path"] for h in index.search("glaciermelt", 5, "embedding")] == ["a.ipynb"]
        assert index.status()["embedded_chunks"] == 1


def test_restart_resumes_embedding_and_skips_unchanged_files(root, tmp_path):
    write_notebook(root / "a.ipynb", [f"value_{i} = {i}" for i in range(150)])
    embedder = FakeEmbedder()
    embedder.gate.clear()  # hold the worker: close before it embeds everything
    index = WorkspaceIndex(root, tmp_path / "data", embedder=embedder)
    index.start()
    assert index.wait_idle(10, embeddings=False)
    threading.Timer(0.05, embedder.gate.set).start()
    index.close()
    first = embedder.embedded
    assert first < 150

    second = FakeEmbedder()
    with open_index(root, tmp_path, embedder=second) as again:
        assert second.embedded == 150 - first  # resumed, not restarted
        status = again.status()
        assert status["embedded_chunks"] == status["chunks"] == 150 and status["state"] == "ready"


def test_search_works_on_bm25_while_embeddings_are_computed(root, tmp_path):
    write_notebook(root / "a.ipynb", ["rainfall_total = rain.sum()"])
    embedder = FakeEmbedder()
    embedder.gate.clear()
    index = WorkspaceIndex(root, tmp_path / "data", embedder=embedder)
    index.start()
    try:
        assert index.wait_idle(10, embeddings=False)
        assert not index.wait_idle(0.2)
        status = index.status()
        assert status["state"] == "indexing" and status["modes"] == ["bm25"]
        assert paths(index.search("rainfall", 5, "hybrid")) == ["a.ipynb"]
        assert 0 < status["progress"] < 1
    finally:
        embedder.gate.set()
        index.close()


def test_corrupt_notebooks_are_skipped_and_listed(root, tmp_path, caplog):
    (root / "bad.ipynb").write_text("{ this is not json")
    write_notebook(root / "good.ipynb", ["fine = 1"])
    with open_index(root, tmp_path) as index:
        status = index.status()
        assert [c["path"] for c in status["corrupt"]] == ["bad.ipynb"]
        assert status["files"] == 1 and status["state"] == "ready"
        assert "bad.ipynb" in caplog.text
        write_notebook(root / "bad.ipynb", ["repaired_now = 1"])
        index.notify_saved("bad.ipynb")
        assert index.wait_idle(10)
        assert index.status()["corrupt"] == []
        assert paths(index.search("repaired_now", 5, "bm25")) == ["bad.ipynb"]


def test_a_corrupt_notebook_is_warned_about_once_per_version(root, tmp_path, caplog):
    caplog.set_level("WARNING", logger="jupyter_cursor.index")
    (root / "bad.ipynb").write_text("{ this is not json")
    write_notebook(root / "good.ipynb", ["fine = 1"])

    def warnings():
        return [
            r for r in caplog.records if r.levelname == "WARNING" and "bad.ipynb" in r.getMessage()
        ]

    with open_index(root, tmp_path) as index:
        assert len(warnings()) == 1
        for _ in range(4):  # the server rescans every two minutes: unchanged, no new warning
            index.rescan()
            assert index.wait_idle(10)
        os.utime(root / "bad.ipynb", ns=(1, 1))  # touched, same bytes: the same version
        index.notify_saved("bad.ipynb")
        assert index.wait_idle(10)
        assert len(warnings()) == 1
        assert [c["path"] for c in index.status()["corrupt"]] == ["bad.ipynb"]

        (root / "bad.ipynb").write_text("{ still not json, but another version")
        for _ in range(3):
            index.rescan()
            assert index.wait_idle(10)
        assert len(warnings()) == 2
        assert [c["path"] for c in index.status()["corrupt"]] == ["bad.ipynb"]
        assert paths(index.search("fine", 5, "bm25")) == ["good.ipynb"]


def test_notebook_versions_and_unicode(root, tmp_path):
    write_notebook(root / "new.ipynb", ["température_moyenne = 21  # 平均"], with_ids=True)
    write_notebook(root / "old.ipynb", ["température_max = 30"], with_ids=False)
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": "température_min = 2",
                        "outputs": [],
                        "metadata": {},
                        "language": "python",
                    }
                ]
            }
        ],
    }
    (root / "v3.ipynb").write_text(json.dumps(v3), encoding="utf-8")
    with open_index(root, tmp_path) as index:
        hits = {h["path"]: h for h in index.search("température", 10, "bm25")}
        assert set(hits) == {"new.ipynb", "old.ipynb", "v3.ipynb"}
        assert hits["new.ipynb"]["cell_id"] and hits["old.ipynb"]["cell_id"] is None
        assert paths(index.search("平均", 5, "bm25")) == ["new.ipynb"]


FRUITS = ["apple", "banana", "cherry", "damson"]
NUMBERS = ["zero", "one", "two", "three", "four", "five"]


def test_concurrent_saves_and_searches(root, tmp_path):
    for n in range(4):
        write_notebook(root / f"nb{n}.ipynb", [f"{FRUITS[n]}zero = 0"])
    with open_index(root, tmp_path) as index:
        errors = []

        def saver(n):
            try:
                for v in range(1, 6):
                    write_notebook(root / f"nb{n}.ipynb", [f"{FRUITS[n]}{NUMBERS[v]} = {v}"])
                    index.notify_saved(f"nb{n}.ipynb")
                    index.search(f"{FRUITS[n]}{NUMBERS[v]}", 5, "hybrid")
            except Exception as err:  # noqa: BLE001
                errors.append(err)

        threads = [threading.Thread(target=saver, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert index.wait_idle(20)
        for n in range(4):
            assert paths(index.search(f"{FRUITS[n]}five", 5, "bm25")) == [f"nb{n}.ipynb"]
            assert index.search(f"{FRUITS[n]}four", 5, "bm25") == []
        assert index.status()["chunks"] == 4


def test_files_changed_while_closed_are_picked_up_at_start(root, tmp_path):
    write_notebook(root / "a.ipynb", ["firstvalue = 1"])
    write_notebook(root / "gone.ipynb", ["vanishing = 1"])
    open_index(root, tmp_path).close()
    write_notebook(root / "a.ipynb", ["secondvalue = 2"])
    (root / "gone.ipynb").unlink()
    with open_index(root, tmp_path) as index:
        assert paths(index.search("secondvalue", 5, "bm25")) == ["a.ipynb"]
        assert (
            index.search("firstvalue", 5, "bm25") == []
            and index.search("vanishing", 5, "bm25") == []
        )


@pytest.mark.parametrize("damage", ["catalog", "bm25"])
def test_a_damaged_index_is_rebuilt_not_fatal(root, tmp_path, damage):
    write_notebook(root / "a.ipynb", ["survivor = 1"])
    first = open_index(root, tmp_path)
    directory = first.index_dir
    first.close()
    if damage == "catalog":
        (directory / "catalog.sqlite").write_bytes(b"garbage" * 1000)
        for extra in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
            (directory / extra).unlink(missing_ok=True)
    else:
        for f in (directory / "bm25").iterdir():
            f.write_bytes(b"garbage")
    with open_index(root, tmp_path) as index:
        assert index.status()["state"] == "ready"
        assert paths(index.search("survivor", 5, "bm25")) == ["a.ipynb"]
        assert index.status()["note"]


def test_a_model_change_recomputes_the_vectors(root, tmp_path):
    write_notebook(root / "a.ipynb", ["x = 1", "y = 2"])
    open_index(root, tmp_path).close()
    other = FakeEmbedder()
    other.model_id = "fake-bow/2"
    with open_index(root, tmp_path, embedder=other) as index:
        assert other.embedded == 2
        assert "model" in index.status()["note"]


def test_a_second_writer_process_is_refused(root, tmp_path):
    with open_index(root, tmp_path):
        with pytest.raises(IndexLocked):
            # flock is per open file description: a second one in this process stands in for
            # a second process.
            WorkspaceIndex(root, tmp_path / "data", embeddings=False).start()


def test_bad_requests_raise_value_error(root, tmp_path):
    with open_index(root, tmp_path, embeddings=False) as index:
        with pytest.raises(ValueError):
            index.search("x", 0)
        with pytest.raises(ValueError):
            index.search("x", 10, "fuzzy")
        assert index.search("   ", 10) == []


def test_on_change_reports_progress_to_ready(root, tmp_path):
    write_notebook(root / "a.ipynb", ["a = 1"])
    seen = []
    with open_index(root, tmp_path, on_change=seen.append) as index:
        assert index.wait_idle(10)
    assert seen[0]["state"] == "indexing" and any(s["state"] == "ready" for s in seen)


def test_chunks_are_embedded_shortest_first_after_the_files_just_saved(tmp_path):
    from jupyter_cursor.index.catalog import Catalog
    from jupyter_cursor.index.chunk import Chunk

    catalog = Catalog(tmp_path / "catalog.sqlite")
    lengths = {"a.py": [40, 5, 300], "b.py": [900, 20]}
    for path, sizes in lengths.items():
        chunks = [
            (f"{path}:{n}", Chunk(path, "code", "x" * size + str(n), 1, 1))
            for n, size in enumerate(sizes)
        ]
        catalog.replace_file(path, (1, 1), path, None, chunks)
    todo = catalog.missing_vectors(10)
    assert [len(t.text) for t in todo] == [6, 21, 41, 301, 901]  # a batch of one length pads less
    saved_first = catalog.missing_vectors(10, first_paths=["b.py"])
    assert sorted(len(t.text) for t in saved_first[:2]) == [21, 901]
    assert [len(t.text) for t in saved_first[2:]] == [6, 41, 301]
    assert [len(t.text) for t in catalog.missing_vectors(2)] == [6, 21]
    catalog.close()


class LearnedFakeEmbedder(FakeEmbedder):
    """The fake embedder, with a fitted fusion of its own (a fusion file the test writes)."""

    model_id = "fake-learned/1"


def test_hybrid_search_fuses_with_the_embedders_learned_fusion(root, tmp_path, monkeypatch):
    write_notebook(
        root / "a.ipynb",
        [
            "rainfall = load('rain')",
            "rainfall_by_month = rainfall.groupby('month').mean()",
            "temperature = load('temp')",
        ],
    )
    weights = {name: 0.0 for name in fusion.FEATURES}
    models = tmp_path / "fusion.json"
    monkeypatch.setattr(fusion, "FUSION_MODELS", models)
    for top, weight in (("cov", 1.0), ("rs", 1.0)):
        models.write_text(
            json.dumps(
                {
                    "version": 1,
                    "models": {"fake-learned": {"weights": {**weights, top: weight}, "floor": 0.0}},
                }
            )
        )
        with open_index(root, tmp_path, embedder=LearnedFakeEmbedder()) as index:
            lexical, semantic, rows, coverage = index.candidates("rainfall month mean")
            assert set(rows) == {uid for uid, _ in lexical + semantic}
            # the share of the query's three terms that each cell's words hold, and that the
            # names it defines hold ("rainfall", "rainfall_by_month", "temperature")
            by_cell = {rows[uid].cell_index: share for uid, share in coverage.items()}
            assert by_cell == {
                0: pytest.approx((1 / 3, 1 / 3)),
                1: pytest.approx((1.0, 2 / 3)),
                2: pytest.approx((0.0, 0.0)),
            }
            hits = index.search("rainfall month mean", 3, "hybrid")
            ranked = [h["cell_index"] for h in hits]
            if top == "cov":
                assert ranked[:2] == [1, 0] and hits[0]["score"] == 1.0
            else:  # the embedding side's order
                by_cosine = [rows[uid].cell_index for uid, _ in semantic]
                assert ranked == by_cosine[:3]
    # the fake embedder without a fitted fusion falls back on convex fusion
    with open_index(root, tmp_path) as index:
        assert index._fusion is None
        assert [h["cell_index"] for h in index.search("rainfall month mean", 3, "hybrid")][0] == 1


def test_unusable_fusion_weights_fall_back_on_convex_fusion(root, tmp_path, monkeypatch, caplog):
    write_notebook(root / "a.ipynb", ["rainfall = load('rain')", "temperature = load('temp')"])
    models = tmp_path / "fusion.json"
    monkeypatch.setattr(fusion, "FUSION_MODELS", models)
    stale = {"version": 1, "models": {"fake-learned": {"weights": {"l": 1.0}, "floor": 0.0}}}
    for broken in ("{not json", json.dumps(stale)):
        models.write_text(broken)
        with caplog.at_level("WARNING", logger="jupyter_cursor.index"):
            with open_index(root, tmp_path, embedder=LearnedFakeEmbedder()) as index:
                assert index._fusion is None
                assert index.search("rainfall", 3, "hybrid")[0]["cell_index"] == 0
        assert "hybrid search uses convex fusion" in caplog.text
        caplog.clear()


def test_hybrid_fuses_each_sides_best_fifty_whatever_k_asks_for(root, tmp_path, monkeypatch):
    # 70 cells that use "reading" often, then 30 that define a "reading_<n>" name once: BM25
    # ranks the users first, and a fusion that prizes definitions would lift the definers from
    # ranks 71-100 into the top ten if k = 100 made the candidates deeper.
    users = [f"print(reading, reading, reading, {i})" for i in range(70)]
    definers = [f"reading_{i} = sensor.read({i}) + offset * scale - drift" for i in range(30)]
    write_notebook(root / "a.ipynb", users + definers)
    models = tmp_path / "fusion.json"
    monkeypatch.setattr(fusion, "FUSION_MODELS", models)
    weights = {name: 0.0 for name in fusion.FEATURES} | {"names": 5.0, "l": 1.0}
    models.write_text(
        json.dumps({"version": 1, "models": {"fake-learned": {"weights": weights, "floor": 0.0}}})
    )
    with open_index(root, tmp_path, embedder=LearnedFakeEmbedder()) as index:
        lexical, _, _, _ = index.candidates("reading", 100)
        assert len(lexical) == 100
        few = index.search("reading", 10, "hybrid")
        many = index.search("reading", 100, "hybrid")
        assert [h["cell_index"] for h in many[:10]] == [h["cell_index"] for h in few]
