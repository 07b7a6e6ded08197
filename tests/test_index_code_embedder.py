"""The shipped code-search embedding model (models/embedder/README.md): it loads from the package,
finds a function from what its docstring would say, and switching models re-embeds the index."""

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from test_index_support import FakeEmbedder, write_notebook

import jupyter_cursor
from jupyter_cursor.index import WorkspaceIndex
from jupyter_cursor.index.embedder import (
    CODE_MODEL_DELTA,
    CODE_MODEL_DIR,
    EMBEDDING_MODELS,
    CodeMiniLMEmbedder,
    MiniLMEmbedder,
    make_embedder,
)

pytest.importorskip("sentence_transformers")

FUNCTIONS = {
    "load": "load_table\ndef load_table(path):\n    df = pd.read_csv(path)\n    return df.dropna()",
    "plot": "plot_ages\ndef plot_ages(df):\n    df['age'].hist(bins=30)\n    plt.show()",
    "db": "connect\ndef connect(url):\n    engine = create_engine(url)\n    return engine.connect()",
    "retry": "retry\ndef retry(fn, n=3):\n    for i in range(n):\n        try:\n"
    "            return fn()\n        except OSError:\n            time.sleep(2 ** i)\n    raise",
}
QUERIES = {
    "read a spreadsheet file from disk and remove incomplete rows": "load",
    "draw a histogram of how old the people are": "plot",
    "open a connection to the SQL database": "db",
    "call a function again with exponential backoff when it fails": "retry",
}


@pytest.fixture(scope="module")
def code():
    return CodeMiniLMEmbedder()


def test_the_shipped_model_loads_from_the_package(code):
    package = Path(jupyter_cursor.__file__).resolve().parent
    assert CODE_MODEL_DELTA.is_relative_to(package)
    # the fine-tune ships as its 6-bit difference from the stock weights, not as 45 MB of fp16
    assert {p.name for p in CODE_MODEL_DIR.rglob("*") if p.is_file()} == {"delta.npz", "README.md"}
    assert CODE_MODEL_DELTA.stat().st_size < 20e6
    vectors = code.encode(["import numpy as np", "a much longer text " * 40])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # the delta was applied: the same text lands elsewhere than under the stock model
    stock = MiniLMEmbedder().encode(["import numpy as np"])
    assert float(vectors[0] @ stock[0]) < 0.999


def test_models_are_selectable_by_name_with_their_own_ids():
    assert set(EMBEDDING_MODELS) == {"code", "stock"}
    code, stock = make_embedder("code"), make_embedder("stock")
    assert isinstance(code, CodeMiniLMEmbedder) and type(stock) is MiniLMEmbedder
    assert code.model_id != stock.model_id
    with pytest.raises(ValueError):
        make_embedder("bert")


def test_a_docstring_like_query_finds_its_function(code):
    names = list(FUNCTIONS)
    docs = code.encode([FUNCTIONS[n] for n in names])
    queries = code.encode(list(QUERIES))
    best = [names[i] for i in (queries @ docs.T).argmax(axis=1)]
    assert best == list(QUERIES.values())


def _stored(data: Path, root: Path):
    index_dir = WorkspaceIndex(root, data, embeddings=False).index_dir
    db = sqlite3.connect(f"file:{index_dir / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        (model,) = db.execute("SELECT value FROM meta WHERE key = 'model'").fetchone()
        rows = db.execute(
            "SELECT c.context, c.text, v.vector FROM chunks c JOIN vectors v ON v.hash = c.hash"
        ).fetchall()
        (chunks,) = db.execute("SELECT count(*) FROM chunks").fetchone()
    finally:
        db.close()
    return model, rows, chunks


def test_switching_the_model_re_embeds_every_chunk(tmp_path, code):
    root, data = tmp_path / "root", tmp_path / "data"
    write_notebook(root / "a.ipynb", ["# Load the data", FUNCTIONS["load"], FUNCTIONS["plot"]])
    (root / "b.py").write_text(FUNCTIONS["db"] + "\n\n\n" + FUNCTIONS["retry"] + "\n")
    old = FakeEmbedder()  # an index built by another model (its vectors: 64-d, unrelated)
    old.model_id = MiniLMEmbedder().model_id
    with WorkspaceIndex(root, data, embedder=old) as index:
        assert index.wait_idle(30)
    assert old.embedded > 0

    class Counting(CodeMiniLMEmbedder):
        embedded = 0

        def encode(self, texts):
            self.embedded += len(texts)
            return super().encode(texts)

    new = Counting()
    new._model = code.load()  # the module's model: loading it again costs seconds
    with WorkspaceIndex(root, data, embedder=new) as index:
        assert index.wait_idle(60)
        embedded = new.embedded
        assert "model" in index.status()["note"]
        hits = index.search(list(QUERIES)[-1], 1, "embedding")
        assert hits and "def retry" in hits[0]["text"]
    model, rows, chunks = _stored(data, root)
    assert model == code.model_id != old.model_id
    assert embedded == old.embedded == chunks == len(rows)
    # every stored vector is the new model's (float16 in the store), none left from the old one
    stored = np.stack([np.frombuffer(v, dtype=np.float16).astype(np.float32) for *_, v in rows])
    fresh = code.encode([f"{c}\n{t}" if c else t for c, t, _ in rows])
    assert stored.shape == fresh.shape == (chunks, 384)
    assert float(np.min(np.sum(stored * fresh, axis=1))) > 0.999


@pytest.fixture
def jp_server_config():
    from server_support import server_config

    return server_config(
        index_embeddings=True, index_embedding_model="stock", index_embedding_bf16=False
    )


async def test_the_server_option_picks_the_model(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_cursor"]
    assert app.index.embedder.model_id == MiniLMEmbedder().model_id
    assert app.index.embedder.min_similarity == MiniLMEmbedder.min_similarity
    assert app.index.embedder.bf16 is False  # forced fp32, whatever the CPU
