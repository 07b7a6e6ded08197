"""The websocket request of workspace search (see jupyter_cursor/protocol.py for the envelope).

The result is ``{"hits": [...]}`` with hits as in DESIGN.md's contract, the same as the REST face
``GET /jupyter-cursor/search`` and ``jupyter cursor search --json``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, ClassVar, Literal

from .. import protocol

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
