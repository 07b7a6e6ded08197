"""What a chunk is: the unit the index stores, searches and returns."""

from __future__ import annotations

import dataclasses
import hashlib

# Bump when the chunkers change what they produce: a different number rebuilds every index.
# 2: a notebook cell's context carries the notebook's title and the explanation above it.
CHUNKER_VERSION = 2

# Kinds a hit can have. Notebook cells keep their cell type; files say what split them.
KINDS = ("code", "markdown", "raw", "function", "class", "module", "section", "text")


@dataclasses.dataclass
class Chunk:
    path: str  # API path, "/"-separated and relative to the root
    kind: str
    text: str  # exactly the lines start_line..end_line of the cell or file
    start_line: int  # 1-based, inclusive; within the cell for notebooks, within the file otherwise
    end_line: int
    cell_id: str | None = None  # nbformat cell id; None for files and for notebooks before 4.5
    cell_index: int | None = None
    heading: str = ""  # nearest markdown heading above, or the definition name
    # What the chunk is about, as its surroundings say: in a notebook the title, the heading and
    # the markdown explanation just above a code cell; in a file the definition name or heading.
    context: str = ""

    @property
    def embed_text(self) -> str:
        return embed_text(self.context, self.text)

    @property
    def content_hash(self) -> str:
        """Identity of what is embedded: equal hashes share one vector, across files and renames."""
        return hashlib.blake2b(self.embed_text.encode("utf-8"), digest_size=16).hexdigest()


def embed_text(context: str, text: str) -> str:
    """What the embedding model sees: the context gives a bare code cell its topic."""
    return f"{context}\n{text}" if context else text


def line_windows(lines: list[str], first_line: int, max_lines: int, max_chars: int):
    """Split lines into consecutive windows of at most max_lines lines and about max_chars
    characters; yield (start_line, end_line, text). A single over-long line is cut, so that no
    window is unbounded (minified code, data pasted into a cell)."""
    start = 0
    while start < len(lines):
        end, size = start, 0
        while end < len(lines) and end - start < max_lines:
            if end > start and size + len(lines[end]) > max_chars:
                break
            size += len(lines[end]) + 1
            end += 1
        text = "\n".join(lines[start:end])
        yield first_line + start, first_line + end - 1, text[:max_chars]
        start = end
