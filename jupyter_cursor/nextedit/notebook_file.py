"""A notebook as the one file that file-trained next-edit models know (Zeta, Instinct, Sweep were
trained on repositories' files, never on ``nb.ipynb#c1`` labels): its cells joined in the percent
format (``# %%``, as jupytext and VS Code write notebooks as scripts), markdown as comments, the
path ending in ``.py``; the editable region kept inside the cursor's cell; the model's rewrite of
the file mapped back to that cell.

So cell 2 sees cell 1's imports, and the model reads code as it was trained to.
"""

from __future__ import annotations

from dataclasses import dataclass

CODE = "# %%\n"
MARKDOWN = "# %% [markdown]\n"


def _render(cell: dict) -> tuple[str, str, str]:
    """(header, body, end) of one cell in the file: the body is the cell's source as it stands
    (code) or commented (markdown); ``end`` closes it with a line break and a blank line."""
    source = cell["source"]
    if cell.get("cell_type", "code") == "markdown":
        body = "".join(
            f"# {line}" if line.strip() else "#\n" if line.endswith("\n") else "#"
            for line in source.splitlines(keepends=True)
        )
        header = MARKDOWN
    else:
        body, header = source, CODE
    return header, body, ("" if not body or body.endswith("\n") else "\n") + "\n"


def _join(cells: list[dict], sources: dict[str, str]) -> tuple[str, dict[str, int]]:
    """The file text of ``cells`` with ``sources`` in place of their own, and each cell's body
    start in it."""
    parts: list[str] = []
    starts: dict[str, int] = {}
    at = 0
    for cell in cells:
        header, body, end = _render({**cell, "source": sources.get(cell["id"], cell["source"])})
        starts[cell["id"]] = at + len(header)
        parts += [header, body, end]
        at += len(header) + len(body) + len(end)
    return "".join(parts), starts


@dataclass(frozen=True)
class NotebookFile:
    """The file a notebook request becomes, and where the cursor's cell stands in it."""

    request: dict  # a one-cell request (cell id "file") for build_context
    cell_id: str  # the cursor's cell
    start: int  # its source is text[start:end]
    end: int
    text: str
    sources: dict  # every cell's source by id, as the request has it

    def to_file(self, expected: dict[str, str]) -> dict[str, str]:
        """An expected edit of the notebook ({cell id: new source}) as the file's; ValueError
        when it changes a cell other than the cursor's (the file's region is in that cell)."""
        if any(
            text != self.sources.get(cid) for cid, text in expected.items() if cid != self.cell_id
        ):
            raise ValueError("the edit changes another cell than the cursor's")
        if self.cell_id not in expected:
            return {}
        return {"file": self.text[: self.start] + expected[self.cell_id] + self.text[self.end :]}

    def to_cells(self, edits: list[dict]) -> list[dict]:
        """Edits of the file → the edit of the cursor's cell; none when the rewrite reaches past
        the cell (the region never does, so that is a malformed answer)."""
        out = []
        head, tail = self.text[: self.start], self.text[self.end :]
        for edit in edits:
            new = edit["source"]
            if not (
                new.startswith(head) and new.endswith(tail) and len(new) >= len(head) + len(tail)
            ):
                return []
            out.append({"cell_id": self.cell_id, "source": new[len(head) : len(new) - len(tail)]})
        return out


def as_file(request: dict) -> NotebookFile | None:
    """The request of a notebook of several cells, with the cursor in a code cell, as one file;
    None for a one-cell request (a file already) or the cursor in a markdown cell."""
    cells = list(request["cells"])
    cursor = request["cursor"]
    cell = next((c for c in cells if c["id"] == cursor["cell_id"]), None)
    if len(cells) < 2 or cell is None or cell.get("cell_type", "code") != "code":
        return None
    text, starts = _join(cells, {})
    start = starts[cell["id"]]
    end = start + len(cell["source"])
    # The recent edits, replayed backwards from the notebook as it is: each event's file text
    # before and after it, so that the diffs show each cell's change at its place in the file.
    live = {c["id"] for c in cells}
    then = {c["id"]: c["source"] for c in cells}
    events = []
    for event in reversed(request.get("events") or []):
        if event.get("cell_id") not in live:
            continue
        after = _join(cells, then)[0]
        then[event["cell_id"]] = event["before"]
        before = _join(cells, then)[0]
        events.append({"cell_id": "file", "before": before, "after": after})
    events.reverse()
    path = str(request.get("path", ""))
    offset = min(max(int(cursor.get("offset", 0)), 0), len(cell["source"]))
    file_request = {
        "path": path[: -len(".ipynb")] + ".py" if path.endswith(".ipynb") else path,
        "cells": [{"id": "file", "cell_type": "code", "source": text}],
        "cursor": {"cell_id": "file", "offset": start + offset},
        "events": events,
        # The region stays in the cursor's cell: its body and the line break closing it.
        "region_bounds": (start, end if cell["source"].endswith("\n") else end + 1),
    }
    sources = {c["id"]: c["source"] for c in cells}
    return NotebookFile(file_request, cell["id"], start, end, text, sources)
