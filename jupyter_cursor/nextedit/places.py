"""Where the next edit is looked for: after the cursor in its cell, then in the code cells below
(edits go down a notebook more often than up), one run of consecutive lines at a time (a diff hunk).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence


def kind_of(cells: Sequence[dict], cell_id: str) -> str:
    """The cell's type ("code" or "markdown"); "code" for a cell not there."""
    return next((c.get("cell_type", "code") for c in cells if c["id"] == cell_id), "code")


def places_for(
    cells: Sequence[dict], cursor_cell: str, offset: int, kind: str = "code"
) -> Iterator[tuple[dict, int]]:
    """(cell, offset to search from): the cursor's cell from the cursor, then each cell below of
    the edited cell's ``kind``: an edit of a markdown cell's prose goes on in the markdown cells
    below, never into code (a ``--`` → ``&mdash;`` in prose was proposed inside a plotting call's
    string), and an edit of code in the code cells below."""
    below = False
    for cell in cells:
        if cell["id"] == cursor_cell:
            below = True
            yield cell, offset
        elif below and cell.get("cell_type", "code") == kind:
            yield cell, 0


def next_run(pattern: re.Pattern, replacement: str, source: str, start: int) -> str | None:
    """``source`` with ``pattern`` replaced on the run of consecutive lines that starts at its
    first match at or after ``start`` (on that first line, only from the match on); None if none."""
    first = pattern.search(source, start)
    if first is None:
        return None
    line_start = source.rfind("\n", 0, first.start()) + 1
    end = run_end(pattern, source, first)
    head = source[line_start : first.start()]
    run = pattern.sub(lambda _match: replacement, source[first.start() : end])
    return source[:line_start] + head + run + source[end:]


def run_end(pattern: re.Pattern, source: str, first: re.Match) -> int:
    """The end of the run of consecutive lines from ``first``'s line that each have a match."""
    end = source.find("\n", first.start())
    end = len(source) if end < 0 else end + 1
    while end < len(source):
        next_end = source.find("\n", end)
        next_end = len(source) if next_end < 0 else next_end + 1
        if not pattern.search(source[end:next_end]):
            break
        end = next_end
    return end
