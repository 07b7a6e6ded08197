"""The embedder thread of a :class:`~.workspace.WorkspaceIndex`: it computes the vectors of chunks
that have none, in batches, most recently saved files first, writing each batch to the catalog as
it goes (so a restart resumes where the last run stopped).
"""

from __future__ import annotations

import logging
import threading

from .catalog import Catalog
from .embedder import Embedder
from .shared import Shared

log = logging.getLogger("jupyter_cursor.index")

EMBED_BATCH = 64


class EmbedderThread:
    """Embeds with ``embedder`` from :meth:`start` until the index closes. :attr:`state` is the
    status' "embeddings" field; the index's condition is notified whenever :attr:`idle` becomes
    true.
    """

    def __init__(self, shared: Shared, embedder: Embedder):
        self._shared = shared
        self.embedder = embedder
        self.idle = False  # until the thread has looked for work
        self.state = "waiting"
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._catalog: Catalog | None = None
        self._recent_paths: dict[str, None] = {}

    def start(self, catalog: Catalog, recent_paths: dict[str, None]) -> None:
        """Called by the writer once the cold scan is done. ``recent_paths``: the writer's files
        saved since, whose chunks are embedded first (cleared here once none is left to embed)."""
        self._catalog = catalog
        self._recent_paths = recent_paths
        self._wake.set()
        self._thread = threading.Thread(
            target=self._main, name="cursor-index-embedder", daemon=True
        )
        self._thread.start()

    def wake(self) -> None:
        """New chunks may lack vectors (the writer has synced a batch)."""
        with self._shared.cond:
            self.idle = False
        self._wake.set()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _main(self) -> None:
        try:
            self.state = "loading"
            with self._shared.cond:
                self.idle = False
            self._shared.push_status(force=True)
            if hasattr(self.embedder, "load"):
                self.embedder.load()  # seconds (torch): before "running", so status says so
            self.state = "running"
            while not self._shared.closing.is_set():
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                while not self._shared.closing.is_set() and self._embed_batch():
                    self._shared.push_status()
                self._shared.vectors.forget_unused()
                with self._shared.cond:
                    if not self._wake.is_set():
                        self.idle = True
                        self.state = "done"
                    self._shared.cond.notify_all()
                self._shared.push_status(force=True)
        except Exception as err:  # noqa: BLE001 (BM25 search goes on without embeddings)
            log.exception("jupyter_cursor index: embedding failed")
            self.state = "error"
            self._shared.report_error(f"embeddings: {type(err).__name__}: {err}")
            with self._shared.cond:
                self.idle = True
                self._shared.cond.notify_all()
            self._shared.push_status(force=True)

    def _embed_batch(self) -> bool:
        """Embed one batch of chunks without vectors; False when there were none."""
        todo = self._catalog.missing_vectors(EMBED_BATCH, first_paths=list(self._recent_paths))
        if not todo:
            self._recent_paths.clear()
            return False
        self.state = "running"
        hashes = [row.hash for row in todo]
        vectors = self.embedder.encode([row.text for row in todo])
        self._catalog.put_vectors(hashes, vectors)
        self._shared.vectors.add_vectors(dict(zip(hashes, vectors)))
        return True
