"""Learning from use (opt-in, local only): each suggestion shown, with its request, and what the
user did with it; ``export_training`` turns the log into lines shaped like nes_*.jsonl.

The log is JSON lines, appended: ``{"kind": "shown", "request_id", "time", "request", "edits",
"predictor"}`` and ``{"kind": "outcome", "request_id", "time", "outcome"}``. Request ids are the
client's (unique within a connection), so an outcome belongs to the latest suggestion shown with
its id; a suggestion without an outcome was ignored.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

OUTCOMES = ("accepted", "rejected", "ignored")
# A log that grows past this stops growing: it is a local sample, not an archive.
DEFAULT_MAX_BYTES = 500 * 1024 * 1024


def default_log_path() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "jupyter_cursor" / "nextedit_log.jsonl"


class SuggestionLog:
    def __init__(self, path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def shown(self, request_id: str, request: dict, result: dict) -> None:
        request = {key: request.get(key) for key in ("path", "cells", "cursor", "events")}
        self._append({"kind": "shown", "request_id": request_id, "time": time.time(),
                      "request": request, "edits": result["edits"], "predictor": result.get("predictor")})

    def outcome(self, request_id: str, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        self._append({"kind": "outcome", "request_id": request_id, "time": time.time(), "outcome": outcome})

    def _append(self, entry: dict) -> None:
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            size = self.path.stat().st_size if self.path.exists() else 0
            if size + len(line) > self.max_bytes:
                return
            # Private to the user: the log holds their notebooks.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(line)


def read_log(path: str | Path) -> Iterator[dict]:
    """The log's entries; a line cut by a crash is skipped."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("kind") in ("shown", "outcome"):
                yield entry


def pair_outcomes(entries: Iterable[dict]) -> Iterator[tuple[dict, str]]:
    """(shown entry, outcome) for every suggestion, in the order they were decided."""
    pending: dict[str, dict] = {}
    for entry in entries:
        request_id = entry.get("request_id")
        if entry["kind"] == "shown":
            if request_id in pending:
                yield pending.pop(request_id), "ignored"
            pending[request_id] = entry
        elif request_id in pending and entry.get("outcome") in OUTCOMES:
            yield pending.pop(request_id), entry["outcome"]
    for entry in pending.values():
        yield entry, "ignored"


def training_line(entry: dict, outcome: str, number: int) -> dict:
    """A nes_*.jsonl-shaped line: ``expected`` is the suggestion when accepted, no edit otherwise
    (the suggestion is kept in ``suggested``, a negative example when rejected)."""
    request = entry["request"]
    path = request.get("path") or ""
    edits = {edit["cell_id"]: edit["source"] for edit in entry["edits"]}
    expected = edits if outcome == "accepted" else {}
    return {
        "id": f"local-{number}",
        "path": path,
        "origin": f"local:{path}",
        "kind": "ipynb" if path.endswith(".ipynb") else "py",
        "cells": request["cells"],
        "events": request.get("events") or [],
        "cursor": request["cursor"],
        "expected": expected,
        "cross_cell": any(cell_id != request["cursor"]["cell_id"] for cell_id in expected),
        "outcome": outcome,
        "predictor": entry.get("predictor"),
        "suggested": edits,
    }


def export_training(path: str | Path, outcomes: Iterable[str] = ("accepted", "rejected")) -> Iterator[dict]:
    wanted = set(outcomes)
    number = 0
    for entry, outcome in pair_outcomes(read_log(path)):
        if outcome in wanted:
            number += 1
            yield training_line(entry, outcome, number)
