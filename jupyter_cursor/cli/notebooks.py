"""Reading and writing notebooks for the verbs that change them (apply, refactor).

Cells travel as the wire's ``{"id", "cell_type", "source"}``. Writing a result keeps everything the
result does not change: cell ids, metadata, attachments and the outputs of every cell whose source
is unchanged. A modified code cell keeps its outputs too (as JupyterLab does when you edit a cell:
they are stale until you run it). The file is written with :func:`atomic_write_text`: a crash never
leaves half a notebook, and the file keeps its permissions, its symlink and its hardlinks.
"""

from __future__ import annotations

import copy
import os
import stat
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
    text = nbformat.writes(result)
    atomic_write_text(path, text if text.endswith("\n") else text + "\n")


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Replace the file at ``path`` with ``text``, the one way the CLI writes a user's file.

    - Atomic: the text goes to a temporary file next to the target, is fsynced, then renamed over
      it (and the folder fsynced), so a crash leaves either the old file or the new one.
    - The file keeps its permission bits (and, where we may, its group); a new file gets the
      umask's default, as ``open()`` would give it.
    - A symlink stays a symlink: its (resolved) target is what is replaced.
    - A file with other hardlinks keeps its inode, so every name sees the change: the text is
      first written and fsynced to a temporary file (a complete copy should the in-place write be
      interrupted), then copied into the file, which is truncated to the new length.
    """
    data = text.encode(encoding)
    target = Path(os.path.realpath(path))
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        raise UsageError(f"cannot write {path}: not a regular file")
    mode = stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_umask()
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if old is not None and old.st_gid != os.fstat(handle.fileno()).st_gid:
                try:
                    os.fchown(handle.fileno(), -1, old.st_gid)
                except OSError:
                    pass  # not a member of the group: the file gets ours, as any editor's would
            os.fsync(handle.fileno())
        if old is None or old.st_nlink <= 1:
            os.replace(temp, target)
            _fsync_dir(target.parent)
            return
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    # Hardlinked: write into the same inode. Write first, truncate after, so the file is never
    # shorter than its new content; the temporary copy goes only once the file is synced.
    try:
        with open(target, "r+b") as handle:
            handle.write(data)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        raise UsageError(
            f"writing {path} in place failed ({err.strerror or err}); its new content is in {temp}"
        ) from None
    Path(temp).unlink(missing_ok=True)


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no other way to read it (not thread-safe, but this is the CLI)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _valid_id(cell_id: str) -> bool:
    return 1 <= len(cell_id) <= 64 and all(c.isalnum() or c in "-_" for c in cell_id)
