"""Carry a rename to the other places it applies.

When the user's last edit replaced one identifier by another (``df`` → ``sales``), every other
whole-word occurrence of the old name, in the cell being edited and in the other cells, is the
next edit. This is cheap and certain enough to answer at once, without a model.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"[A-Za-z_]\w*|\s+|.", re.DOTALL)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")
MIN_NAME = 2  # a one-letter name is usually a name still being typed


@dataclass(frozen=True)
class Rename:
    old: str
    new: str


def detect_rename(before: str, after: str) -> Rename | None:
    """The single identifier replacement that turns `before` into `after`, if that is all."""
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    changes = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
               if op[0] != "equal"]
    if len(changes) != 1:
        return None
    tag, i1, i2, j1, j2 = changes[0]
    if tag != "replace" or i2 - i1 != 1 or j2 - j1 != 1:
        return None
    old, new = a[i1], b[j1]
    if not (_IDENTIFIER.match(old) and _IDENTIFIER.match(new)) or len(new) < MIN_NAME:
        return None
    if new.startswith(old) or old.startswith(new):
        return None  # still typing (or deleting) the name: wait for the word
    return Rename(old, new)


def word(name: str) -> re.Pattern:
    return re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)")


def carry(rename: Rename, cells: Sequence[dict]) -> list[dict]:
    """New sources of the code cells that still use the old name ([] when none does)."""
    pattern = word(rename.old)
    edits = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        new_source = pattern.sub(rename.new, cell["source"])
        if new_source != cell["source"]:
            edits.append({"cell_id": cell["id"], "source": new_source})
    return edits
