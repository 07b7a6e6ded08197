"""The websocket request of workspace search (see jupyter_cursor/protocol.py for the envelope).

The result is ``{"hits": [...]}`` with hits as in ARCHITECTURE.md's contract, the same as the REST face
``GET /jupyter-cursor/search`` and ``jupyter cursor search --json``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from .. import protocol

if TYPE_CHECKING:  # the index imports Whoosh and the embedder
    from .workspace import WorkspaceIndex

Query = Annotated[str, protocol.MaxLen(protocol.MAX_QUERY_CHARS)]
Mode = Literal["hybrid", "bm25", "embedding"]


@protocol.request("search")
class SearchRequest:
    TYPE: ClassVar[str]
    id: str
    query: Query
    k: int = 10
    mode: Mode = "hybrid"


@dataclasses.dataclass(frozen=True)
class SearchBody:
    """The REST query and a CLI batch line: the request without the websocket's envelope."""

    query: Query
    k: int = 10
    mode: Mode = "hybrid"


async def search(index: WorkspaceIndex | None, query: str, k: int, mode: str) -> list[dict]:
    """The REST face's and the websocket's search, off the event loop: ValueError for a bad query,
    k or mode, LookupError when the index is not running."""
    if index is None:
        raise LookupError("the workspace index is not running (see /jupyter-cursor/status)")
    if not query.strip():
        raise ValueError("the query is empty")
    return await asyncio.to_thread(index.search, query, k, mode)


def search_methods(index: WorkspaceIndex) -> dict[str, Callable]:
    """The request methods, by request type, for ``Services.register_methods``."""

    async def search_method(req: SearchRequest, emit) -> dict:
        try:
            return {"hits": await search(index, req.query, req.k, req.mode)}
        except ValueError as err:
            raise protocol.ProtocolError(protocol.ErrorCode.BAD_MESSAGE, str(err), req.id) from None

    return {SearchRequest.TYPE: search_method}
