"""Where an index lives on disk, and opening it: versioned, keyed by root, rebuilt when stale or
damaged, locked against a second writer process.

Layout: ``<data_dir>/v<SCHEMA_VERSION>/<hash of the root>/{catalog.sqlite, bm25/, lock}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

from .bm25 import Bm25Store
from .catalog import Catalog, ChunkText
from .chunk import CHUNKER_VERSION

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one server per root is the user's job there
    fcntl = None

# Bump when the catalog or BM25 schema, or the analyzer, changes: a new folder is used.
# 2: chunks have a context column (the embedder's and BM25's context of a chunk).
SCHEMA_VERSION = 2

log = logging.getLogger("jupyter_cursor.index")

# Catalog meta key, "1" while the catalog holds changes BM25 has not committed (see
# WriterThread._mark_bm25_behind): found at start, BM25 is rebuilt from the catalog.
BM25_BEHIND = "bm25_behind"


class IndexLocked(RuntimeError):
    """Another process (a server, ``jupyter cursor index``) is writing this index."""


def default_data_dir() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "jupyter_cursor" / "index"


def index_dir_for(root: Path, data_dir: Path | None) -> Path:
    digest = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:16]
    return Path(data_dir or default_data_dir()) / f"v{SCHEMA_VERSION}" / digest


class IndexLock:
    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self._handle = open(directory / "lock", "a+")  # noqa: SIM115 (held for the index's life)
        if fcntl is not None:
            try:
                fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._handle.close()
                raise IndexLocked(
                    f"the index in {directory} is in use by another process"
                ) from None

    def release(self) -> None:
        if fcntl is not None and not self._handle.closed:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def identity(root: Path) -> str:
    """What the chunks depend on; the vectors also depend on the model (see open_stores)."""
    return json.dumps(
        {"schema": SCHEMA_VERSION, "chunker": CHUNKER_VERSION, "root": str(root)}, sort_keys=True
    )


def open_stores(
    directory: Path, ident: str, model_id: str | None
) -> tuple[Catalog, Bm25Store, str | None]:
    """Open (catalog, bm25, why something was rebuilt or None). A stale or damaged index is wiped
    and started afresh; a BM25 index that disagrees with the catalog is rebuilt from it; vectors
    of another model are dropped. ``model_id`` None (embeddings off) leaves the vectors alone."""
    try:
        catalog, bm25, note = _open(directory, ident)
    except Exception as err:  # noqa: BLE001 (whatever is broken, the cure is the same)
        reason = f"damaged index rebuilt ({type(err).__name__}: {err})"
        log.warning("jupyter_cursor index in %s: %s", directory, reason)
        _wipe(directory)
        catalog, bm25, note = _open(directory, ident)
        note = reason
    if model_id is not None and catalog.get_meta("model") != model_id:
        if catalog.get_meta("model") is not None:
            note = note or "embedding model changed: vectors recomputed"
        catalog.clear_vectors()
        catalog.set_meta("model", model_id)
    return catalog, bm25, note


def _open(directory: Path, ident: str):
    catalog = Catalog(directory / "catalog.sqlite")
    try:
        catalog.check()
        stored = catalog.get_meta("identity")
        note = None
        if stored is not None and stored != ident:
            catalog.close()
            _wipe(directory)
            catalog = Catalog(directory / "catalog.sqlite")
            note = "model, chunking or root changed: index rebuilt"
        catalog.set_meta("identity", ident)
        bm25 = Bm25Store(directory / "bm25")
    except Exception:
        catalog.close()
        raise
    chunks = catalog.all_chunks()
    if bm25.doc_count() != len(chunks) or catalog.get_meta(BM25_BEHIND) == "1":
        # An interrupted commit (kill -9 mid-scan, a power cut) leaves the two out of step; the
        # catalog is the truth.
        note = note or _repair_bm25(bm25, chunks)
        catalog.set_meta(BM25_BEHIND, "0")
    return catalog, bm25, note


def _repair_bm25(bm25: Bm25Store, chunks: list[ChunkText]) -> str:
    """Make BM25 hold exactly the catalog's chunks. A uid names the path, the content hash (text
    and heading) and the occurrence, so a document whose uid the catalog has is that chunk's
    document: only the difference is written, not the whole index (after a kill mid-scan, BM25
    has every chunk up to its last commit)."""
    have = bm25.uids()
    unique = set(have)
    if len(unique) != len(have):  # a document twice: no telling which to keep, start afresh
        bm25.clear()
        unique = set()
    wanted = {chunk.uid: chunk for chunk in chunks}
    stale = unique - wanted.keys()
    missing = [uid for uid in wanted if uid not in unique]
    for uid in stale:
        bm25.delete(uid)
    for uid in missing:
        chunk = wanted[uid]
        bm25.add(uid, chunk.path, chunk.text, context_text(chunk.path, chunk.context))
    bm25.commit()
    return (
        f"BM25 index out of step with the catalog: repaired from it "
        f"({len(missing)} chunks added, {len(stale)} removed)"
    )


def context_text(path: str, context: str) -> str:
    """What BM25 indexes besides the text: the file's path and the chunk's context."""
    return f"{path} {context}"


def _wipe(directory: Path) -> None:
    for name in ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"):
        try:
            os.remove(directory / name)
        except FileNotFoundError:
            pass
    shutil.rmtree(directory / "bm25", ignore_errors=True)
