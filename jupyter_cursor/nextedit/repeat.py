"""Repeat the user's last edit at the next place it applies: the same whole words replaced the
same way (a repeated argument change, a renamed call, a fixed typo), after the cursor in its cell,
else in a code cell below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .places import next_run, places_after
from .spans import changed_span, word_span

IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")


def pattern_of(old: str) -> re.Pattern:
    """``old`` where it stands as whole words (not inside a longer identifier)."""
    left = r"(?<!\w)" if old[:1].isalnum() or old[:1] == "_" else ""
    right = r"(?!\w)" if old[-1:].isalnum() or old[-1:] == "_" else ""
    return re.compile(left + re.escape(old) + right)


def repeatable(before: str, after: str) -> tuple[str, str] | None:
    """(old, new) whole words of an edit worth repeating, or None.

    Measured on nes_train (benchmarks/eval_nextedit.py, where a repeat is right about half the
    time): edits that span lines are rarely repeated (8% right), and a pure insertion only when it
    completes a word (``violin`` → ``violinplot``: 72% right; other insertions: 3%).
    """
    old, new = word_span(before, after)
    if not old.strip() or "\n" in old:
        return None
    inserted_only = not changed_span(before, after)[0].strip()
    if inserted_only and not (IDENTIFIER.match(old) and IDENTIFIER.match(new)):
        return None
    return old, new


def repeat_next(event: dict, cells: Sequence[dict], cursor_cell: str, offset: int) -> list[dict]:
    """The event's change made again at its next place ([] when there is none)."""
    edit = repeatable(event["before"], event["after"])
    if edit is None:
        return []
    old, new = edit
    pattern = pattern_of(old)
    for cell, start in places_after(cells, cursor_cell, offset):
        source = next_run(pattern, new, cell["source"], start)
        if source is not None:
            return [{"cell_id": cell["id"], "source": source}]
    return []
