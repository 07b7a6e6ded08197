"""The websocket request of apply; the same shape as ``POST /jupyter-cursor/apply`` and the lines of
``jupyter cursor apply --batch``. The result is the NotebookDiff: ``{"cells", "ops", "warnings"}``."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, ClassVar

from .. import protocol
from .engine import Rewrite, apply_suggestion

if TYPE_CHECKING:  # the fallback imports the model runtime's request types
    from .fallback import ModelFallback

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


def run_apply(cells: list, suggestion: str, rewrite: Rewrite | None = None) -> dict:
    """Validate sizes and ids, then apply: ValueError for bad input."""
    if len(suggestion) > MAX_SUGGESTION_CHARS:
        raise ValueError(f"the suggestion is longer than {MAX_SUGGESTION_CHARS} characters")
    ids = [cell.id if hasattr(cell, "id") else cell["id"] for cell in cells]
    if len(set(ids)) != len(ids):
        raise ValueError("cell ids must be unique")
    return apply_suggestion(cells, suggestion, rewrite=rewrite).to_json()


async def run_apply_async(cells: list, suggestion: str, fallback: ModelFallback | None) -> dict:
    """`run_apply` off the event loop (a large notebook takes milliseconds), the model fallback,
    when configured, generating on the loop while the merge waits for it in its thread."""
    loop = asyncio.get_running_loop()
    rewrite = fallback.rewrite_on(loop) if fallback is not None else None
    return await loop.run_in_executor(None, run_apply, cells, suggestion, rewrite)
