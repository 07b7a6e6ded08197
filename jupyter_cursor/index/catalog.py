"""The catalog: what is indexed, keyed by content hashes, in one SQLite file.

It is the source of truth from which the BM25 index can be rebuilt, and it holds the embeddings
(keyed by the chunk's content hash, so an unchanged chunk is never embedded twice, whatever file or
cell index it has now). A vector is written in the same transaction that marks it done, which is
what makes the embedding worker resumable after a crash or restart.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .chunk import Chunk, embed_text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha TEXT,
    error TEXT  -- why a file is not indexed (corrupt notebook...), else NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    uid TEXT PRIMARY KEY, path TEXT NOT NULL, ordinal INTEGER NOT NULL, hash TEXT NOT NULL,
    kind TEXT NOT NULL, cell_id TEXT, cell_index INTEGER, start_line INTEGER, end_line INTEGER,
    heading TEXT NOT NULL, context TEXT NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(hash);
CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
"""


class FileRow(NamedTuple):
    """A file as last indexed: its stat, the hash of its text, why it is not indexed (or None)."""

    size: int
    mtime_ns: int
    sha: str
    error: str | None


class ChunkKey(NamedTuple):
    """A chunk's uid, its file and its content hash."""

    uid: str
    path: str
    hash: str


class HitRow(NamedTuple):
    """What a search hit shows of a chunk."""

    uid: str
    path: str
    cell_id: str | None
    cell_index: int | None
    start_line: int | None
    end_line: int | None
    kind: str
    text: str


class ChunkText(NamedTuple):
    """What BM25 indexes of a chunk."""

    uid: str
    path: str
    text: str
    context: str


class ToEmbed(NamedTuple):
    """A content without a vector: its hash and the text the embedder gets (context and text)."""

    hash: str
    text: str


