"""The writer thread of a :class:`~.workspace.WorkspaceIndex`: it owns every write.

First the cold scan, then one job per changed path (saves, deletions, renames all become "make the
index agree with this path on disk"). It is the only Whoosh writer, and it commits after each batch
of jobs, so a save is searchable by BM25 within a fraction of a second.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path

from .bm25 import Bm25Store
from .catalog import Catalog, FileRow
from .chunk import Chunk
from .chunking import CorruptFile, chunk_file
from .embedding import EmbedderThread
from .files import Skip, WorkspaceFiles
from .shared import Shared
from .store import BM25_BEHIND, context_text, identity, open_stores

log = logging.getLogger("jupyter_cursor.index")


class WriterThread:
    """Opens the stores, scans, then syncs the paths handed to :meth:`enqueue` until the index
    closes; its public attributes are read by the index (status, search), from any thread.

    ``embedding``: the embedder thread, started after the cold scan and woken after each batch
    (None: embeddings off). ``scan_commit_seconds``: how often the cold scan commits BM25.
    """

    def __init__(
        self,
        shared: Shared,
        files: WorkspaceFiles,
        index_dir: Path,
        embedding: EmbedderThread | None,
        scan_commit_seconds: float,
    ):
        self._shared = shared
        self._files = files
        self._index_dir = index_dir
        self._embedding = embedding
        self._scan_commit_seconds = scan_commit_seconds
        self._thread: threading.Thread | None = None

        self._pending: dict[str, None] = {}  # paths to sync, in arrival order, deduplicated
        self._busy = False  # working on a batch
        self.scan_done = False
        self.scan_progress = (0, 0)
        self._recent_paths: dict[str, None] = {}  # saved since the cold scan: embedded first
        self.skipped: dict[str, str] = {}
        self.corrupt: dict[str, str] = {}
        # path -> sha of the corrupt version already warned about: one warning per version,
        # not one per rescan.
        self._warned: dict[str, str] = {}
        self._bm25_behind = False  # the catalog holds changes that BM25 has not committed yet
        self.catalog: Catalog | None = None
        self.bm25: Bm25Store | None = None
        self.note: str | None = None

    # -- seen from the index ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="cursor-index-writer", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def close_stores(self) -> None:
        """After the threads have stopped."""
        if self.bm25 is not None:
            self.bm25.close()
        if self.catalog is not None:
            self.catalog.close()

    def enqueue(self, path: str) -> None:
        """Sync ``path`` (a file, a folder, or "" for the whole root) soon; any thread."""
        try:
            api_path = self._files.api_path(path)
        except Skip:
            return
        with self._shared.cond:
            self._pending.pop(api_path, None)
            self._pending[api_path] = None
            self._shared.cond.notify_all()

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def working(self) -> bool:
        """Paths are queued or a batch of them is being synced."""
        return bool(self._pending) or self._busy

    # -- the thread -------------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self.catalog, self.bm25, self.note = open_stores(
                self._index_dir,
                identity(self._files.root),
                self._embedding.embedder.model_id if self._embedding else None,
            )
            vectors = self._shared.vectors
            vectors.set_chunks({row.uid: row.hash for row in self.catalog.all_chunk_keys()})
            if self._embedding is not None:
                vectors.add_vectors(self.catalog.vectors())
            self._scan_tree("", cold=True)
            self.catalog.prune_vectors()  # vectors of content that no chunk has any more
            # Ready for BM25; status() says "indexing" while vectors are due.
            self._shared.set_state("ready")
            with self._shared.cond:
                self.scan_done = True
                self._shared.cond.notify_all()
            if self._embedding is not None:
                self._embedding.start(self.catalog, self._recent_paths)
            self._loop()
        except Exception as err:  # noqa: BLE001 (reported in status; the server goes on)
            log.exception("jupyter_cursor index: writer failed")
            self._shared.set_state("error", f"{type(err).__name__}: {err}")
            with self._shared.cond:
                self._shared.cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._shared.cond:
                while not self._pending and not self._shared.closing.is_set():
                    self._shared.cond.wait()
                if self._shared.closing.is_set():
                    return
                batch = list(self._pending)
                self._pending.clear()
                self._busy = True
            try:
                for path in batch:
                    self._sync_path(path, recent=True)
                self._commit_bm25()
            finally:
                with self._shared.cond:
                    self._busy = False
                    self._shared.cond.notify_all()
            if self._embedding is not None:
                self._embedding.wake()
            self._shared.push_status(force=True)

    def _scan_tree(self, folder: str, cold: bool = False) -> None:
        """Sync every file under ``folder`` ("" for the root) and drop what has gone from it."""
        paths = list(self._files.walk(folder))
        seen = set(paths)
        for path in list(self.skipped):
            if _under(path, folder) and path not in seen:
                del self.skipped[path]
        known = {p: self.catalog.file(p) for p in self.catalog.paths_under(folder)}
        self.scan_progress = (0, len(paths))
        last_commit = time.monotonic()
        for number, path in enumerate(paths, 1):
            if self._shared.closing.is_set():
                return
            self._sync_file(path, recent=not cold, known=known.get(path))
            self.scan_progress = (number, len(paths))
            if cold:
                self._serve_pending_saves()
            if time.monotonic() - last_commit > self._scan_commit_seconds:
                self._commit_bm25()
                last_commit = time.monotonic()
                self._shared.push_status()
        for path in known:
            if path not in seen:
                self._remove(path)
        self._commit_bm25()

    def _serve_pending_saves(self) -> None:
        """During a long cold scan, saves still become searchable within a second."""
        with self._shared.cond:
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
        os_path = self._files.os_path(path)
        if os_path.is_dir() and not os_path.is_symlink():
            try:
                self._files.check(path + "/x")
            except Skip:
                self._remove_tree(path)
                return
            self._scan_tree(path)
            return
        self._remove_tree(path)  # a folder renamed or deleted: its files are gone from here
        try:
            self._files.check(path)
        except Skip:
            self._remove(path)
            return
        self._sync_file(path, recent)

    def _remove_tree(self, folder: str) -> None:
        for path in self.catalog.paths_under(folder):
            self._remove(path)

    def _sync_file(self, path: str, recent: bool, known: FileRow | None | bool = False) -> None:
        """Index one file if its content changed. ``known``: its catalog record, when the caller
        has it (the scan reads them all at once), None when it is not in the catalog."""
        if known is False:
            known = self.catalog.file(path)
        stat = self._files.stat(path)
        if stat is None:
            self._remove(path)
            return
        if known is not None and (known.size, known.mtime_ns) == stat:
            if known.error is not None:  # unchanged and still corrupt: the chunker is deterministic
                self._note_corrupt(path, known.sha, known.error)
            return  # unchanged since it was indexed
        try:
            text, stat = self._files.read(path)
        except Skip as reason:
            self._remove(path)
            self.skipped[path] = str(reason)
            return
        except OSError:
            self._remove(path)
            return
        self.skipped.pop(path, None)
        sha = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
        if known is not None and known.sha == sha:
            self.catalog.touch_file(path, stat)
            if known.error is not None:
                self._note_corrupt(path, sha, known.error)
            return
        try:
            chunks, error = chunk_file(path, text), None
            self.corrupt.pop(path, None)
            self._warned.pop(path, None)
        except CorruptFile as err:
            chunks, error = [], str(err)
            self._note_corrupt(path, sha, error)
        self._replace(path, stat, sha, error, chunks)
        if recent:
            self._recent_paths[path] = None

    def _note_corrupt(self, path: str, sha: str, error: str) -> None:
        """List a corrupt file in status; log it once per version (content hash) of the file."""
        self.corrupt[path] = error
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
            self.bm25.add(uid, path, chunk.text, context_text(path, chunk.context))
        self.catalog.replace_file(path, stat, sha, error, named)
        self._shared.vectors.update_chunks(removed, added)
        if self._embedding is not None:
            # Content seen before (a file restored, a cell pasted back) has its vector on disk.
            known = self._shared.vectors.without_vector(set(added.values()))
            if known:
                self._shared.vectors.add_vectors(self.catalog.vectors(known))

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
        self.corrupt.pop(path, None)
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
        self._shared.vectors.update_chunks(list(old), {})


def _under(path: str, folder: str) -> bool:
    return not folder or path.startswith(folder + "/")
