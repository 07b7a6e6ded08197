"""``@cell:<id>`` and ``@file:<path>`` mentions in a chat message.

A cell may also be named by its number, ``@cell:3`` (the third cell), as the chat's ``@`` popup
writes it: JupyterLab shows cells by position, never by id. A path with spaces is quoted (``@file:"data/my notes.md"``); an unquoted one ends at whitespace,
less trailing punctuation, so that "see @file:utils.py." names ``utils.py``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

_MENTION = re.compile(r'(?<![\w@])@(cell|file):(?:"([^"\n]+)"|(\S+))')
_TRAILING = ".,;:!?)]}'\""
_CELL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # nbformat's cell id alphabet


@dataclasses.dataclass(frozen=True)
class Mention:
    kind: str  # "cell" or "file"
    target: str


def parse_mentions(message: str) -> list[Mention]:
    """The mentions in order of first appearance, each once."""
    found: list[Mention] = []
    for match in _MENTION.finditer(message):
        kind, quoted, bare = match.groups()
        target = quoted if quoted is not None else bare.rstrip(_TRAILING)
        if not target or (kind == "cell" and not _CELL_ID.match(target)):
            continue
        mention = Mention(kind, target)
        if mention not in found:
            found.append(mention)
    return found


def cells_by_id(message: str, ids: Sequence[str]) -> str:
    """``message`` with each ``@cell:N`` that names a cell by number written ``@cell:<id>`` with
    that cell's id, as the model knows the cells; an id that is a number keeps naming its cell."""

    def by_id(match: re.Match) -> str:
        kind, quoted, bare = match.groups()
        target = (bare or "").rstrip(_TRAILING)
        if kind != "cell" or not target.isdigit() or target in ids:
            return match.group(0)
        number = int(target)
        if not 1 <= number <= len(ids):
            return match.group(0)
        return f"@cell:{ids[number - 1]}{bare[len(target) :]}"

    return _MENTION.sub(by_id, message)
