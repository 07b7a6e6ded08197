"""The websocket request of the Refactor command; partials are the service's "delta" events and
the result is its final "diff" event (see service.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar

from .. import protocol
from ..protocol import ProtocolError
from ..providers import ProviderError
from .service import RefactorService


# A refactor is a paid provider call over a whole notebook: one at a time per connection.
@protocol.request("refactor", max_in_flight=1)
class RefactorRequest:
    TYPE: ClassVar[str]
    id: str
    path: str
    cells: protocol.Cells
    instruction: protocol.Text
    outputs: Annotated[dict[str, protocol.Source], protocol.MaxLen(protocol.MAX_CELLS)] | None = (
        None  # cell id -> summarised output text
    )
    provider: str | None = None


def refactor_methods(service: RefactorService) -> dict[str, Callable]:
    async def refactor(req: RefactorRequest, emit) -> dict:
        cells = protocol.cell_dicts(req.cells)
        try:
            async for event in service.run(
                req.path, cells, req.instruction, outputs=req.outputs, provider_name=req.provider
            ):
                if event["type"] == "diff":
                    return event
                emit(event)
        except ProviderError as err:
            raise ProtocolError(err.code, err.message, req.id) from None
        except ValueError as err:
            raise ProtocolError(protocol.ErrorCode.BAD_MESSAGE, str(err), req.id) from None
        raise ProtocolError(
            protocol.ErrorCode.INTERNAL, "the refactor ended without a result", req.id
        )

    return {RefactorRequest.TYPE: refactor}
