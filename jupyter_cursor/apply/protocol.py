"""The websocket request of apply; the same shape as ``POST /jupyter-cursor/apply`` and the lines of
``jupyter cursor apply --batch``. The result is the NotebookDiff: ``{"cells", "ops", "warnings"}``."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from .. import protocol
from .engine import apply_suggestion

MAX_SUGGESTION_CHARS = 1_000_000


@protocol.request("apply")
class ApplyRequest:
    TYPE: ClassVar[str]
    id: str
    cells: list[protocol.Cell]
    suggestion: str


@dataclasses.dataclass(frozen=True)
class ApplyBody:
    """The REST body: the request without the websocket's envelope."""

    cells: list[protocol.Cell]
    suggestion: str


def run_apply(cells: list, suggestion: str) -> dict:
    """Validate sizes and ids, then apply: ValueError for bad input."""
    if len(suggestion) > MAX_SUGGESTION_CHARS:
        raise ValueError(f"the suggestion is longer than {MAX_SUGGESTION_CHARS} characters")
    ids = [cell.id if hasattr(cell, "id") else cell["id"] for cell in cells]
    if len(set(ids)) != len(ids):
        raise ValueError("cell ids must be unique")
    return apply_suggestion(cells, suggestion).to_json()
