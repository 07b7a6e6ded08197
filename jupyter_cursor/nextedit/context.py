"""What a next-edit prompt shows: the editable region around the cursor, the rest of the cursor's
cell, the neighbouring cells, retrieved snippets, and the recent edits as unified diffs.

Prompt formats render a :class:`NextEditContext`; they never look at the raw request. Everything is
bounded in tokens (a ``count_tokens`` callable: the model's tokenizer when there is one, a cheap
estimate otherwise), so that a 3000-line module costs what a small cell costs.

The region is grown along the code's structure: whole blank-line-separated blocks around the
cursor's line, then single lines when a block does not fit; it always holds whole lines.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .notebook_file import NotebookFile
from .notebook_file import as_file as as_notebook_file

TokenCounter = Callable[[str], int]
# ``retrieve(query, k)`` → search hits ``{"path", "cell_id", "text", ...}`` (the workspace index).
Retriever = Callable[[str, int], list]

# Requests bigger than this are not worth a prompt (and would cost seconds of diffing).
MAX_CELL_CHARS = 400_000
MAX_EVENT_CHARS = 400_000


def estimate_tokens(text: str) -> int:
    """About one token per three characters of code: cheap, and close enough to budget with."""
    return (len(text) + 2) // 3


@dataclass(frozen=True)
class Budget:
    """Token budgets (Zeta 1's: region 350, events 500, at most 16 events)."""

    region_tokens: int = 350
    context_tokens: int = 600  # the cursor cell outside the region, then neighbouring cells
    events_tokens: int = 500
    max_events: int = 16
    retrieved: int = 3  # snippets asked from ``retrieve``
    retrieved_tokens: int = 300
    # (above, below): a fixed window of lines around the cursor's line, as a model trained on one
    # (Sweep: 10 and 10) expects, in place of growing the region by tokens.
    region_lines: tuple[int, int] | None = None


@dataclass(frozen=True)
class Region:
    """The lines of the cursor's cell the model may rewrite: ``source[start:end]``."""

    cell_id: str
    start: int
    end: int
    text: str
    cursor: int  # the cursor's offset inside ``text``
    start_line: int  # 0-based line numbers in the cell: [start_line, end_line)
    end_line: int


@dataclass(frozen=True)
class ContextCell:
    """A cell shown to the model; only a ``complete`` one may be rewritten by it."""

    id: str
    cell_type: str
    text: str
    complete: bool


@dataclass(frozen=True)
class Snippet:
    """A retrieved piece of another file (never rewritten)."""

    path: str
    cell_id: str | None
    text: str


@dataclass(frozen=True)
class CellDiff:
    """The coalesced recent edits of one cell, as a unified diff (headers and hunks)."""

    cell_id: str
    before: str
    after: str
    diff: str


@dataclass(frozen=True)
class NextEditContext:
    path: str
    cells: tuple[dict, ...]  # the whole request's cells, to turn a rewritten region into sources
    cursor_cell: dict
    region: Region
    prefix: str  # the lines of the cursor's cell just above the region (bounded)
    suffix: str  # and just below it
    prefix_complete: bool  # ``prefix`` reaches the top of the cell
    suffix_complete: bool  # ``suffix`` reaches its end
    before: tuple[ContextCell, ...]  # cells above the cursor's cell, in notebook order
    after: tuple[ContextCell, ...]  # cells below it, in notebook order
    snippets: tuple[Snippet, ...]
    diffs: tuple[CellDiff, ...]  # oldest first
    # A notebook shown as one file (``as_file``): the cells above are the prompt's one cell; the
    # format's edits of it go back to the notebook's cell through ``notebook.to_cells``.
    notebook: NotebookFile | None = None

    def cell(self, cell_id: str) -> dict | None:
        return next((c for c in self.cells if c["id"] == cell_id), None)

    def rewritable(self) -> dict[str, ContextCell]:
        """The other cells shown whole, which a format may let the model rewrite."""
        return {c.id: c for c in self.before + self.after if c.complete}


# -- the editable region -------------------------------------------------------------------------


def _lines(source: str) -> list[str]:
    """Lines with their line ends; an empty cell has one empty line (the cursor needs a line)."""
    return source.splitlines(keepends=True) or [""]


def _blocks(lines: Sequence[str]) -> list[tuple[int, int]]:
    """[start, end) line ranges of blank-line-separated blocks; blank lines join the block above."""
    blocks: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(lines)):
        if lines[i].strip() and not lines[i - 1].strip():
            blocks.append((start, i))
            start = i
    blocks.append((start, len(lines)))
    return blocks


