"""Recovery of the workspace index after kill -9.

A child process indexes a generated folder (notebooks and .py files, each with a word of its own)
and is SIGKILLed halfway through:

- ``mid_scan``: the cold scan (BM25 only), with BM25 committing every 0.1 s so that the kill can
  land in a Whoosh commit as well as between files;
- ``mid_embedding``: the embedding of the chunks by the real MiniLM model (after the scan);
- ``mid_commit``: the moment after the catalog has recorded an edit and before BM25 commits it
  (the child kills itself there), on an edit that keeps the file's number of chunks.

Then this process opens the same index folder and measures the time until BM25 search is ready
and until indexing is complete (embedding included), and checks that every file is found by its
word. Reported: those times, what the dead process had done, and whether every file was found.

    nice -n 10 python benchmarks/bench_index_recovery.py [--files 2000] [--embed-files 400]
        [--no-embeddings] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_cursor.index import WorkspaceIndex

STATUS_KEYS = ("state", "files", "chunks", "embedded_chunks", "embeddings", "scan", "error")


# -- the child ----------------------------------------------------------------------------------------


def child_main(config: dict) -> None:
    """Index ``config["root"]``, printing the status every 10 ms, until killed."""
    import threading

    import jupyter_cursor.index.workspace as workspace

    threading.Timer(config.get("watchdog", 600), os._exit, (3,)).start()
    if config.get("commit_seconds"):
        workspace.SCAN_COMMIT_SECONDS = config["commit_seconds"]
    if config.get("kill_on_commit"):
        from jupyter_cursor.index.bm25 import Bm25Store

        commit = Bm25Store.commit

        def dying_commit(self):
            if self._writer is not None:
                os.kill(os.getpid(), signal.SIGKILL)
            commit(self)

        Bm25Store.commit = dying_commit
    index = WorkspaceIndex(config["root"], config["data"], embeddings=config["embeddings"])
    index.start()
    while True:
        status = index.status()
        print(json.dumps({k: status[k] for k in STATUS_KEYS}), flush=True)
        time.sleep(0.01)


def run_child(config: dict, phase=None) -> tuple[dict | None, float]:
    """Run the child; SIGKILL it on the first status where ``phase`` holds (None: it kills
    itself). Returns (that status, seconds the child ran)."""
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    seen = None
    try:
        for line in child.stdout:
            seen = json.loads(line)
            if phase is not None and phase(seen):
                child.send_signal(signal.SIGKILL)
                break
            if seen["state"] == "error":
                break
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(30)
        stderr = child.stderr.read()
        child.stdout.close()
        child.stderr.close()
    if child.returncode != -signal.SIGKILL or (phase is not None and not (seen and phase(seen))):
        raise RuntimeError(f"the child was not killed in its phase (rc {child.returncode}, "
                           f"last status {seen}):\n{stderr[-3000:]}")
    return seen, time.monotonic() - started


# -- the workspace --------------------------------------------------------------------------------------


def word(i: int) -> str:
    letters = ""
    for _ in range(4):
        letters += chr(97 + i % 26)
        i //= 26
    return "zorp" + letters


def make_workspace(root: Path, count: int) -> dict[str, str]:
    """``count`` files (three notebooks to one .py file, in folders of 50); path -> its word."""
    files = {}
    for i in range(count):
        w = word(i)
        folder = f"project{i // 50}"
        if i % 4 == 3:
            path = f"{folder}/mod{i}.py"
            text = (
                f'"""Helpers for run {i}."""\n\nimport math\n\n\ndef {w}(values):\n'
                f"    return sum(math.sqrt(v) for v in values) + {i}\n\n\n"
                f"class Model{i}:\n    def fit(self, x, y):\n        self.coef = x * y / {i + 1}\n"
                f"        return self\n\n    def predict(self, x):\n        return x * self.coef\n"
            )
        else:
            path = f"{folder}/analysis{i}.ipynb"
            sources = [
                (f"# Analysis {w}\n\nRegional sales of batch {i}.", "markdown"),
                (f"{w} = load_table({i})\n{w}.head()", "code"),
                ("df = pd.read_csv('data.csv')\ndf.groupby('region').sum()", "code"),
                (f"model = fit(df, alpha={i / 100:.2f})\nmodel.summary()", "code"),
                (f"plot(df, title='run {i}')", "code"),
            ]
            text = json.dumps({
                "nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [
                    {"id": f"c{i}-{n}", "cell_type": kind, "metadata": {}, "source": src,
                     **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                    for n, (src, kind) in enumerate(sources)
                ],
            })
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
        files[path] = w
    return files


def catalog_counts(index_dir: Path) -> tuple[int, int, int]:
    """(files, chunks, distinct chunk contents without a vector), read-only."""
    db = sqlite3.connect(f"file:{index_dir / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        files, chunks = (db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("files", "chunks"))
        (missing,) = db.execute(
            "SELECT count(DISTINCT c.hash) FROM chunks c LEFT JOIN vectors v ON v.hash = c.hash "
            "WHERE v.hash IS NULL").fetchone()
        return files, chunks, missing
    finally:
        db.close()


def recover(root: Path, data: Path, files: dict[str, str], embeddings: bool) -> dict:
    """Reopen the index the child left; time it to BM25-ready and to complete; check every file."""
    started = time.monotonic()
    index = WorkspaceIndex(root, data, embeddings=embeddings)
    try:
        index.start()
        if not index.wait_idle(600, embeddings=False):
            raise RuntimeError(f"no BM25 after 600 s: {index.status()}")
        bm25_ready = time.monotonic() - started
        if not index.wait_idle(1200):
            raise RuntimeError(f"not idle after 1200 s: {index.status()}")
        complete = time.monotonic() - started
        status = index.status()
        not_found = [p for p, w in files.items() if p not in {h["path"] for h in index.search(w, 5, "bm25")}]
        return {
            "bm25_ready_s": round(bm25_ready, 3),
            "recover_s": round(complete, 3),
            "state": status["state"],
            "error": status["error"],
            "note": status["note"],
            "files_indexed": status["files"],
            "chunks": status["chunks"],
            "embedded_chunks": status["embedded_chunks"],
            "files_found": len(files) - len(not_found),
            "files_total": len(files),
            "every_file_found": not not_found and status["files"] == len(files),
            "not_found_sample": not_found[:5],
        }
    finally:
        index.close()


# -- the cases ----------------------------------------------------------------------------------------


def case_mid_scan(base: Path, count: int) -> dict:
    root, data = base / "scan" / "root", base / "scan" / "data"
    root.mkdir(parents=True)
    files = make_workspace(root, count)
    config = {"root": str(root), "data": str(data), "embeddings": False, "commit_seconds": 0.1}
    seen, ran = run_child(config, lambda s: not s["scan"]["complete"]
                          and s["scan"]["done"] >= s["scan"]["total"] // 2 > 0)
    index_dir = WorkspaceIndex(root, data, embeddings=False).index_dir
    left, _, _ = catalog_counts(index_dir)
    result = {"killed_after_s": round(ran, 3), "killed_at": f"scan {seen['scan']['done']}/{seen['scan']['total']}",
              "files_in_catalog_at_kill": left}
    result.update(recover(root, data, files, embeddings=False))
    # For scale: a cold BM25 index of the same folder, by a process that is not killed.
    started = time.monotonic()
    with WorkspaceIndex(root, base / "scan" / "cold", embeddings=False) as index:
        index.wait_idle(600)
    result["cold_index_s"] = round(time.monotonic() - started, 3)
    return result


def case_mid_embedding(base: Path, count: int) -> dict:
    root, data = base / "embed" / "root", base / "embed" / "data"
    root.mkdir(parents=True)
    files = make_workspace(root, count)
    config = {"root": str(root), "data": str(data), "embeddings": True}
    seen, ran = run_child(config, lambda s: s["scan"]["complete"]
                          and s["chunks"] // 3 <= s["embedded_chunks"] < s["chunks"] // 2)
    index_dir = WorkspaceIndex(root, data, embeddings=False).index_dir
    _, chunks, missing = catalog_counts(index_dir)
    result = {"killed_after_s": round(ran, 3),
              "killed_at": f"embedding {seen['embedded_chunks']}/{seen['chunks']} chunks",
              "distinct_contents_left_to_embed": missing}
    result.update(recover(root, data, files, embeddings=True))
    result["every_chunk_embedded"] = result["embedded_chunks"] == result["chunks"] > 0
    return result


def case_mid_commit(base: Path, count: int) -> dict:
    root, data = base / "commit" / "root", base / "commit" / "data"
    root.mkdir(parents=True)
    files = make_workspace(root, count)
    with WorkspaceIndex(root, data, embeddings=False) as index:
        index.wait_idle(600)
    # Edit one notebook's word: the same number of chunks, new content.
    path = next(p for p in files if p.endswith(".ipynb"))
    notebook = json.loads((root / path).read_text())
    notebook["cells"][1]["source"] = notebook["cells"][1]["source"].replace(files[path], "freshword")
    notebook["cells"][0]["source"] = notebook["cells"][0]["source"].replace(files[path], "freshword")
    (root / path).write_text(json.dumps(notebook))
    files[path] = "freshword"
    config = {"root": str(root), "data": str(data), "embeddings": False, "kill_on_commit": True}
    _, ran = run_child(config)
    result = {"killed_after_s": round(ran, 3), "killed_at": "after the catalog write, before the BM25 commit"}
    result.update(recover(root, data, files, embeddings=False))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000, help="files of the mid-scan case")
    parser.add_argument("--embed-files", type=int, default=400, help="files of the mid-embedding case")
    parser.add_argument("--no-embeddings", action="store_true", help="skip the mid-embedding case")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(json.loads(args.child))
        return
    base = Path(tempfile.mkdtemp(prefix="bench_index_recovery_"))
    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    try:
        results["mid_scan"] = case_mid_scan(base, args.files)
        results["mid_commit"] = case_mid_commit(base, min(args.files, 200))
        if not args.no_embeddings:
            results["mid_embedding"] = case_mid_embedding(base, args.embed_files)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    cases = [results[k] for k in ("mid_scan", "mid_commit", "mid_embedding") if k in results]
    sys.exit(0 if all(c["every_file_found"] and c.get("every_chunk_embedded", True) for c in cases) else 1)


if __name__ == "__main__":
    main()
