"""Split a workspace file into chunks: notebooks per cell, Python by top-level definition,
markdown by heading, any other text by line windows.

Chunkers see text, never the disk, so that they are tested on literals. Outputs and execution
counts of notebooks are never read.
"""

from __future__ import annotations

import ast
import re

import nbformat
from nbformat.reader import reads as read_notebook_json

from .chunk import Chunk, line_windows

# A chunk stays below these; a longer cell or definition is split into windows. 60 lines is a
# screenful: long enough for a whole function, short enough that MiniLM (256 tokens) sees most of it.
MAX_LINES = 60
MAX_CHARS = 3000
# Characters of the markdown explanation a code cell's context carries: about 60 tokens, so the
# embedder (128 tokens) still sees the code.
MAX_EXPLANATION = 240

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


class CorruptFile(ValueError):
    """The file claims a format (a notebook) and is not in it: skipped and listed in status."""


def chunk_file(path: str, text: str) -> list[Chunk]:
    """Chunks of the file at API path ``path`` whose decoded content is ``text``."""
    lower = path.lower()
    if lower.endswith(".ipynb"):
        return chunk_notebook(path, text)
    if lower.endswith((".py", ".pyw", ".pyi")):
        return chunk_python(path, text)
    if lower.endswith((".md", ".markdown")):
        return chunk_markdown(path, text)
    return chunk_text(path, text)


# -- notebooks -------------------------------------------------------------------------------------


def _source(cell) -> str:
    source = cell.get("source", cell.get("input", ""))  # v3 code cells keep their code in "input"
    return "".join(source) if isinstance(source, list) else str(source or "")


def notebook_cells(text: str) -> list[tuple[str | None, str, str]]:
    """(cell id or None, cell type, source) of each cell, in order.

    Cell ids are taken only from the file: nbformat's upgrade of a 4.0-4.4 notebook invents
    random ids on every read, which would point the user at cells that do not exist.
    """
    try:
        nb = read_notebook_json(text)
    except Exception as err:  # noqa: BLE001 (nbformat raises several unrelated types)
        raise CorruptFile(f"not a readable notebook: {str(err)[:200]}") from None
    major = nb.get("nbformat")
    if major == 3:
        cells = [c for ws in nb.get("worksheets") or [] for c in ws.get("cells") or []]
        # v3 headings were their own cell type with a level.
        return [
            (None, "markdown", "#" * int(c.get("level", 1)) + " " + _source(c))
            if c.get("cell_type") == "heading"
            else (None, str(c.get("cell_type", "code")), _source(c))
            for c in cells
            if isinstance(c, dict)
        ]
    if major != nbformat.v4.nbformat or not isinstance(nb.get("cells"), list):
        raise CorruptFile(f"unsupported notebook format {major!r}")
    result = []
    for cell in nb["cells"]:
        if not isinstance(cell, dict):
            raise CorruptFile("a cell is not an object")
        cell_id = cell.get("id")
        result.append(
            (
                cell_id if isinstance(cell_id, str) else None,
                str(cell.get("cell_type", "code")),
                _source(cell),
            )
        )
    return result


def chunk_notebook(path: str, text: str) -> list[Chunk]:
    """One chunk per cell (windows for a long one). Each carries the nearest heading above it, and
    its context: the notebook's title, that heading, and for a code cell the explanation that the
    last markdown cell above gives (what the code is for, in the author's words)."""
    cells = notebook_cells(text)
    title = _title(cells)
    chunks = []
    heading = explanation = ""
    for index, (cell_id, cell_type, source) in enumerate(cells):
        lines = source.splitlines()
        if cell_type == "markdown":
            # The cell's own heading is the context of its text, and of the cells below it.
            for line in lines:
                match = _HEADING.match(line)
                if match:
                    heading = match.group(2)
                    break
        if not source.strip():
            continue
        kind = cell_type if cell_type in ("code", "markdown", "raw") else "raw"
        context = _context(title, heading, explanation if kind == "code" else "")
        for start, end, window in line_windows(lines, 1, MAX_LINES, MAX_CHARS):
            if window.strip():
                chunks.append(
                    Chunk(path, kind, window, start, end, cell_id, index, heading, context)
                )
        if cell_type == "markdown":
            heading = _last_heading(lines) or heading
            explanation = _explanation(lines)
    return chunks