def _cost(lines: Sequence[str], start: int, end: int, count: TokenCounter) -> int:
    return count("".join(lines[start:end]))


def _grow(lines: Sequence[str], line: int, budget: int, count: TokenCounter) -> tuple[int, int]:
    """[start, end) around ``line``: whole blocks, below first (next edits come more often after
    the cursor than before it), then single lines when the next block does not fit."""
    blocks = _blocks(lines)
    here = next(i for i, (s, e) in enumerate(blocks) if s <= line < e)
    start, end = blocks[here]
    if _cost(lines, start, end, count) > budget:
        # The cursor's block alone is too big: lines around the cursor, below first.
        # (A single line over the budget is still the region: the cursor needs one.)
        start, end = line, line + 1
        while True:
            grown = False
            if end < len(lines) and _cost(lines, start, end + 1, count) <= budget:
                end, grown = end + 1, True
            if start > 0 and _cost(lines, start - 1, end, count) <= budget:
                start, grown = start - 1, True
            if not grown:
                return start, end
    below, above = here + 1, here - 1
    while below < len(blocks) or above >= 0:
        grown = False
        if below < len(blocks) and _cost(lines, start, blocks[below][1], count) <= budget:
            end, below, grown = blocks[below][1], below + 1, True
        if above >= 0 and _cost(lines, blocks[above][0], end, count) <= budget:
            start, above, grown = blocks[above][0], above - 1, True
        if not grown:
            break
    return start, end


def build_region(
    cell: dict,
    offset: int,
    budget: int,
    count: TokenCounter = estimate_tokens,
    lines_around: tuple[int, int] | None = None,
    bounds: tuple[int, int] | None = None,
) -> Region:
    """The region around ``offset``: grown by ``budget`` tokens, or ``lines_around`` (above,
    below) the cursor's line; within ``bounds`` ([start, end) offsets at line starts) when given."""
    source = cell["source"]
    offset = min(max(offset, 0), len(source))
    lines = _lines(source)
    starts = [0]
    for text in lines:
        starts.append(starts[-1] + len(text))
    # The cursor's line: the one whose text holds the offset (the last line at the very end).
    line = next((i for i in range(len(lines)) if offset < starts[i + 1]), len(lines) - 1)
    first, last = 0, len(lines)
    if bounds is not None:
        first = max(0, starts.index(bounds[0]) if bounds[0] in starts else 0)
        last = starts.index(bounds[1]) if bounds[1] in starts else len(lines)
        line = min(max(line, first), max(first, last - 1))
    if lines_around is not None:
        start_line = max(first, line - lines_around[0])
        end_line = min(last, line + lines_around[1] + 1)
    else:
        start_line, end_line = _grow(lines[first:last] or [""], line - first, budget, count)
        start_line, end_line = start_line + first, end_line + first
    start, end = starts[start_line], starts[end_line]
    return Region(cell["id"], start, end, source[start:end], offset - start, start_line, end_line)


# -- surrounding text ----------------------------------------------------------------------------


def _take_lines(text: str, budget: int, count: TokenCounter, from_end: bool) -> tuple[str, bool]:
    """The most lines of ``text`` (nearest ones: its end when ``from_end``) within ``budget``."""
    if count(text) <= budget:
        return text, True
    lines = text.splitlines(keepends=True)
    taken: list[str] = []
    used = 0
    for line in reversed(lines) if from_end else lines:
        cost = count(line)
        if used + cost > budget:
            break
        taken.append(line)
        used += cost
    if from_end:
        taken.reverse()
    return "".join(taken), False


