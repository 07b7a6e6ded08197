"""What a :class:`~.workspace.WorkspaceIndex` shares with its two background threads."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from .vectors import VectorStore


@dataclasses.dataclass(frozen=True)
class Shared:
    vectors: VectorStore
    # Notified whenever a thread may have become idle: wait_idle() waits on it.
    cond: threading.Condition
    closing: threading.Event  # set by close()
    # push_status(force=False): the status to the index's on_change (at most every 0.5 s unless
    # forced).
    push_status: Callable[..., None]
    set_state: Callable[..., None]  # set_state(state, error=None): the writer's "ready", "error"
    report_error: Callable[[str], None]  # the embedder's failure (BM25 search goes on)
