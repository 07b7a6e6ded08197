"""The websocket request of next-edit prediction (DESIGN.md's next-edit request)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from .. import protocol


@protocol.request("nextedit")
class NextEditRequest:
    TYPE: ClassVar[str]
    id: str
    path: str
    cells: list[protocol.Cell]
    cursor: protocol.Cursor
    events: list[protocol.EditEvent] = dataclasses.field(default_factory=list)
