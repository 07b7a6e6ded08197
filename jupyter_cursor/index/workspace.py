"""WorkspaceIndex: the index of one root directory, kept fresh by two background threads.

- the *writer* thread owns every write: the cold scan, then one job per changed path (saves,
  deletions, renames all become "make the index agree with this path on disk"). It is the only
  Whoosh writer, and it commits after each batch of jobs, so a save is searchable by BM25 within
  a fraction of a second.
- the *embedder* thread computes the vectors of chunks that have none, in batches, most recently
  saved files first, writing each batch to the catalog as it goes (resumable).

Everything public is thread-safe and cheap except :meth:`search` (tens of milliseconds: call it
from an executor, not from an event loop).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from .chunk import Chunk
from .chunking import CorruptFile, chunk_file
from .embedder import Embedder, MiniLMEmbedder
from .files import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_NOTEBOOK_BYTES, Skip, WorkspaceFiles
from .fusion import reciprocal_rank_fusion
from .store import BM25_BEHIND, IndexLock, context_text, identity, index_dir_for, open_stores
from .vectors import VectorStore

log = logging.getLogger("jupyter_cursor.index")

Mode = Literal["hybrid", "bm25", "embedding"]
MODES = ("hybrid", "bm25", "embedding")
MAX_K = 100
# How deep each ranking goes into the fusion.
FUSION_DEPTH = 50
# Hybrid needs most chunks embedded; below this it answers with BM25 alone rather than favour
# the few chunks that happen to have vectors.
HYBRID_MIN_COVERAGE = 0.9
EMBED_BATCH = 64
# The cold scan commits this often, so that search works on what is indexed so far.
SCAN_COMMIT_SECONDS = 3.0
STATUS_INTERVAL = 0.5
MAX_LISTED_SKIPS = 100


class WorkspaceIndex:
    """Search index of the files under ``root_dir``.

    ``data_dir``: folder of all indexes (default ``<jupyter data dir>/jupyter_cursor/index``);
    this root's index is in :attr:`index_dir` below it.
    ``embeddings``: compute embeddings (hybrid and embedding search); False for BM25 only.
    ``embedder``: the model (default: MiniLM, 128 tokens).
    ``on_change(status)``: called from worker threads when the state changes, and at most every
    0.5 s while progress moves.
    """

    def __init__(
        self,
        root_dir: str | Path,
        data_dir: str | Path | None = None,
        *,
        embeddings: bool = True,
        embedder: Embedder | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_notebook_bytes: int = DEFAULT_MAX_NOTEBOOK_BYTES,
        on_change: Callable[[dict], None] | None = None,
    ):
        self.files = WorkspaceFiles(root_dir, max_file_bytes, max_notebook_bytes)
        self.root = self.files.root
        self.embedder = (embedder or MiniLMEmbedder()) if embeddings else None
        self.index_dir = index_dir_for(self.root, Path(data_dir) if data_dir else None)
        self.on_change = on_change

        self._cond = threading.Condition()
        self._pending: dict[str, None] = {}  # paths to sync, in arrival order, deduplicated
        self._busy = False  # the writer is working on a batch
        self._scan_done = False
        self._scan_progress = (0, 0)
        self._recent_paths: dict[str, None] = {}  # saved since the cold scan: embedded first
        self._embed_idle = self.embedder is None  # until the worker has looked for work
        self._embed_state = "disabled" if self.embedder is None else "waiting"
        self._state = "created"
        self._error: str | None = None
        self._note: str | None = None
        self._skipped: dict[str, str] = {}
        self._corrupt: dict[str, str] = {}
        # path -> sha of the corrupt version already warned about: one warning per version,
        # not one per rescan.
        self._warned: dict[str, str] = {}
        self._closed = False
        self._last_status_push = 0.0
        self._threads: list[threading.Thread] = []
        self._lock_file: IndexLock | None = None
        self._bm25_behind = False  # the catalog holds changes that BM25 has not committed yet
        self.catalog = self.bm25 = None
        self.vectors = VectorStore(self.embedder.dimension if self.embedder else 1)

    # -- lifetime ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Lock the index folder (raises IndexLocked when another process holds it) and start
        the background threads; returns at once. A second call does nothing."""
        if self._lock_file is not None:
            return
        self._lock_file = IndexLock(self.index_dir)
        self._set_state("indexing")
        writer = threading.Thread(target=self._writer_main, name="cursor-index-writer", daemon=True)
        self._threads.append(writer)
        writer.start()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)
        if self.bm25 is not None:
            self.bm25.close()
        if self.catalog is not None:
            self.catalog.close()
        if self._lock_file is not None:
            self._lock_file.release()
        self._state = "closed"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    # -- change notifications (any thread, non-blocking) ---------------------------------------------

    def notify_saved(self, path: str) -> None:
        self._enqueue(path)

    def notify_deleted(self, path: str) -> None:
        self._enqueue(path)

    def notify_renamed(self, old_path: str, new_path: str) -> None:
        self._enqueue(old_path)
        self._enqueue(new_path)

    def rescan(self) -> None:
        """Re-read the whole root (after changes made behind the server's back)."""
        self._enqueue("")

    def _enqueue(self, path: str) -> None:
        try:
            api_path = self.files.api_path(path)
        except Skip:
            return
        with self._cond:
            self._pending.pop(api_path, None)
            self._pending[api_path] = None
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None, embeddings: bool = True) -> bool:
        """Wait until nothing is pending (and, with ``embeddings``, every chunk has a vector or
        the embedder failed); True when idle, False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def idle():
            writer_idle = self._scan_done and not self._pending and not self._busy
            if self._state == "error" or self._closed:
                return True
            return writer_idle and (not embeddings or self._embed_idle or self.embedder is None)

        with self._cond:
            while not idle():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is not None else 1.0)
            return True

    # -- status -------------------------------------------------------------------------------------

    def status(self) -> dict:
        embedded, chunks = self.vectors.coverage()
        scanned, to_scan = self._scan_progress
        scan_fraction = 1.0 if self._scan_done else (scanned / to_scan if to_scan else 0.0)
        if self.embedder is None or self._embed_state == "error":
            progress = scan_fraction
        else:
            embed_fraction = embedded / chunks if chunks else float(self._scan_done)
            progress = 0.3 * scan_fraction + 0.7 * embed_fraction
        state = self._state
        if state == "ready" and (self._pending or self._busy or not self._embed_idle):
            state = "indexing"
        files = self.catalog.file_count() if self.catalog is not None else 0
        return {
            "state": state,
            "root": str(self.root),
            "index_dir": str(self.index_dir),
            "files": files,
            "chunks": chunks,
            "embedded_chunks": embedded,
            "embeddings": self._embed_state,
            "progress": round(min(progress, 1.0), 4),
            "scan": {"done": scanned, "total": to_scan, "complete": self._scan_done},
            "pending": len(self._pending),
            "modes": self._available_modes(embedded, chunks),
            "skipped": [{"path": p, "reason": r} for p, r in list(self._skipped.items())[:MAX_LISTED_SKIPS]],
            "skipped_count": len(self._skipped),
            "corrupt": [{"path": p, "reason": r} for p, r in self._corrupt.items()],
            "error": self._error,
            "note": self._note,
        }

    def _available_modes(self, embedded: int, chunks: int) -> list[str]:
        if self.embedder is None or not self.embedder_ready or embedded == 0:
            return ["bm25"]
        if chunks and embedded / chunks >= HYBRID_MIN_COVERAGE:
            return ["bm25", "embedding", "hybrid"]
        return ["bm25", "embedding"]

    @property
    def embedder_ready(self) -> bool:
        return self.embedder is not None and getattr(self.embedder, "loaded", True) and self._embed_state != "error"

    def _set_state(self, state: str, error: str | None = None) -> None:
        self._state = state
        if error:
            self._error = error
        self._push_status(force=True)

    def _push_status(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.on_change is None or (not force and now - self._last_status_push < STATUS_INTERVAL):
            return
        self._last_status_push = now
        try:
            self.on_change(self.status())
        except Exception:  # noqa: BLE001 (a listener's bug must not stop indexing)
            log.exception("jupyter_cursor index: on_change listener failed")

    # -- search ------------------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid") -> list[dict]:
        """Best ``k`` chunks for ``query`` as search hits (DESIGN.md's contract), best first.

        ``hybrid`` fuses BM25 and embeddings with reciprocal rank fusion, and is BM25 alone while
        fewer than 90% of chunks have vectors; ``embedding`` searches the chunks that have one.
        The embedding side leaves out chunks under the embedder's ``min_similarity``, so a query
        that nothing in the workspace is about finds nothing rather than the nearest stranger.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k must be an integer from 1 to {MAX_K}")
        if not isinstance(query, str) or not query.strip() or self.bm25 is None:
            return []
        embedded, chunks = self.vectors.coverage()
        modes = self._available_modes(embedded, chunks)
        if mode == "bm25" or (mode == "hybrid" and "hybrid" not in modes):
            ranked = self.bm25.search(query, k)
        elif mode == "embedding":
            ranked = self._vector_search(query, k) if "embedding" in modes else []
        else:
            lexical = [uid for uid, _ in self.bm25.search(query, FUSION_DEPTH)]
            semantic = [uid for uid, _ in self._vector_search(query, FUSION_DEPTH)]
            ranked = reciprocal_rank_fusion([lexical, semantic])[:k]
        return self._hits(ranked)

    def _vector_search(self, query: str, limit: int) -> list[tuple[str, float]]:
        vector = self.embedder.encode([query])[0]
        floor = self.embedder.min_similarity
        return [(uid, score) for uid, score in self.vectors.search(vector, limit) if score >= floor]

    def _hits(self, ranked: list[tuple[str, float]]) -> list[dict]:
        rows = self.catalog.hits(uid for uid, _ in ranked)
        hits = []
        for uid, score in ranked:
            row = rows.get(uid)
            if row is None:  # deleted between the ranking and now
                continue
            _, path, cell_id, cell_index, start_line, end_line, kind, text = row
            hits.append(
                {
                    "path": path,
                    "cell_id": cell_id,
                    "cell_index": cell_index,
                    "start_line": start_line,
                    "end_line": end_line,
                    "kind": kind,
                    "score": round(score, 6),
                    "text": text,
                }
            )
        return hits

    # -- the writer thread ----------------------------------------------------------------------------

    def _writer_main(self) -> None:
        try:
            self.catalog, self.bm25, self._note = open_stores(
                self.index_dir, identity(self.root), self.embedder.model_id if self.embedder else None
            )
            self.vectors.set_chunks({uid: h for uid, _, h in self.catalog.all_chunk_keys()})
            if self.embedder is not None:
                self.vectors.add_vectors(self.catalog.vectors())
            self._scan_tree("", cold=True)
            self.catalog.prune_vectors()  # vectors of content that no chunk has any more
            self._set_state("ready")  # for BM25; status() says "indexing" while vectors are due
            with self._cond:
                self._scan_done = True
                self._cond.notify_all()
            if self.embedder is not None:
                self._start_embedder()
            self._writer_loop()
        except Exception as err:  # noqa: BLE001 (reported in status; the server goes on)
            log.exception("jupyter_cursor index: writer failed")
            self._set_state("error", f"{type(err).__name__}: {err}")
            with self._cond:
                self._cond.notify_all()

    def _writer_loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                batch = list(self._pending)
                self._pending.clear()
                self._busy = True
            try:
                for path in batch:
                    self._sync_path(path, recent=True)
                self._commit_bm25()
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            self._wake_embedder()
            self._push_status(force=True)

    def _scan_tree(self, folder: str, cold: bool = False) -> None:
        """Sync every file under ``folder`` ("" for the root) and drop what has gone from it."""
        paths = list(self.files.walk(folder))
        seen = set(paths)
        for path in list(self._skipped):
            if _under(path, folder) and path not in seen:
                del self._skipped[path]
        known = {p: self.catalog.file(p) for p in self.catalog.paths_under(folder)}
        self._scan_progress = (0, len(paths))
        last_commit = time.monotonic()
        for number, path in enumerate(paths, 1):
            if self._closed:
                return
            self._sync_file(path, recent=not cold, known=known.get(path))
            self._scan_progress = (number, len(paths))
            if cold:
                self._serve_pending_saves()
            if time.monotonic() - last_commit > SCAN_COMMIT_SECONDS:
                self._commit_bm25()
                last_commit = time.monotonic()
                self._push_status()
        for path in known:
            if path not in seen:
                self._remove(path)
        self._commit_bm25()

    def _serve_pending_saves(self) -> None:
        """During a long cold scan, saves still become searchable within a second."""
        with self._cond:
            batch = [p for p in self._pending if p]
            for path in batch:
                del self._pending[path]
        if batch:
            for path in batch:
                self._sync_path(path, recent=True)
            self._commit_bm25()

    def _sync_path(self, path: str, recent: bool) -> None:
        """Make the index agree with ``path`` on disk: a file, a folder, or gone."""
        if path == "":
            self._scan_tree("")
            return
        os_path = self.files.os_path(path)
        if os_path.is_dir() and not os_path.is_symlink():
            try:
                self.files.check(path + "/x")
            except Skip:
                self._remove_tree(path)
                return
            self._scan_tree(path)
            return
        self._remove_tree(path)  # a folder renamed or deleted: its files are gone from here
        try:
            self.files.check(path)
        except Skip:
            self._remove(path)
            return
        self._sync_file(path, recent)

    def _remove_tree(self, folder: str) -> None:
        for path in self.catalog.paths_under(folder):
            self._remove(path)

    def _sync_file(self, path: str, recent: bool, known=False) -> None:
        """Index one file if its content changed. ``known``: its catalog record, when the caller
        has it (the scan reads them all at once), None when it is not in the catalog."""
        if known is False:
            known = self.catalog.file(path)
        stat = self.files.stat(path)
        if stat is None:
            self._remove(path)
            return
        if known is not None and tuple(known[:2]) == stat:
            if known[3] is not None:  # unchanged and still corrupt: the chunker is deterministic
                self._note_corrupt(path, known[2], known[3])
            return  # unchanged since it was indexed
        try:
            text, stat = self.files.read(path)
        except Skip as reason:
            self._remove(path)
            self._skipped[path] = str(reason)
            return
        except OSError:
            self._remove(path)
            return
        self._skipped.pop(path, None)
        sha = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
        if known is not None and known[2] == sha:
            self.catalog.touch_file(path, stat)
            if known[3] is not None:
                self._note_corrupt(path, sha, known[3])
            return
        try:
            chunks, error = chunk_file(path, text), None
            self._corrupt.pop(path, None)
            self._warned.pop(path, None)
        except CorruptFile as err:
            chunks, error = [], str(err)
            self._note_corrupt(path, sha, error)
        self._replace(path, stat, sha, error, chunks)
        if recent:
            self._recent_paths[path] = None

    def _note_corrupt(self, path: str, sha: str, error: str) -> None:
        """List a corrupt file in status; log it once per version (content hash) of the file."""
        self._corrupt[path] = error
        if self._warned.get(path) != sha:
            self._warned[path] = sha
            log.warning("jupyter_cursor index: skipping %s: %s", path, error)

    def _replace(self, path, stat, sha, error, chunks: list[Chunk]) -> None:
        """Index a file's new chunks: only chunks whose content changed touch BM25 and the
        embedder; the rest keep their documents and vectors."""
        old = self.catalog.chunk_hashes(path)
        occurrences: dict[str, int] = {}
        named = []
        for chunk in chunks:
            content_hash = chunk.content_hash
            n = occurrences[content_hash] = occurrences.get(content_hash, -1) + 1
            named.append((f"{path}\x1f{content_hash}\x1f{n}", chunk))
        new = {uid: chunk for uid, chunk in named}
        removed = [uid for uid in old if uid not in new]
        added = {uid: c.content_hash for uid, c in named if uid not in old}
        if removed or added:
            self._mark_bm25_behind()
        for uid in removed:
            self.bm25.delete(uid)
        for uid in added:
            chunk = new[uid]
            self.bm25.add(uid, path, chunk.text, context_text(path, chunk.heading))
        self.catalog.replace_file(path, stat, sha, error, named)
        self.vectors.update_chunks(removed, added)
        if self.embedder is not None:
            # Content seen before (a file restored, a cell pasted back) has its vector on disk.
            known = self.vectors.without_vector(set(added.values()))
            if known:
                self.vectors.add_vectors(self.catalog.vectors(known))

    def _mark_bm25_behind(self) -> None:
        """Before the catalog records a change that BM25 holds only in its open writer: should the
        process die before the commit (kill -9, power cut), the next start sees the mark and
        rebuilds BM25 from the catalog. Without it an edit that keeps the number of chunks would
        stay unsearchable, since the catalog already has the file's new stat."""
        if not self._bm25_behind:
            self.catalog.set_meta(BM25_BEHIND, "1")
            self._bm25_behind = True

    def _commit_bm25(self) -> None:
        self.bm25.commit()
        if self._bm25_behind:
            self.catalog.set_meta(BM25_BEHIND, "0")
            self._bm25_behind = False

    def _remove(self, path: str) -> None:
        self._corrupt.pop(path, None)
        self._warned.pop(path, None)
        self._recent_paths.pop(path, None)
        old = self.catalog.chunk_hashes(path)
        if not old and self.catalog.file(path) is None:
            return
        if old:
            self._mark_bm25_behind()
        for uid in old:
            self.bm25.delete(uid)
        self.catalog.remove_file(path)
        self.vectors.update_chunks(list(old), {})

    # -- the embedder thread ------------------------------------------------------------------------

    def _start_embedder(self) -> None:
        self._embed_wake = threading.Event()
        self._embed_wake.set()
        thread = threading.Thread(target=self._embedder_main, name="cursor-index-embedder", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _wake_embedder(self) -> None:
        if self.embedder is not None and hasattr(self, "_embed_wake"):
            with self._cond:
                self._embed_idle = False
            self._embed_wake.set()

    def _embedder_main(self) -> None:
        try:
            self._embed_state = "loading"
            with self._cond:
                self._embed_idle = False
            self._push_status(force=True)
            if hasattr(self.embedder, "load"):
                self.embedder.load()  # seconds (torch): before "running", so status says so
            self._embed_state = "running"
            while not self._closed:
                self._embed_wake.wait(timeout=1.0)
                self._embed_wake.clear()
                while not self._closed and self._embed_batch():
                    self._push_status()
                self.vectors.forget_unused()
                with self._cond:
                    if not self._embed_wake.is_set():
                        self._embed_idle = True
                        self._embed_state = "done"
                    self._cond.notify_all()
                self._push_status(force=True)
        except Exception as err:  # noqa: BLE001 (BM25 search goes on without embeddings)
            log.exception("jupyter_cursor index: embedding failed")
            self._embed_state = "error"
            self._error = f"embeddings: {type(err).__name__}: {err}"
            with self._cond:
                self._embed_idle = True
                self._cond.notify_all()
            self._push_status(force=True)

    def _embed_batch(self) -> bool:
        """Embed one batch of chunks without vectors; False when there were none."""
        todo = self.catalog.missing_vectors(EMBED_BATCH, first_paths=list(self._recent_paths))
        if not todo:
            self._recent_paths.clear()
            return False
        self._embed_state = "running"
        hashes = [h for h, _ in todo]
        vectors = self.embedder.encode([text for _, text in todo])
        self.catalog.put_vectors(hashes, vectors)
        self.vectors.add_vectors(dict(zip(hashes, vectors)))
        return True


def _under(path: str, folder: str) -> bool:
    return not folder or path.startswith(folder + "/")
