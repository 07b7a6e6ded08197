"""The in-memory vector side: a NumPy matrix of unit vectors and the chunks they belong to.

At workspace scale (10^4 - 10^5 chunks of 384 dimensions) an exact matrix product takes a few
milliseconds, so no approximate index is needed. The matrix is rebuilt lazily after changes.

The product runs on one BLAS thread. Right after the query's embedding (torch's OpenMP threads
still spinning), OpenBLAS's own threads on the same cores waited on them: 10k chunks took 25 ms at
the median and 116 ms at p95 instead of 0.4 ms (benchmarks/RESULTS.md, "Search speed at 10k
chunks"); one thread does a matrix-vector product of this size in well under a millisecond.
"""

from __future__ import annotations

import functools
import threading

import numpy as np
from threadpoolctl import ThreadpoolController


@functools.cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


# The limit is process-wide and restored on exit: two searches at once must not interleave it.
_ONE_BLAS_THREAD = threading.Lock()


class VectorStore:
    def __init__(self, dimension: int):
        self._dimension = dimension
        self._lock = threading.Lock()
        self._by_hash: dict[str, np.ndarray] = {}
        self._chunk_hash: dict[str, str] = {}  # uid -> content hash
        self._matrix: np.ndarray | None = None  # rows: embedded chunks, in the order of _uids
        self._uids: list[str] = []
        # (chunks with a vector, chunks), counted again after a change: every search asks, and
        # counting 10k chunks took 2.8 ms of a hybrid query's ~40 (RESULTS.md, "Search speed").
        self._coverage: tuple[int, int] | None = None

    def set_chunks(self, uid_hashes: dict[str, str]) -> None:
        with self._lock:
            self._chunk_hash = dict(uid_hashes)
            self._matrix = self._coverage = None

    def update_chunks(self, removed: list[str], added: dict[str, str]) -> None:
        with self._lock:
            for uid in removed:
                self._chunk_hash.pop(uid, None)
            self._chunk_hash.update(added)
            self._matrix = self._coverage = None

    def add_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._by_hash.update(vectors)
            self._matrix = self._coverage = None

    def forget_unused(self) -> None:
        """Drop vectors of content no chunk has any more (edited away), so memory stays bounded
        over a long session; the catalog keeps them until the next start."""
        with self._lock:
            used = set(self._chunk_hash.values())
            self._by_hash = {h: v for h, v in self._by_hash.items() if h in used}

    def without_vector(self, hashes) -> list[str]:
        with self._lock:
            return [h for h in hashes if h not in self._by_hash]

    def coverage(self) -> tuple[int, int]:
        """(chunks with a vector, chunks)"""
        with self._lock:
            if self._coverage is None:
                done = sum(1 for h in self._chunk_hash.values() if h in self._by_hash)
                self._coverage = done, len(self._chunk_hash)
            return self._coverage

    def _ensure_matrix(self) -> tuple[np.ndarray, list[str]]:
        if self._matrix is None:
            uids = [u for u, h in self._chunk_hash.items() if h in self._by_hash]
            rows = [self._by_hash[self._chunk_hash[u]] for u in uids]
            self._matrix = (
                np.vstack(rows).astype(np.float32)
                if rows
                else np.zeros((0, self._dimension), np.float32)
            )
            self._uids = uids
        return self._matrix, self._uids

    def search(self, query: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """(uid, cosine similarity) of the ``limit`` nearest chunks to a unit query vector."""
        with self._lock:
            matrix, uids = self._ensure_matrix()
        if not uids:
            return []
        with _ONE_BLAS_THREAD, _threadpools().limit(limits=1, user_api="blas"):
            scores = matrix @ query.astype(np.float32)
        limit = min(limit, len(uids))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top])]
        return [(uids[i], float(scores[i])) for i in top]
