"""Carry a rename to every place it applies at once.

When the user's last edit replaced one identifier by another (``df`` → ``sales``), every other
whole-word occurrence of the old name, in every code cell, is renamed in one suggestion. Measured
against the next edit users make (benchmarks/eval_nextedit.py) this is right less often than the
rename carried to its next place only, which ``repeat`` does; it stays as the measured alternative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .repeat import IDENTIFIER
from .spans import word_span

MIN_NAME = 2  # a one-letter name is usually a name still being typed


@dataclass(frozen=True)
class Rename:
    old: str
    new: str


def detect_rename(before: str, after: str) -> Rename | None:
    """The single identifier replacement that turns `before` into `after`, if that is all."""
    old, new = word_span(before, after)
    if not (IDENTIFIER.match(old) and IDENTIFIER.match(new)) or len(new) < MIN_NAME:
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
