"""What a chunk is: the unit the index stores, searches and returns."""

from __future__ import annotations

import dataclasses
import hashlib

# Bump when the chunkers change what they produce: a different number rebuilds every index.
CHUNKER_VERSION = 1

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
    heading: str = ""  # nearest markdown heading above, or the definition name: extra context

    @property
    def embed_text(self) -> str:
        """What the embedding model sees: the heading gives a bare code cell its topic."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text

    @property
    def content_hash(self) -> str:
        """Identity of what is embedded: equal hashes share one vector, across files and renames."""
        return hashlib.blake2b(self.embed_text.encode("utf-8"), digest_size=16).hexdigest()


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
