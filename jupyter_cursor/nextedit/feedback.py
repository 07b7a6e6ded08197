"""Learning from use (opt-in, local only): each suggestion shown, with its request, and what the
user did with it; ``export_training`` turns the log into lines shaped like nes_*.jsonl.

The log is JSON lines, appended: ``{"kind": "shown", "request_id", "time", "request", "edits",
"predictor"}`` and ``{"kind": "outcome", "request_id", "cell_id", "time", "outcome"}`` (``cell_id`` null: every cell
of the suggestion). Request ids are the client's (unique within a connection), so an outcome
belongs to the latest suggestion shown with its id; a cell without an outcome was ignored.
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
        self._append(
            {
                "kind": "shown",
                "request_id": request_id,
                "time": time.time(),
                "request": request,
                "edits": result["edits"],
                "predictor": result.get("predictor"),
            }
        )

    def outcome(self, request_id: str, outcome: str, cell_id: str | None = None) -> None:
        """What the user did with the suggestion of ``request_id`` (with ``cell_id``: with its
        edit of that cell only)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        self._append(
            {
                "kind": "outcome",
                "request_id": request_id,
                "cell_id": cell_id,
                "time": time.time(),
                "outcome": outcome,
            }
        )

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


class LogError(ValueError):
    """A suggestion log that cannot be learnt from: missing, empty, or not a suggestion log."""


def _well_formed(entry) -> bool:
    if not isinstance(entry, dict) or entry.get("kind") not in ("shown", "outcome"):
        return False
    if entry["kind"] == "outcome":
        return entry.get("outcome") in OUTCOMES
    request, edits = entry.get("request"), entry.get("edits")
    return (
        isinstance(request, dict)
        and isinstance(request.get("cells"), list)
        and isinstance(request.get("cursor"), dict)
        and isinstance(request.get("events") or [], list)
        and isinstance(edits, list)
        and all(isinstance(e, dict) and "cell_id" in e and "source" in e for e in edits)
    )


def load_log(path: str | Path) -> tuple[list[dict], int]:
    """(entries, lines skipped) of the log at ``path``, strictly: LogError when it is missing,
    unreadable, empty, or more of its lines are not log entries than are (not a suggestion log).
    A few bad lines are skipped: a crash can cut the line being written."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise LogError(
            f"no suggestion log at {path}: it is written only while the server runs with "
            "c.CursorApp.nextedit_log = True (or give --log PATH)"
        ) from None
    except IsADirectoryError:
        raise LogError(f"{path} is a folder, not a suggestion log") from None
    except OSError as err:
        raise LogError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise LogError(f"{path} is not a suggestion log (not UTF-8 text)") from None
    entries, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if _well_formed(entry):
            entries.append(entry)
        else:
            bad += 1
    if not entries and not bad:
        raise LogError(f"the suggestion log {path} is empty: no suggestion was shown yet")
    if bad > len(entries):
        raise LogError(
            f"{path} is not a suggestion log: {bad} of its {bad + len(entries)} lines are not "
            "entries of one (corrupt?)"
        )
    return entries, bad


def pair_outcomes(entries: Iterable[dict]) -> Iterator[tuple[dict, dict[str, str]]]:
    """(shown entry, {cell_id: outcome}) for every suggestion; a cell without an outcome was
    ignored. An outcome without a cell id is the outcome of every cell of its suggestion; the
    first outcome of a cell counts."""
    pending: dict[str, tuple[dict, dict[str, str]]] = {}
    for entry in entries:
        request_id = entry.get("request_id")
        if entry["kind"] == "shown":
            if request_id in pending:
                yield pending.pop(request_id)
            pending[request_id] = (entry, {})
        elif request_id in pending and entry.get("outcome") in OUTCOMES:
            shown, decided = pending[request_id]
            cells = (
                [entry["cell_id"]]
                if entry.get("cell_id")
                else [e["cell_id"] for e in shown["edits"]]
            )
            for cell_id in cells:
                decided.setdefault(cell_id, entry["outcome"])
    yield from pending.values()


def overall(decided: dict[str, str]) -> str:
    """A suggestion is accepted when any of its cells was, rejected when any was and none accepted."""
    outcomes = set(decided.values())
    return next((o for o in ("accepted", "rejected") if o in outcomes), "ignored")


def training_line(entry: dict, decided: dict[str, str], number: int) -> dict:
    """A nes_*.jsonl-shaped line: ``expected`` holds the accepted cells of the suggestion (none
    when nothing was accepted: the suggestion stays in ``suggested``, a negative when rejected)."""
    request = entry["request"]
    path = request.get("path") or ""
    edits = {edit["cell_id"]: edit["source"] for edit in entry["edits"]}
    expected = {
        cell_id: source for cell_id, source in edits.items() if decided.get(cell_id) == "accepted"
    }
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
        "outcome": overall(decided),
        "outcomes": decided,
        "predictor": entry.get("predictor"),
        "suggested": edits,
    }


def export_training(
    path: str | Path, outcomes: Iterable[str] = ("accepted", "rejected")
) -> Iterator[dict]:
    wanted = set(outcomes)
    number = 0
    for entry, decided in pair_outcomes(read_log(path)):
        if overall(decided) in wanted:
            number += 1
            yield training_line(entry, decided, number)
