"""NotebookDiff: the cell operations between two versions of a notebook, and their application.

Operations, in this order: ``delete(cell_id)`` for cells that are gone, ``modify(cell_id, hunks)``
for cells whose source changed, ``insert(position, cell_type, source, id, after_cell_id)`` for new
cells, in ascending position of the result (so inserting them in order lands each where it
belongs). Hunks are line ranges of the original source with their new lines (line ends kept), so
they reproduce the result exactly.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from .matching import common_ends


@dataclass
class NotebookDiff:
    cells: list[dict]  # the resulting cells
    ops: list[dict]
    warnings: list[dict] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"cells": self.cells, "ops": self.ops, "warnings": self.warnings}


def hunks(before: str, after: str) -> list[dict]:
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    # Only the span between the common first and last lines is compared: an edit is local, and
    # difflib over a whole 3000-line module (blank lines recurring everywhere) took most of the
    # time of applying it.
    head, tail = common_ends(a, b)
    out = []
    matcher = difflib.SequenceMatcher(
        None, a[head : len(a) - tail], b[head : len(b) - tail], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            i1, i2, j1, j2 = i1 + head, i2 + head, j1 + head, j2 + head
            out.append(
                {"old_start": i1, "old_lines": a[i1:i2], "new_start": j1, "new_lines": b[j1:j2]}
            )
    return out


def operations(before: list[dict], after: list[dict]) -> list[dict]:
    old = {cell["id"]: cell for cell in before}
    new_ids = {cell["id"] for cell in after}
    ops: list[dict] = [
        {"op": "delete", "cell_id": cell["id"]} for cell in before if cell["id"] not in new_ids
    ]
    inserts = []
    for position, cell in enumerate(after):
        previous = old.get(cell["id"])
        if previous is None:
            inserts.append(
                {
                    "op": "insert",
                    "position": position,
                    "id": cell["id"],
                    "cell_type": cell["cell_type"],
                    "source": cell["source"],
                    "after_cell_id": after[position - 1]["id"] if position else None,
                }
            )
        elif previous["source"] != cell["source"]:
            ops.append(
                {
                    "op": "modify",
                    "cell_id": cell["id"],
                    "source": cell["source"],
                    "hunks": hunks(previous["source"], cell["source"]),
                }
            )
    return ops + inserts


def apply_hunks(source: str, cell_hunks: list[dict]) -> str:
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for hunk in cell_hunks:
        out.extend(lines[pos : hunk["old_start"]])
        out.extend(hunk["new_lines"])
        pos = hunk["old_start"] + len(hunk["old_lines"])
    out.extend(lines[pos:])
    return "".join(out)


def apply_ops(cells: list[dict], ops: list[dict]) -> list[dict]:
    """The notebook after `ops` (as :func:`operations` orders them)."""
    result = [dict(cell) for cell in cells]
    for op in ops:
        if op["op"] == "delete":
            result = [cell for cell in result if cell["id"] != op["cell_id"]]
        elif op["op"] == "modify":
            for cell in result:
                if cell["id"] == op["cell_id"]:
                    cell["source"] = apply_hunks(cell["source"], op["hunks"])
        elif op["op"] == "insert":
            result.insert(
                op["position"],
                {"id": op["id"], "cell_type": op["cell_type"], "source": op["source"]},
            )
    return result
