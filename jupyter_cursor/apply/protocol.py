"""The websocket request of apply; the same shape as ``POST /jupyter-cursor/apply`` and the lines of
``jupyter cursor apply --batch``. The result is the NotebookDiff: ``{"cells", "ops", "warnings"}``."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, ClassVar

from .. import protocol
from ..workers import run_cpu, text_size
from .answer import Rewrite, apply_suggestion

if TYPE_CHECKING:  # the fallback imports the model runtime's request types
    from .fallback import ModelFallback

MAX_SUGGESTION_CHARS = protocol.MAX_SUGGESTION_CHARS
Suggestion = Annotated[str, protocol.MaxLen(MAX_SUGGESTION_CHARS)]


@protocol.request("apply")
class ApplyRequest:
    TYPE: ClassVar[str]
    id: str
    cells: protocol.Cells
    suggestion: Suggestion
    path: protocol.ShortText = ""  # the notebook's or file's: a block for another file is refused


@dataclasses.dataclass(frozen=True)
class ApplyBody:
    """The REST body: the request without the websocket's envelope."""

    cells: protocol.Cells
    suggestion: Suggestion
    path: protocol.ShortText = ""


def run_apply(cells: list, suggestion: str, rewrite: Rewrite | None = None, path: str = "") -> dict:
    """Validate sizes and ids, then apply: ValueError for bad input."""
    if len(suggestion) > MAX_SUGGESTION_CHARS:
        raise ValueError(f"the suggestion is longer than {MAX_SUGGESTION_CHARS} characters")
    cells = protocol.cell_dicts(cells)
    if not cells:
        # A notebook always has a cell and a file is one: no cells is a request built wrong.
        raise ValueError("cells is empty: give the notebook's cells (a file is one cell)")
    ids = [cell["id"] for cell in cells]
    if len(set(ids)) != len(ids):
        raise ValueError("cell ids must be unique")
    return apply_suggestion(cells, suggestion, rewrite=rewrite, path=path).to_json()


async def run_apply_async(
    cells: list, suggestion: str, fallback: ModelFallback | None, path: str = ""
) -> dict:
    """`run_apply` off the event loop (workers.py: a large notebook in a worker process), or, with
    the model fallback, in a thread while the fallback generates on the loop."""
    if fallback is None:
        return await run_cpu(text_size(cells, suggestion), run_apply, cells, suggestion, path=path)
    loop = asyncio.get_running_loop()
    rewrite = fallback.rewrite_on(loop)
    return await loop.run_in_executor(None, run_apply, cells, suggestion, rewrite, path)


def apply_methods(fallback: ModelFallback | None) -> dict[str, Callable]:
    """The request methods, by request type, for ``Services.register_methods``."""

    async def apply(req: ApplyRequest, emit) -> dict:
        try:
            return await run_apply_async(req.cells, req.suggestion, fallback, req.path)
        except ValueError as err:
            raise protocol.ProtocolError(protocol.ErrorCode.BAD_MESSAGE, str(err), req.id) from None

    return {ApplyRequest.TYPE: apply}
