"""Read a workspace file for the chat context, confined to the server's root.

A mention is typed by the user but the path could come from anywhere (a pasted message, a
malicious notebook): it must never reach outside the root (``..``, absolute paths, symlinks out),
nor hidden files (``.env``, ``.ssh``: secrets that would be sent to a third-party model), nor
binaries, nor files too big to be worth reading.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath


class FileRefused(Exception):
    """The file cannot be sent; the message says why, in words for the user."""


def read_workspace_file(
    root: str | Path, rel: str, *, max_bytes: int, allow_hidden: bool = False
) -> str:
    """The text of ``rel`` (a path relative to ``root``, with ``/``), notebooks as their cells."""
    if "\0" in rel:
        raise FileRefused("a path cannot hold a NUL character")
    pure = PurePosixPath(rel.replace("\\", "/"))
    if pure.is_absolute() or rel.startswith("~") or (pure.parts and ":" in pure.parts[0]):
        raise FileRefused("only paths relative to the server root can be mentioned")
    if ".." in pure.parts:
        raise FileRefused("'..' is not allowed in a mentioned path")
    if not allow_hidden and any(part.startswith(".") for part in pure.parts):
        raise FileRefused("hidden files are not sent")
    base = Path(root).resolve()
    full = (base / pure).resolve()  # follows symlinks: one pointing out of the root is caught
    if full != base and base not in full.parents:
        raise FileRefused("the path leads outside the server root")
    try:
        if not full.is_file():
            raise FileRefused("no such file")
        size = full.stat().st_size
        if size > max_bytes:
            raise FileRefused(f"too large ({size} bytes; the limit is {max_bytes})")
        data = full.read_bytes()
    except OSError as err:  # a name too long, a file unreadable
        raise FileRefused(f"cannot be read ({err.strerror or type(err).__name__})") from None
    if b"\0" in data[:8192]:
        raise FileRefused("binary file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileRefused("not UTF-8 text") from None
    if full.suffix == ".ipynb":
        return notebook_as_text(text)
    return text


def notebook_as_text(raw: str) -> str:
    """A notebook file as its cells with ids, without outputs (large, often binary, rarely useful)."""
    from .prompts import render_cell

    try:
        cells = json.loads(raw)["cells"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise FileRefused("not a valid notebook") from None
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise FileRefused("not a valid notebook: its cells are not a list of cells")
    rendered = []
    for i, cell in enumerate(cells):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        rendered.append(
            render_cell(str(cell.get("id", f"#{i}")), cell.get("cell_type", "code"), source)
        )
    return "\n".join(rendered)