def _neighbours(cells: Sequence[dict], index: int, budget: int, count: TokenCounter):
    """Cells around ``cells[index]``, nearest first alternating below/above, within ``budget``."""
    before: list[ContextCell] = []
    after: list[ContextCell] = []
    left = budget
    for distance in range(1, len(cells)):
        for position, side in ((index + distance, after), (index - distance, before)):
            if not 0 <= position < len(cells) or left <= 0:
                continue
            cell = cells[position]
            # Cells above are read from their end (nearest the cursor), cells below from their top.
            text, complete = _take_lines(cell["source"], left, count, from_end=side is before)
            if not text and cell["source"]:
                left = 0
                continue
            left -= count(text)
            side.append(ContextCell(cell["id"], cell.get("cell_type", "code"), text, complete))
        if left <= 0:
            break
    before.reverse()
    return tuple(before), tuple(after)


# -- recent edits ---------------------------------------------------------------------------------


def unified_diff(before: str, after: str, label: str, context_lines: int = 2) -> str:
    """A unified diff of one cell; every line ends with a newline (``\\ No newline`` is noise)."""
    a = [line if line.endswith("\n") else line + "\n" for line in before.splitlines(keepends=True)]
    b = [line if line.endswith("\n") else line + "\n" for line in after.splitlines(keepends=True)]
    return "".join(difflib.unified_diff(a, b, label, label, n=context_lines))


def coalesce_events(events: Sequence[dict], live: set[str]) -> list[tuple[str, str, str]]:
    """(cell_id, before, after) per run of consecutive events in one cell, oldest first; events
    in cells since deleted are dropped, and so are runs that end where they started."""
    runs: list[list] = []
    for event in events:
        if event.get("cell_id") not in live:
            continue
        if runs and runs[-1][0] == event["cell_id"]:
            runs[-1][2] = event["after"]
        else:
            runs.append([event["cell_id"], event["before"], event["after"]])
    return [(cell_id, before, after) for cell_id, before, after in runs if before != after]


def build_diffs(events: Sequence[dict], live: set[str], budget: Budget, count: TokenCounter):
    """The newest runs that fit the event budgets, oldest first."""
    kept: list[CellDiff] = []
    used = 0
    for cell_id, before, after in reversed(coalesce_events(events, live)[-budget.max_events :]):
        if len(before) > MAX_EVENT_CHARS or len(after) > MAX_EVENT_CHARS:
            break
        diff = unified_diff(before, after, cell_id)
        cost = count(diff)
        if used + cost > budget.events_tokens:
            if kept:
                break
            # The newest edit is the one that matters most: keep its nearest hunk lines.
            diff, _ = _take_lines(diff, budget.events_tokens, count, from_end=True)
            cost = count(diff)
        kept.append(CellDiff(cell_id, before, after, diff))
        used += cost
    kept.reverse()
    return tuple(kept)


# -- retrieval ------------------------------------------------------------------------------------


def _query(region: Region, diffs: Sequence[CellDiff]) -> str:
    """What the user is working on: the cursor's line and the lines the last edit added."""
    line_start = region.text.rfind("\n", 0, region.cursor) + 1
    line_end = region.text.find("\n", region.cursor)
    query = region.text[line_start : line_end if line_end >= 0 else None]
    if diffs:
        added = [
            line[1:]
            for line in diffs[-1].diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")
        ]
        query += "\n" + "\n".join(added)
    return query.strip()[:1000]


def _retrieve(
    retrieve: Retriever | None,
    path: str,
    shown: set[str],
    query: str,
    budget: Budget,
    count: TokenCounter,
) -> tuple[Snippet, ...]:
    if retrieve is None or not query or budget.retrieved <= 0:
        return ()
    snippets = []
    left = budget.retrieved_tokens
    for hit in retrieve(query, budget.retrieved):
        if hit.get("path") == path and hit.get("cell_id") in shown:
            continue  # already in the prompt, as it is now (the index may be older)
        text, _ = _take_lines(str(hit.get("text", "")), left, count, from_end=False)
        if not text:
            break
        left -= count(text)
        snippets.append(Snippet(str(hit.get("path", "")), hit.get("cell_id"), text))
    return tuple(snippets)