def _title(cells) -> str:
    """The notebook's level-1 heading when it has exactly one; several level-1 headings are its
    sections, not a title, and carrying the first into every chunk would make them all alike. Not
    the file name: a rename would then change every chunk's context and re-embed the notebook."""
    titles = [
        match.group(2)
        for _, cell_type, source in cells
        if cell_type == "markdown"
        for match in map(_HEADING.match, source.splitlines())
        if match and len(match.group(1)) == 1
    ]
    return titles[0] if len(titles) == 1 else ""


def _explanation(lines: list[str]) -> str:
    """The last paragraph of a markdown cell's prose (headings left out), bounded: the sentence
    just above a code cell usually says what it does."""
    paragraphs, current = [], []
    for line in lines + [""]:
        if not line.strip() or _HEADING.match(line):
            if current:
                paragraphs.append(" ".join(current))
            current = []
        else:
            current.append(line.strip())
    if not paragraphs:
        return ""
    last = paragraphs[-1]
    return last if len(last) <= MAX_EXPLANATION else last[:MAX_EXPLANATION].rsplit(" ", 1)[0]


def _context(title: str, heading: str, explanation: str) -> str:
    top = " › ".join(dict.fromkeys(part for part in (title, heading) if part))
    return f"{top}\n{explanation}" if top and explanation else top or explanation


def _last_heading(lines: list[str]) -> str:
    for line in reversed(lines):
        match = _HEADING.match(line)
        if match:
            return match.group(2)
    return ""


# -- Python ----------------------------------------------------------------------------------------


def chunk_python(path: str, text: str) -> list[Chunk]:
    """One chunk per top-level definition (decorators included) and per run of module-level
    statements between them; a long class is split at its methods, anything else long into
    windows. Code that does not parse falls back to line windows."""
    lines = text.splitlines()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # deep nesting: RecursionError
        return chunk_text(path, text)
    chunks: list[Chunk] = []
    covered = 0  # lines[0:covered] are in chunks already
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        end = node.end_lineno or node.lineno
        _add_module_lines(chunks, path, lines, covered, start)
        kind = "class" if isinstance(node, ast.ClassDef) else "function"
        if kind == "class" and end - start > MAX_LINES:
            _add_class(chunks, path, lines, node, start, end)
        else:
            _add_span(chunks, path, lines, start, end, kind, node.name)
        covered = end
    _add_module_lines(chunks, path, lines, covered, len(lines))
    return chunks


def _add_span(chunks, path, lines, start, end, kind, heading):
    # Blank lines at either end belong to no one: the span's line numbers should point at code.
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    for first, last, window in line_windows(lines[start:end], start + 1, MAX_LINES, MAX_CHARS):
        if window.strip():
            chunks.append(Chunk(path, kind, window, first, last, heading=heading, context=heading))


def _add_module_lines(chunks, path, lines, start, end):
    _add_span(chunks, path, lines, start, end, "module", "")


def _add_class(chunks, path, lines, node, start, end):
    """A long class: its header with the lines before the first method, then each method, so
    that a method's chunk is named ``Class.method``."""
    position = start
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        item_start = min([item.lineno] + [d.lineno for d in item.decorator_list]) - 1
        if item_start > position:
            _add_span(chunks, path, lines, position, item_start, "class", node.name)
        item_end = item.end_lineno or item.lineno
        _add_span(chunks, path, lines, item_start, item_end, "function", f"{node.name}.{item.name}")
        position = item_end
    if end > position:
        _add_span(chunks, path, lines, position, end, "class", node.name)


# -- markdown and plain text -----------------------------------------------------------------------


def chunk_markdown(path: str, text: str) -> list[Chunk]:
    """One chunk per heading's section (headings inside code fences do not count)."""
    lines = text.splitlines()
    chunks: list[Chunk] = []
    section_start, heading, in_fence = 0, "", False
    for number, line in enumerate(lines + ["# end"]):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match or number == len(lines):
            _add_span(chunks, path, lines, section_start, number, "section", heading)
            section_start = number
            heading = match.group(2) if match else heading
    return chunks


def chunk_text(path: str, text: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    _add_span(chunks, path, text.splitlines(), 0, len(text.splitlines()), "text", "")
    return chunks
