"""Chat history in SQLite: sessions per notebook path, their messages, surviving restarts.

One file under Jupyter's data dir (``jupyter_data_dir()/jupyter_cursor/chat.sqlite3``), in WAL
mode so that a reader (the history panel) never waits on the writer (a streaming answer). Calls
are short and synchronous; the connection is shared by the threads of one server behind a lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_path ON sessions (path, updated);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'complete',
    meta TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages (session_id, id);
"""
# A message's status: a cancelled or failed answer keeps the text that had arrived.
STATUSES = ("complete", "cancelled", "error")
TITLE_CHARS = 80


def default_path() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "jupyter_cursor" / "chat.sqlite3"


class ChatStore:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this crash-safe
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")  # a second server on the same file waits
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer jupyter_cursor (schema {version})"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- sessions ------------------------------------------------------------------------------
    def create_session(self, path: str, title: str = "") -> dict[str, Any]:
        now = time.time()
        session = {
            "id": uuid.uuid4().hex,
            "path": path,
            "title": title[:TITLE_CHARS],
            "created": now,
            "updated": now,
        }
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions (id, path, title, created, updated) VALUES (?, ?, ?, ?, ?)",
                tuple(session.values()),
            )
        return {**session, "messages": 0}

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT s.*, (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS messages"
                " FROM sessions s WHERE s.id = ?",
                (session_id,),
            ).fetchone()
        return dict(row) if row else None

    def list_sessions(self, path: str) -> list[dict[str, Any]]:
        """The notebook's sessions, most recently used first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT s.*, (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS messages"
                " FROM sessions s WHERE s.path = ? ORDER BY s.updated DESC, s.rowid DESC",
                (path,),
            ).fetchall()
        return [dict(r) for r in rows]

    def delete_session(self, session_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        return cursor.rowcount > 0

    def rename_path(self, old: str, new: str) -> int:
        """Follow a notebook renamed or moved, so its history follows it."""
        with self._lock:
            return self._db.execute(
                "UPDATE sessions SET path = ? WHERE path = ?", (new, old)
            ).rowcount

    # -- messages ------------------------------------------------------------------------------
    def append_message(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        status: str = "complete",
        meta: dict[str, Any] | None = None,
    ) -> int:
        """Add a message; the first user message also titles an untitled session."""
        if role not in ("user", "assistant"):
            raise ValueError(f"role must be 'user' or 'assistant', not {role!r}")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        now = time.time()
        with self._lock, self._db:
            self._db.execute("BEGIN")
            cursor = self._db.execute(
                "INSERT INTO messages (session_id, role, content, status, meta, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, role, content, status, json.dumps(meta or {}), now),
            )
            title = " ".join(content.split())[:TITLE_CHARS] if role == "user" else ""
            self._db.execute(
                "UPDATE sessions SET updated = ?, title = CASE WHEN title = '' THEN ? ELSE title END"
                " WHERE id = ?",
                (now, title, session_id),
            )
        return cursor.lastrowid

    def history(self, session_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The session's messages, oldest first (the last ``limit`` of them if given)."""
        query = "SELECT * FROM messages WHERE session_id = ? ORDER BY id DESC"
        params: tuple = (session_id,)
        if limit is not None:
            query += " LIMIT ?"
            params += (limit,)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [{**dict(r), "meta": json.loads(r["meta"])} for r in reversed(rows)]
