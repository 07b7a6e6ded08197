"""What several verbs share: user errors, JSON output, JSON-lines batches."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """Bad input from the user: printed without a traceback, exit status 2."""


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


class BadLine(ValueError):
    """A line of a JSON-lines batch that is not a JSON object: an error for that line only."""


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict | BadLine]]:
    """Yield (line number, object) for each non-blank line, or (line number, BadLine) for a line
    that is not a JSON object: a batch answers it with an error line and goes on. A file that
    cannot be read is a UsageError."""
    try:
        handle = open(path, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as err:
                yield number, BadLine(f"line {number}: not valid JSON ({err})")
                continue
            if not isinstance(obj, dict):
                yield number, BadLine(f"line {number}: each line must be a JSON object")
                continue
            yield number, obj


def write_jsonl_line(handle, obj: Any) -> None:
    handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
    handle.flush()


@contextlib.contextmanager
def jsonl_output(path: str | None) -> Iterator:
    """Where a batch writes its lines: the file at ``path``, or standard output."""
    if not path:
        yield sys.stdout
        return
    try:
        handle = open(path, "w", encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
    with handle:
        yield handle


def write_jsonl_error(handle, request_id: Any, err: Exception) -> None:
    """The line of a batch request that failed: its id and why; the batch goes on."""
    write_jsonl_line(handle, {"id": request_id, "error": f"{type(err).__name__}: {err}"})