class Catalog:
    """Thread-safe: one connection, serialised by a lock (every statement here is short)."""

    def __init__(self, path: Path):
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def check(self) -> None:
        """Raise sqlite3.DatabaseError when the file is damaged."""
        with self._lock:
            (result,) = self._db.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise sqlite3.DatabaseError(result)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- meta -------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- files and chunks ---------------------------------------------------------------------------

    def files(self) -> dict[str, FileRow]:
        with self._lock:
            rows = self._db.execute("SELECT path, size, mtime_ns, sha, error FROM files").fetchall()
        return {r[0]: FileRow._make(r[1:]) for r in rows}

    def file(self, path: str) -> FileRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT size, mtime_ns, sha, error FROM files WHERE path = ?", (path,)
            ).fetchone()
        return FileRow._make(row) if row else None

    def paths_under(self, folder: str) -> list[str]:
        """Files inside ``folder`` (not the folder itself); "" means the whole root."""
        with self._lock:
            if not folder:
                return [r[0] for r in self._db.execute("SELECT path FROM files")]
            # substr, not LIKE: paths may contain % and _.
            prefix = folder + "/"
            rows = self._db.execute(
                "SELECT path FROM files WHERE substr(path, 1, ?) = ?", (len(prefix), prefix)
            )
            return [r[0] for r in rows]

    def file_count(self, with_errors: bool = False) -> int:
        where = "" if with_errors else " WHERE error IS NULL"
        with self._lock:
            return self._db.execute(f"SELECT count(*) FROM files{where}").fetchone()[0]

    def chunk_hashes(self, path: str) -> dict[str, str]:
        """uid -> content hash of the chunks of one file."""
        with self._lock:
            rows = self._db.execute("SELECT uid, hash FROM chunks WHERE path = ?", (path,))
            return dict(rows.fetchall())

    def all_chunk_keys(self) -> list[ChunkKey]:
        with self._lock:
            rows = self._db.execute("SELECT uid, path, hash FROM chunks").fetchall()
        return list(map(ChunkKey._make, rows))

    def replace_file(
        self,
        path: str,
        stat: tuple[int, int],
        sha: str,
        error: str | None,
        chunks: list[tuple[str, Chunk]],
    ) -> None:
        """Record the file and its (uid, chunk) list in one transaction."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM chunks WHERE path = ?", (path,))
            self._db.executemany(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        uid,
                        path,
                        n,
                        c.content_hash,
                        c.kind,
                        c.cell_id,
                        c.cell_index,
                        c.start_line,
                        c.end_line,
                        c.heading,
                        c.context,
                        c.text,
                    )
                    for n, (uid, c) in enumerate(chunks)
                ],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)", (path, *stat, sha, error)
            )

    def touch_file(self, path: str, stat: tuple[int, int]) -> None:
        """The file's bytes are unchanged, only its stat: remember it to skip reading next time."""
        with self._lock:
            self._db.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", (*stat, path)
            )

    def remove_file(self, path: str) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM chunks WHERE path = ?", (path,))
            self._db.execute("DELETE FROM files WHERE path = ?", (path,))

    def hits(self, uids: Iterable[str]) -> dict[str, HitRow]:
        uids = list(uids)
        marks = ",".join("?" * len(uids))
        columns = ", ".join(HitRow._fields)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {columns} FROM chunks WHERE uid IN ({marks})", uids
            ).fetchall()
        return {row.uid: row for row in map(HitRow._make, rows)}

    def all_chunks(self) -> list[ChunkText]:
        """Every chunk, for a BM25 rebuild."""
        with self._lock:
            rows = self._db.execute("SELECT uid, path, text, context FROM chunks").fetchall()
        return list(map(ChunkText._make, rows))

    # -- embeddings -----------------------------------------------------------------------------------

    def missing_vectors(self, limit: int, first_paths: Iterable[str] = ()) -> list[ToEmbed]:
        """Up to ``limit`` contents of chunks without a vector; chunks of ``first_paths`` (files
        just saved) come first, so a save is searchable soonest. The others come shortest first:
        a batch of chunks of about one length pads little (cold embedding of dev cells in batches
        of 64: 108 → 131 cells/s under bf16, 73 → 77 in fp32; benchmarks/RESULTS.md)."""
        query = (
            "SELECT c.hash, c.context, c.text "
            "FROM chunks c LEFT JOIN vectors v ON v.hash = c.hash WHERE v.hash IS NULL"
        )
        paths = list(first_paths)
        with self._lock:
            rows = []
            if paths:
                marks = ",".join("?" * len(paths))
                rows = self._db.execute(
                    f"{query} AND c.path IN ({marks}) LIMIT ?", (*paths, limit)
                ).fetchall()
            if len(rows) < limit:
                rows += self._db.execute(
                    f"{query} ORDER BY length(c.context) + length(c.text) LIMIT ?", (limit,)
                ).fetchall()
        # One vector per hash, however many chunks share it.
        unique = {h: embed_text(context, text) for h, context, text in rows}
        return [ToEmbed(h, text) for h, text in list(unique.items())[:limit]]

    def put_vectors(self, hashes: list[str], vectors: np.ndarray) -> None:
        # float16 halves the store; cosine ranking does not notice the rounding.
        blobs = [v.astype(np.float16).tobytes() for v in vectors]
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", zip(hashes, blobs))

    def vectors(self, hashes: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        with self._lock:
            if hashes is None:
                rows = self._db.execute("SELECT hash, vector FROM vectors").fetchall()
            else:
                hashes = list(hashes)
                marks = ",".join("?" * len(hashes))
                rows = self._db.execute(
                    f"SELECT hash, vector FROM vectors WHERE hash IN ({marks})", hashes
                ).fetchall()
        return {h: np.frombuffer(b, dtype=np.float16).astype(np.float32) for h, b in rows}

    def clear_vectors(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM vectors")

    def prune_vectors(self) -> int:
        """Drop vectors no chunk uses any more; returns how many."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM vectors WHERE hash NOT IN (SELECT hash FROM chunks)"
            )
            return cursor.rowcount
