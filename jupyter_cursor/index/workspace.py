"""WorkspaceIndex: the index of one root directory, kept fresh by two background threads.

- the *writer* thread (writer.py) owns every write: the cold scan, then one job per changed path.
  It commits BM25 after each batch of jobs, so a save is searchable within a fraction of a second.
- the *embedder* thread (embedding.py) computes the vectors of chunks that have none, in batches,
  most recently saved files first, writing each batch to the catalog as it goes (resumable).

This class is their public face: it starts and stops them, hands them the changes, and answers
status and search. Everything public is thread-safe and cheap except :meth:`search` (tens of
milliseconds: call it from an executor, not from an event loop).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from .catalog import HitRow
from .embedder import Embedder, make_embedder
from .embedding import EmbedderThread
from .files import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_NOTEBOOK_BYTES, WorkspaceFiles
from .fusion import LearnedFusion, Ranking, convex_fusion, explanation_then_code
from .shared import Shared
from .store import IndexLock, index_dir_for
from .vectors import VectorStore
from .writer import WriterThread

log = logging.getLogger("jupyter_cursor.index")

Mode = Literal["hybrid", "bm25", "embedding"]
MODES = ("hybrid", "bm25", "embedding")
MAX_K = 100
# How deep each ranking goes into the fusion.
FUSION_DEPTH = 50
# Hybrid needs most chunks embedded; below this it answers with BM25 alone rather than favour
# the few chunks that happen to have vectors.
HYBRID_MIN_COVERAGE = 0.9
# The cold scan commits this often, so that search works on what is indexed so far. Read when an
# index is made (tests/index_recovery_support.py sets it here to commit mid-scan).
SCAN_COMMIT_SECONDS = 3.0
STATUS_INTERVAL = 0.5
MAX_LISTED_SKIPS = 100


class WorkspaceIndex:
    """Search index of the files under ``root_dir``.

    ``data_dir``: folder of all indexes (default ``<jupyter data dir>/jupyter_cursor/index``);
    this root's index is in :attr:`index_dir` below it.
    ``embeddings``: compute embeddings (hybrid and embedding search); False for BM25 only.
    ``embedder``: the model (default: embedder.DEFAULT_EMBEDDING_MODEL, 128 tokens).
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
        self.embedder = (embedder or make_embedder()) if embeddings else None
        self.index_dir = index_dir_for(self.root, Path(data_dir) if data_dir else None)
        self.on_change = on_change
        self.vectors = VectorStore(self.embedder.dimension if self.embedder else 1)
        self._fusion = self._learned_fusion()

        self._cond = threading.Condition()
        self._closing = threading.Event()
        self._state = "created"
        self._error: str | None = None
        self._last_status_push = 0.0
        self._lock_file: IndexLock | None = None
        shared = Shared(
            self.vectors,
            self._cond,
            self._closing,
            self._push_status,
            self._set_state,
            self._report_error,
        )
        self._embedding = None if self.embedder is None else EmbedderThread(shared, self.embedder)
        self._writer = WriterThread(
            shared, self.files, self.index_dir, self._embedding, SCAN_COMMIT_SECONDS
        )

    def _learned_fusion(self) -> LearnedFusion | None:
        """The embedder's fitted fusion; None (convex fusion) without an embedder, for one that
        has none, or when the shipped weights cannot be read (logged: search still works)."""
        if self.embedder is None:
            return None
        try:
            return LearnedFusion.for_embedder(self.embedder.model_id, self.embedder.min_similarity)
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning(
                "search fusion weights unusable (%s); hybrid search uses convex fusion", error
            )
            return None

    # -- lifetime ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Lock the index folder (raises IndexLocked when another process holds it) and start
        the background threads; returns at once. A second call does nothing."""
        if self._lock_file is not None:
            return
        self._lock_file = IndexLock(self.index_dir)
        self._set_state("indexing")
        self._writer.start()  # it starts the embedder thread after the cold scan

    def close(self) -> None:
        with self._cond:
            self._closing.set()
            self._cond.notify_all()
        self._writer.join(timeout=30)
        if self._embedding is not None:
            self._embedding.join(timeout=30)
        self._writer.close_stores()
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
        self._writer.enqueue(path)

    def notify_deleted(self, path: str) -> None:
        self._writer.enqueue(path)

    def notify_renamed(self, old_path: str, new_path: str) -> None:
        self._writer.enqueue(old_path)
        self._writer.enqueue(new_path)

    def rescan(self) -> None:
        """Re-read the whole root (after changes made behind the server's back)."""
        self._writer.enqueue("")

    def wait_idle(self, timeout: float | None = None, embeddings: bool = True) -> bool:
        """Wait until nothing is pending (and, with ``embeddings``, every chunk has a vector or
        the embedder failed); True when idle, False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def idle():
            writer_idle = self._writer.scan_done and not self._writer.working
            if self._state == "error" or self._closing.is_set():
                return True
            return writer_idle and (not embeddings or self._embed_idle)

        with self._cond:
            while not idle():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is not None else 1.0)
            return True

    # -- status -------------------------------------------------------------------------------------

    def status(self) -> dict:
        writer = self._writer
        embedded, chunks = self.vectors.coverage()
        scanned, to_scan = writer.scan_progress
        scan_fraction = 1.0 if writer.scan_done else (scanned / to_scan if to_scan else 0.0)
        if self.embedder is None or self._embed_state == "error":
            progress = scan_fraction
        else:
            embed_fraction = embedded / chunks if chunks else float(writer.scan_done)
            progress = 0.3 * scan_fraction + 0.7 * embed_fraction
        state = self._state
        if state == "ready" and (writer.working or not self._embed_idle):
            state = "indexing"
        files = writer.catalog.file_count() if writer.catalog is not None else 0
        return {
            "state": state,
            "root": str(self.root),
            "index_dir": str(self.index_dir),
            "files": files,
            "chunks": chunks,
            "embedded_chunks": embedded,
            "embeddings": self._embed_state,
            "progress": round(min(progress, 1.0), 4),
            "scan": {"done": scanned, "total": to_scan, "complete": writer.scan_done},
            "pending": writer.pending,
            "modes": self._available_modes(embedded, chunks),
            "skipped": [
                {"path": p, "reason": r} for p, r in list(writer.skipped.items())[:MAX_LISTED_SKIPS]
            ],
            "skipped_count": len(writer.skipped),
            "corrupt": [{"path": p, "reason": r} for p, r in writer.corrupt.items()],
            "error": self._error,
            "note": writer.note,
        }

    def _available_modes(self, embedded: int, chunks: int) -> list[str]:
        if self.embedder is None or not self.embedder_ready or embedded == 0:
            return ["bm25"]
        if chunks and embedded / chunks >= HYBRID_MIN_COVERAGE:
            return ["bm25", "embedding", "hybrid"]
        return ["bm25", "embedding"]

    @property
    def embedder_ready(self) -> bool:
        return (
            self.embedder is not None
            and getattr(self.embedder, "loaded", True)
            and self._embed_state != "error"
        )

    @property
    def _embed_state(self) -> str:
        return "disabled" if self._embedding is None else self._embedding.state

    @property
    def _embed_idle(self) -> bool:
        return self._embedding is None or self._embedding.idle

    def _set_state(self, state: str, error: str | None = None) -> None:
        self._state = state
        if error:
            self._error = error
        self._push_status(force=True)

    def _report_error(self, error: str) -> None:
        self._error = error

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
        """Best ``k`` chunks for ``query`` as search hits (ARCHITECTURE.md's contract), best first.

        ``hybrid`` fuses the BM25 and embedding rankings (fusion.LearnedFusion, which drops the
        hits far below the best one; fusion.convex_fusion for an embedder that has no fitted
        fusion), and is BM25 alone while fewer than 90% of chunks have vectors; ``embedding``
        searches the chunks that have one. The embedding side leaves out chunks under the
        embedder's ``min_similarity``, so a query that nothing in the workspace is about finds
        nothing rather than the nearest stranger. In every mode a matched markdown cell is followed
        by the code cell below it when that ranked lower (fusion.explanation_then_code). Each
        hit's ``matched`` lists its words that match the query's terms (what the search panel
        highlights).
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k must be an integer from 1 to {MAX_K}")
        bm25 = self._writer.bm25
        if not isinstance(query, str) or not query.strip() or bm25 is None:
            return []
        embedded, chunks = self.vectors.coverage()
        modes = self._available_modes(embedded, chunks)
        # Deeper than k: a markdown hit's code cell may rank lower (fusion.explanation_then_code).
        depth = max(k, FUSION_DEPTH)
        rows = None
        if mode == "bm25" or (mode == "hybrid" and "hybrid" not in modes):
            ranked = bm25.search(query, depth)
        elif mode == "embedding":
            ranked = self._vector_search(query, depth) if "embedding" in modes else []
        else:
            # The fusion was fitted on each side's best FUSION_DEPTH: deeper candidates would be
            # judged on features it never saw at those ranks.
            lexical, semantic, rows, coverage = self.candidates(query, FUSION_DEPTH)
            if self._fusion is None:
                ranked = convex_fusion(
                    lexical, semantic, min_similarity=self.embedder.min_similarity
                )
            else:
                ranked = self._fusion(query, lexical, semantic, coverage)
        if rows is None:
            rows = self._writer.catalog.hits(uid for uid, _ in ranked)
        found = [(rows[uid], score) for uid, score in ranked if uid in rows]  # else just deleted
        return self._hits(explanation_then_code(found)[:k], query)

    def candidates(
        self, query: str, depth: int = FUSION_DEPTH
    ) -> tuple[Ranking, Ranking, dict[str, HitRow], dict[str, tuple[float, float]]]:
        """What hybrid search fuses: the best ``depth`` (id, score) of BM25 and of the embedding
        side, the catalog rows of both, and the share of the query's terms that each one's words
        hold and that the names it defines hold (models/fusion fits the fusion on these, so it
        learns from what search sees)."""
        bm25 = self._writer.bm25
        lexical = bm25.search(query, depth)
        semantic = self._vector_search(query, depth)
        rows = self._writer.catalog.hits(dict.fromkeys(uid for uid, _ in lexical + semantic))
        covered = bm25.coverage(query, [row.text for row in rows.values()])
        return lexical, semantic, rows, dict(zip(rows, covered))

    def _vector_search(self, query: str, limit: int) -> list[tuple[str, float]]:
        vector = self.embedder.encode_query(query)
        floor = self.embedder.min_similarity
        return [(uid, score) for uid, score in self.vectors.search(vector, limit) if score >= floor]

    def _hits(self, found: list[tuple[HitRow, float]], query: str) -> list[dict]:
        matched = self._writer.bm25.matched(query, [row.text for row, _ in found])
        hits = []
        for (row, score), words in zip(found, matched):
            hits.append(
                {
                    "path": row.path,
                    "cell_id": row.cell_id,
                    "cell_index": row.cell_index,
                    "start_line": row.start_line,
                    "end_line": row.end_line,
                    "kind": row.kind,
                    "score": round(score, 6),
                    "text": row.text,
                    "matched": words,
                }
            )
        return hits
