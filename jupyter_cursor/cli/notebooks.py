"""Reading and writing notebooks for the verbs that change them (apply, refactor).

Cells travel as the wire's ``{"id", "cell_type", "source"}``. Writing a result keeps everything the
result does not change: cell ids, metadata, attachments and the outputs of every cell whose source
is unchanged. A modified code cell keeps its outputs too (as JupyterLab does when you edit a cell:
they are stale until you run it). The file is replaced atomically, so a crash never leaves half a
notebook.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import nbformat

from ._common import UsageError

# Notebooks before nbformat 4.5 have no cell ids; these stand in for them while we work.
LEGACY_ID = "cell-{}"


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    try:
        with open(path, encoding="utf-8") as handle:
            notebook = nbformat.read(handle, as_version=4)
    except FileNotFoundError:
        raise UsageError(f"no such notebook: {path}") from None
    except (OSError, ValueError, nbformat.reader.NotJSONError) as err:
        raise UsageError(f"cannot read {path} as a notebook: {err}") from None
    for index, cell in enumerate(notebook.cells):
        if not cell.get("id"):
            cell["id"] = LEGACY_ID.format(index)
    return notebook


def wire_cells(notebook: nbformat.NotebookNode) -> list[dict]:
    return [
        {"id": cell["id"], "cell_type": cell.cell_type, "source": cell.source}
        for cell in notebook.cells
    ]


def write_cells(path: str | Path, notebook: nbformat.NotebookNode, cells: list[dict]) -> None:
    """Save `cells` (the wire form of the result) into the notebook at `path`."""
    result = copy.deepcopy(notebook)
    by_id = {cell["id"]: cell for cell in notebook.cells}
    new_cells = []
    for wire in cells:
        old = by_id.get(wire["id"])
        if old is not None and old.cell_type == wire["cell_type"]:
            cell = copy.deepcopy(old)
            cell.source = wire["source"]
        elif wire["cell_type"] == "code":
            cell = nbformat.v4.new_code_cell(wire["source"])
        elif wire["cell_type"] == "markdown":
            cell = nbformat.v4.new_markdown_cell(wire["source"])
        else:
            cell = nbformat.v4.new_raw_cell(wire["source"])
        if old is None and notebook.nbformat_minor >= 5:
            cell["id"] = wire["id"] if _valid_id(wire["id"]) else cell.get("id")
        new_cells.append(cell)
    result.cells = new_cells
    if notebook.nbformat_minor < 5:
        for cell in result.cells:
            cell.pop("id", None)
    else:
        ids = [cell["id"] for cell in result.cells]
        if len(set(ids)) != len(ids):
            raise UsageError("the result has two cells with the same id; nothing written")
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            nbformat.write(result, handle)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _valid_id(cell_id: str) -> bool:
    return 1 <= len(cell_id) <= 64 and all(c.isalnum() or c in "-_" for c in cell_id)