KERNEL_VARIABLES = "kernel variables"  # the snippet's path: the live kernel's names (issue 20)


def _variables(text, budget: Budget, count: TokenCounter) -> tuple[Snippet, ...]:
    """The live kernel's names (kernel/probe.render_variables), as the first snippet every format
    shows: comment lines, within the retrieved snippets' budget."""
    if not text or not isinstance(text, str) or budget.retrieved <= 0:
        return ()
    lines = "\n".join("# " + line for line in text.splitlines())
    lines, _ = _take_lines(lines, budget.retrieved_tokens // 2, count, from_end=False)
    return (Snippet(KERNEL_VARIABLES, None, lines),) if lines else ()


# -- the whole context ----------------------------------------------------------------------------


def check_request(request: dict) -> int:
    """The index of the cursor's cell; ValueError when it is missing or a cell is too large."""
    cells = request["cells"]
    cursor_id = request["cursor"]["cell_id"]
    index = next((i for i, c in enumerate(cells) if c["id"] == cursor_id), None)
    if index is None:
        raise ValueError(f"the cursor's cell {cursor_id!r} is not among the cells")
    if any(len(c["source"]) > MAX_CELL_CHARS for c in cells):
        raise ValueError(f"a cell is longer than {MAX_CELL_CHARS} characters")
    return index


def build_context(
    request: dict,
    *,
    count_tokens: TokenCounter = estimate_tokens,
    retrieve: Retriever | None = None,
    budget: Budget = Budget(),
    as_file: bool = False,
) -> NextEditContext:
    """The context of a next-edit request: a dict shaped like ARCHITECTURE.md's request or a line of
    nes_*.jsonl (``cells``, ``cursor``, ``events``, ``path``; other keys ignored). ``as_file``: a
    notebook is shown as one file of ``# %%`` cells (notebook_file.py), for file-trained models.

    ValueError when the cursor's cell is not among the cells, or a cell is too large.
    """
    check_request(request)
    notebook = as_notebook_file(request) if as_file else None
    if notebook is not None:
        ctx = build_context(
            notebook.request, count_tokens=count_tokens, retrieve=retrieve, budget=budget
        )
        return dataclasses.replace(ctx, notebook=notebook)
    cells = tuple(request["cells"])
    cursor = request["cursor"]
    index = check_request(request)
    cell = cells[index]
    region = build_region(
        cell,
        int(cursor.get("offset", 0)),
        budget.region_tokens,
        count_tokens,
        budget.region_lines,
        request.get("region_bounds"),
    )
    # The cursor cell's own lines around the region come first: half of the context budget.
    half = budget.context_tokens // 2
    prefix, prefix_complete = _take_lines(cell["source"][: region.start], half, count_tokens, True)
    suffix, suffix_complete = _take_lines(cell["source"][region.end :], half, count_tokens, False)
    left = budget.context_tokens - count_tokens(prefix) - count_tokens(suffix)
    before, after = _neighbours(cells, index, left, count_tokens)
    live = {c["id"] for c in cells}
    diffs = build_diffs(request.get("events") or [], live, budget, count_tokens)
    path = str(request.get("path", ""))
    shown = {c.id for c in before + after} | {cell["id"]}
    snippets = _variables(request.get("variables"), budget, count_tokens)
    left = budget.retrieved_tokens - sum(count_tokens(s.text) for s in snippets)
    snippets += _retrieve(
        retrieve,
        path,
        shown,
        _query(region, diffs),
        dataclasses.replace(budget, retrieved_tokens=left),
        count_tokens,
    )
    return NextEditContext(
        path,
        cells,
        cell,
        region,
        prefix,
        suffix,
        prefix_complete,
        suffix_complete,
        before,
        after,
        snippets,
        diffs,
    )
