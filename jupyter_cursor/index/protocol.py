"""The websocket request of workspace search (see jupyter_cursor/protocol.py for the envelope).

The result is ``{"hits": [...]}`` with hits as in DESIGN.md's contract, the same as the REST face
``GET /jupyter-cursor/search`` and ``jupyter cursor search --json``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from .. import protocol


@protocol.request("search")
class SearchRequest:
    TYPE: ClassVar[str]
    id: str
    query: str
    k: int = 10
    mode: Literal["hybrid", "bm25", "embedding"] = "hybrid"
