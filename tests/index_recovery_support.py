"""The kill -9 recovery scenario of the workspace index, shared by tests/test_index_recovery.py and
benchmarks/bench_index_recovery.py (a bigger run of it): a generated folder in which every file has
a word of its own, a child process that indexes it and is SIGKILLed in a chosen phase, and the
reopening of the index folder it leaves.

As a process, the child (started by ``run_child``)::

    python tests/index_recovery_support.py CONFIG_JSON

CONFIG_JSON: {root, data, embedder: none|fake|minilm, commit_seconds?, encode_delay?,
kill_on_commit?, watchdog?, interval?}. It prints one JSON status line every ``interval`` seconds
(0.005) until it is killed, or exits with status 3 after ``watchdog`` seconds (60). It polls
``status()``: the ``on_change`` callback fires only every 3 s during a scan, too seldom for a small
folder.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from test_index_support import FakeEmbedder, write_notebook

from jupyter_cursor.index import WorkspaceIndex

STATUS_KEYS = ("state", "files", "chunks", "embedded_chunks", "embeddings", "scan", "error")


# -- the child ----------------------------------------------------------------------------------------


def child_main(config: dict) -> None:
    """Index ``config["root"]``, printing the status, until killed (see the module's docstring)."""
    import threading

    import jupyter_cursor.index.workspace as workspace

    threading.Timer(config.get("watchdog", 60), os._exit, (3,)).start()  # never outlive the parent
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
    kwargs = {"embeddings": config["embedder"] != "none"}  # minilm: the index's own embedder
    if config["embedder"] == "fake":

        class SlowEmbedder(FakeEmbedder):
            def encode(self, texts):
                time.sleep(config.get("encode_delay", 0.05))
                return super().encode(texts)

        kwargs["embedder"] = SlowEmbedder()
    index = WorkspaceIndex(config["root"], config["data"], **kwargs)
    index.start()
    while True:
        status = index.status()
        print(json.dumps({k: status[k] for k in STATUS_KEYS}), flush=True)
        time.sleep(config.get("interval", 0.005))


def run_child(config: dict, phase=None) -> tuple[dict | None, float]:
    """Run the child; SIGKILL it on the first status for which ``phase(status)`` holds (None: it
    kills itself, ``kill_on_commit``). Returns (that status, or the last one; seconds the child
    ran). Raises RuntimeError when the child reports an error or was not killed in its phase."""
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, __file__, json.dumps(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = None
    try:
        for line in child.stdout:
            seen = json.loads(line)
            if seen["state"] == "error" or (phase is not None and phase(seen)):
                child.send_signal(signal.SIGKILL)
                break
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(30)
        stderr = child.stderr.read()
        child.stdout.close()
        child.stderr.close()
    in_phase = seen is not None and seen["state"] != "error" and (phase is None or phase(seen))
    if child.returncode != -signal.SIGKILL or not in_phase:
        raise RuntimeError(
            f"the child was not killed in its phase (rc {child.returncode}, "
            f"last status {seen}):\n{stderr[-3000:]}"
        )
    return seen, time.monotonic() - started


# -- the workspace --------------------------------------------------------------------------------------


def word(i: int, letters: int = 3) -> str:
    """A word of its own for file ``i`` (letters only, so the analyzer keeps it whole)."""
    text = ""
    for _ in range(letters):
        text += chr(97 + i % 26)
        i //= 26
    return "zorp" + text


def make_workspace(root: Path, count: int) -> dict[str, str]:
    """``count`` files, three notebooks to one .py file, some in folders; path -> its word."""
    letters = 3
    while 26**letters < count:
        letters += 1
    files = {}
    for i in range(count):
        w = word(i, letters)
        if i % 4 == 3:
            path = f"pkg{i % 5}/mod{i}.py"
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(
                f"import math\n\n\ndef {w}(x):\n    return math.sqrt(x) + {i}\n\n\n"
                f"class Thing{i}:\n    size = {i}\n"
            )
        else:
            path = f"notebooks/nb{i}.ipynb" if i % 2 else f"nb{i}.ipynb"
            write_notebook(
                root / path,
                [
                    f"# Analysis {w}",
                    f"{w} = load_table({i})",
                    "df = pd.read_csv('data.csv')\ndf.groupby('region').sum()",
                    f"plot(df, title='run {i}')",
                ],
            )
        files[path] = w
    return files


def edit_keeping_chunks(root: Path, files: dict[str, str]) -> None:
    """Give nb0.ipynb a new word, "freshword" (and new content), in as many cells, so as many
    chunks; its old word is then found nowhere."""
    write_notebook(
        root / "nb0.ipynb",
        [
            "# Analysis renamed",
            "freshword = load_table(0)",
            "df = pd.read_csv('data.csv')",
            "plot(df)",
        ],
    )
    files["nb0.ipynb"] = "freshword"


# -- after the kill -------------------------------------------------------------------------------------


def catalog_counts(root: Path, data: Path) -> tuple[int, int, int]:
    """(files, chunks, distinct chunk contents without a vector) as the killed process left them
    (read-only: no recovery here). Vectors are keyed by content, and identical cells share one."""
    index_dir = WorkspaceIndex(root, data, embeddings=False).index_dir
    db = sqlite3.connect(f"file:{index_dir / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        files, chunks = (
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("files", "chunks")
        )
        (missing,) = db.execute(
            "SELECT count(DISTINCT c.hash) FROM chunks c LEFT JOIN vectors v ON v.hash = c.hash "
            "WHERE v.hash IS NULL"
        ).fetchone()
        return files, chunks, missing
    finally:
        db.close()


def reopen(root, data, files: dict[str, str], embeddings=True, embedder=None, timeout=60.0) -> dict:
    """Open the index the child left (``start()`` raises IndexLocked if the dead child's lock still
    held), wait until BM25 is ready and then until indexing is complete (``timeout`` seconds for
    both), and search every file by its word. Returns {status, bm25_ready_s, recover_s,
    not_found}; raises RuntimeError on the timeout."""
    started = time.monotonic()
    index = WorkspaceIndex(root, data, embeddings=embeddings, embedder=embedder)
    try:
        index.start()
        if not index.wait_idle(timeout, embeddings=False):
            raise RuntimeError(f"no BM25 after {timeout} s: {index.status()}")
        bm25_ready = time.monotonic() - started
        if not index.wait_idle(max(0.0, started + timeout - time.monotonic())):
            raise RuntimeError(f"not idle after {timeout} s: {index.status()}")
        complete = time.monotonic() - started
        status = index.status()
        not_found = [
            p for p, w in files.items() if p not in {h["path"] for h in index.search(w, 5, "bm25")}
        ]
        return {
            "status": status,
            "bm25_ready_s": bm25_ready,
            "recover_s": complete,
            "not_found": not_found,
        }
    finally:
        index.close()


if __name__ == "__main__":
    child_main(json.loads(sys.argv[1]))
