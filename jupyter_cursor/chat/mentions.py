"""``@cell:<id>`` and ``@file:<path>`` mentions in a chat message.

A path with spaces is quoted (``@file:"data/my notes.md"``); an unquoted one ends at whitespace,
less trailing punctuation, so that "see @file:utils.py." names ``utils.py``.
"""

from __future__ import annotations

import dataclasses
import re

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
