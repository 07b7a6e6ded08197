"""The websocket requests of next-edit prediction, and the methods that answer them (no web code).

``nextedit`` (ARCHITECTURE.md's next-edit request) streams partials ``{"edits", "predictor": "model",
"partial": true}`` while the model writes, then the result ``{"edits", "predictor", "timings":
{"queue_ms", "prefill_ms", "decode_ms", "total_ms"}}`` (plus ``"model"`` when the model ran).
``nextedit_outcome`` tells what the user did with a shown suggestion, for the opt-in local log.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from .. import protocol
from ..protocol import ErrorCode, ProtocolError
from .service import NextEditService


@dataclasses.dataclass(frozen=True)
class ExecutionError:
    """A cell's execution that ended in an error, as the kernel reported it: the fix rules'
    event (kernel/fix.py). The traceback's lines keep the kernel's ANSI colours."""

    ename: protocol.ShortText
    evalue: protocol.Text
    traceback: Annotated[list[protocol.Text], protocol.MaxLen(200)] = dataclasses.field(
        default_factory=list
    )


@protocol.request("nextedit", max_in_flight=4)
class NextEditRequest:
    TYPE: ClassVar[str]
    id: str
    path: str
    cells: protocol.Cells
    cursor: protocol.Cursor
    events: Annotated[list[protocol.EditEvent], protocol.MaxLen(protocol.MAX_EVENTS)] = (
        dataclasses.field(default_factory=list)
    )
    language: str = ""  # the kernel's (a notebook) or the file's; "" when the client cannot tell
    # The cursor's cell just failed (its execution's error): the request asks for its fix.
    error: ExecutionError | None = None


@protocol.request("nextedit_outcome", max_in_flight=8)
class NextEditOutcome:
    TYPE: ClassVar[str]
    id: str
    request_id: protocol.Identifier  # the id of the ``nextedit`` request whose suggestion was shown
    outcome: Literal["accepted", "rejected", "ignored"]
    cell_id: protocol.Identifier | None = (
        None  # the edit of one cell of the suggestion; None: all of them
    )


def nextedit_methods(service: NextEditService) -> dict[str, Callable]:
    """The request methods, by request type, for ``Services.register_methods``."""

    async def nextedit(req: NextEditRequest, emit: Callable[[Any], None]) -> dict:
        request = protocol.to_dict(req)
        try:
            return await service.predict(request, emit, request_id=req.id)
        except ValueError as err:  # the cursor's cell missing, a cell too large
            raise ProtocolError(ErrorCode.BAD_MESSAGE, str(err), req.id) from None

    async def nextedit_outcome(req: NextEditOutcome, emit: Callable[[Any], None]) -> dict:
        if service.log is None:
            return {"logged": False}
        await asyncio.to_thread(service.log.outcome, req.request_id, req.outcome, req.cell_id)
        return {"logged": True}

    return {NextEditRequest.TYPE: nextedit, NextEditOutcome.TYPE: nextedit_outcome}
