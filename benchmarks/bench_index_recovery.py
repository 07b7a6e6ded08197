"""Recovery of the workspace index after kill -9.

The scenario of tests/test_index_recovery.py at a larger size (its workspace, child process and
reopening are tests/index_recovery_support.py's): a child process indexes a generated folder
(notebooks and .py files, each with a word of its own) and is SIGKILLed halfway through:

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
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from index_recovery_support import (  # noqa: E402
    catalog_counts,
    edit_keeping_chunks,
    make_workspace,
    reopen,
    run_child,
)
from machine import machine  # noqa: E402

from jupyter_cursor.index import WorkspaceIndex  # noqa: E402

# The child: 10 minutes at the most, a status every 10 ms.
CHILD = {"watchdog": 600, "interval": 0.01}


def recover(root: Path, data: Path, files: dict[str, str], embeddings: bool) -> dict:
    """Reopen the index the child left; time it to BM25-ready and to complete; check every file."""
    result = reopen(root, data, files, embeddings=embeddings, timeout=1200)
    status, not_found = result["status"], result["not_found"]
    return {
        "bm25_ready_s": round(result["bm25_ready_s"], 3),
        "recover_s": round(result["recover_s"], 3),
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


# -- the cases ----------------------------------------------------------------------------------------


def case_mid_scan(base: Path, count: int) -> dict:
    root, data = base / "scan" / "root", base / "scan" / "data"
    root.mkdir(parents=True)
    files = make_workspace(root, count)
    config = {
        **CHILD,
        "root": str(root),
        "data": str(data),
        "embedder": "none",
        "commit_seconds": 0.1,
    }
    seen, ran = run_child(
        config,
        lambda s: not s["scan"]["complete"] and s["scan"]["done"] >= s["scan"]["total"] // 2 > 0,
    )
    left, _, _ = catalog_counts(root, data)
    result = {
        "killed_after_s": round(ran, 3),
        "killed_at": f"scan {seen['scan']['done']}/{seen['scan']['total']}",
        "files_in_catalog_at_kill": left,
    }
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
    config = {**CHILD, "root": str(root), "data": str(data), "embedder": "minilm"}
    seen, ran = run_child(
        config,
        lambda s: (
            s["scan"]["complete"] and s["chunks"] // 3 <= s["embedded_chunks"] < s["chunks"] // 2
        ),
    )
    _, chunks, missing = catalog_counts(root, data)
    result = {
        "killed_after_s": round(ran, 3),
        "killed_at": f"embedding {seen['embedded_chunks']}/{seen['chunks']} chunks",
        "distinct_contents_left_to_embed": missing,
    }
    result.update(recover(root, data, files, embeddings=True))
    result["every_chunk_embedded"] = result["embedded_chunks"] == result["chunks"] > 0
    return result


def case_mid_commit(base: Path, count: int) -> dict:
    root, data = base / "commit" / "root", base / "commit" / "data"
    root.mkdir(parents=True)
    files = make_workspace(root, count)
    with WorkspaceIndex(root, data, embeddings=False) as index:
        index.wait_idle(600)
    edit_keeping_chunks(root, files)
    config = {
        **CHILD,
        "root": str(root),
        "data": str(data),
        "embedder": "none",
        "kill_on_commit": True,
    }
    _, ran = run_child(config)
    result = {
        "killed_after_s": round(ran, 3),
        "killed_at": "after the catalog write, before the BM25 commit",
    }
    result.update(recover(root, data, files, embeddings=False))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=2000, help="files of the mid-scan case")
    parser.add_argument(
        "--embed-files", type=int, default=400, help="files of the mid-embedding case"
    )
    parser.add_argument("--no-embeddings", action="store_true", help="skip the mid-embedding case")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench_index_recovery_"))
    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
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
    sys.exit(
        0
        if all(c["every_file_found"] and c.get("every_chunk_embedded", True) for c in cases)
        else 1
    )


if __name__ == "__main__":
    main()
