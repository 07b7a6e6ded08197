"""Sweep's own local server (the ``sweep-autocomplete`` package, for sweep-next-edit-0.5B/1.5B):
a second variant of Sweep's format, as that server writes it.

Prompt: other files' chunks (``<|file_sep|>PATH`` + newline + text + newline), then::

    <|file_sep|>m.py
    <the current file: whole up to 800 lines, else the 300-line chunk centred nearest the cursor>
    <|file_sep|>other.py                      (retrieved chunks, each after a newline)
    <snippet, at most 25 lines>

    <|file_sep|>m.py:START:END                (the last 6 recent hunks, whitespace-only ones left
    original:                                  out, each with 1 context line)
    <old lines>
    updated:
    <new lines>
    <|file_sep|>original/m.py:START:END
    <the block with the recent hunks reverted>
    <|file_sep|>current/m.py:START:END
    <the block, <|cursor|> at the cursor>
    <|file_sep|>updated/m.py:START:END
                                                (and a newline: the server's empty prefill)

The block is the cursor's line, 2 lines above and 5 below, moved down past blank lines at its top
and trimmed of blank lines at its end (so ``Budget.region_lines`` is (2, 7), the block is cut from
it). The ``START:END`` numbers are the server's own: the cursor's line within the block + 1, and
that + the block's line count; a hunk's are its new start line and that + its new lines after the
first, less one. The block's reverted copy undoes the newest hunks whose new text (with 1 context
line, else without) it holds, newest first, until one does not match.

The answer, up to ``<|file_sep|>`` or the end of text, without the blank lines it starts with, is
the block rewritten (at most 20 lines longer); empty, it is no edit. Where the server would build
a block without the cursor's line (blank lines all around), ours keeps that line: the server's
block would be wrong there.
"""

from __future__ import annotations

import dataclasses

from ..context import Budget, NextEditContext, Region
from .base import PromptFormat, UnrepresentableEdit, cell_label, region_edits, split_expected
from .sweep import hunks

FILE_SEP = "<|file_sep|>"
END_OF_TEXT = "<|endoftext|>"
CURSOR = "<|cursor|>"
LINES_BEFORE, LINES_AFTER = 2, 5
BLOCK_TOKENS = 512  # the block's lines after its first two, in the server's estimate (3.5 chars)
FILE_LINES, CHUNK_LINES = 800, 300  # the current file whole up to FILE_LINES, else a chunk
SNIPPET_LINES = 25
MAX_HUNKS = 6
HUNK_CONTEXT = 3  # lines around the changes in the hunks handed to the server (a git-style diff)
MORE_LINES = 20  # an answer longer than the block by more is cut
NO_NEWLINE = " No newline at end of file"


def line_of(text: str, offset: int) -> int:
    """The server's line number of an offset (the last line from the end of the text on)."""
    if offset <= 0:
        return 0
    if offset >= len(text):
        return max(0, len(text.splitlines()) - 1)
    return text.count("\n", 0, offset)


def file_lines_around(source: str, offset: int) -> str:
    """The current file as the prompt opens with it: whole when short, else the chunk of
    CHUNK_LINES lines, starting at a multiple of half a chunk, centred nearest the cursor."""
    lines = source.splitlines()
    if len(lines) <= FILE_LINES:
        return source
    step = CHUNK_LINES // 2
    start = max(0, round((line_of(source, offset) - CHUNK_LINES // 2) / step)) * step
    return "\n".join(lines[start : start + CHUNK_LINES])


def block_region(ctx: NextEditContext) -> Region:
    """The server's block around the cursor, as a region (within the context's region)."""
    region, source = ctx.region, ctx.cursor_cell["source"]
    offset = region.start + region.cursor
    lines = source.splitlines(True) or [""]
    low, high = region.start_line, region.end_line
    line = min(max(line_of(source, offset), low), high - 1)
    start, end = max(low, line - LINES_BEFORE), min(high, line + LINES_AFTER + 1)
    while start < end and not lines[start].strip():
        start += 1
        end = min(high, end + 1) if end < len(lines) else end
    while end > start and not lines[end - 1].strip():
        end -= 1
    # The server's cut of a long block: its first two lines, then what fits BLOCK_TOKENS.
    rest = "".join(lines[start + LINES_BEFORE : end])
    if int(len(rest) / 3.5) > BLOCK_TOKENS:
        kept = rest[: int(BLOCK_TOKENS * 3.5)].splitlines(True)[:-1]
        end = start + LINES_BEFORE + len(kept)
    start, end = min(start, line), max(end, line + 1)  # never a block without the cursor's line
    starts = [0]
    for text in lines:
        starts.append(starts[-1] + len(text))
    begin, finish = starts[start], starts[end]
    return Region(region.cell_id, begin, finish, source[begin:finish], offset - begin, start, end)


def hunk_sides(hunk: str, context: int) -> tuple[str, str]:
    """The old and new text of a hunk's lines from its first change to its last, ``context``
    lines around them (every line that is not ``@@`` counts, as in the server)."""
    lines = [line for line in hunk.splitlines(True) if not line.startswith("@@")]
    changed = [i for i, line in enumerate(lines) if line.startswith(("-", "+"))]
    if not changed:
        return "", ""
    old, new = [], []
    for line in lines[max(0, changed[0] - context) : changed[-1] + context + 1]:
        if not line.startswith("+"):
            old.append(line[1:])
        if not line.startswith("-"):
            new.append(line[1:])
    return "".join(old), "".join(new)


def hunk_lines(hunk: str) -> tuple[int, int]:
    """The server's (start, end) line numbers of a hunk: its new start, and that + the new lines
    after its first line, less one."""
    lines = hunk.splitlines(True)
    new_start = int(lines[0].split()[2].lstrip("+").split(",")[0])
    new_lines = [line for line in lines[2:] if not line.startswith("-")]
    return new_start, new_start + len(new_lines) - 1


def recent_hunks(ctx: NextEditContext) -> list[tuple[str, str]]:
    """(label, hunk) of the recent edits, oldest first, whitespace-only ones left out."""
    found = []
    for diff in ctx.diffs:
        label = cell_label(ctx, diff.cell_id)
        for hunk in hunks(diff.before, diff.after, HUNK_CONTEXT):
            hunk = hunk.rstrip("\n")
            old, new = hunk_sides(hunk, 0)
            if old.strip() != new.strip():
                found.append((label, hunk))
    return found


def changes_and_original(ctx: NextEditContext, block: str) -> tuple[str, str]:
    """The recent-changes blocks and the block with the newest hunks reverted."""
    found = recent_hunks(ctx)
    original = block
    for label, hunk in reversed(found):
        # The server looks for the hunk with its file line as the first of its lines.
        old, new = hunk_sides(f"File: {label}\n{hunk}", 1)
        bare_old, bare_new = hunk_sides(hunk, 0)
        if new.strip() and new in original:
            original = original.replace(new, old, 1)
        elif bare_new.strip() and bare_new in original:
            original = original.replace(bare_new, bare_old, 1)
        else:
            break
    blocks = []
    for label, hunk in found[-MAX_HUNKS:]:
        old, new = hunk_sides(hunk, 1)
        start, end = hunk_lines(hunk)
        if old.strip() or new.strip():
            old, new = old.strip("\n"), new.strip("\n")
            blocks.append(f"{FILE_SEP}{label}:{start}:{end}\noriginal:\n{old}\nupdated:\n{new}\n")
    return "".join(blocks).rstrip("\n"), original


def strip_blank_start(text: str) -> str:
    lines = text.split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    return "\n".join(lines[first:])


class SweepLocalFormat(PromptFormat):
    name = "sweep-autocomplete"
    # As one file the other cells come in as the file around the window (names the edit uses
    # that the prompt shows, dev notebooks: 0.656 -> 0.900).
    notebook_as_file = True
    stop = (FILE_SEP,)  # and the tokenizer's <|endoftext|>, which the runtime stops on
    markers = (FILE_SEP, END_OF_TEXT)
    # The server's block: 2 lines above the cursor's, 5 below, and room for the 2 it may move down
    # past blank lines; one retrieved chunk (the local server keeps one).
    budget = Budget(region_lines=(LINES_BEFORE, LINES_AFTER + LINES_BEFORE), retrieved=1)

    @staticmethod
    def block(ctx: NextEditContext) -> NextEditContext:
        """The context with the server's block as its region."""
        return dataclasses.replace(ctx, region=block_region(ctx))

    def render(self, ctx: NextEditContext) -> str:
        ctx = self.block(ctx)
        region, source = ctx.region, ctx.cursor_cell["source"]
        path = cell_label(ctx, region.cell_id)
        current = region.text[: region.cursor] + CURSOR + region.text[region.cursor :]
        changes, original = changes_and_original(ctx, region.text)
        if current.endswith("\n") and original.endswith("\n"):
            current, original = current[:-1], original[:-1]
        line = line_of(region.text, region.cursor)
        span = f"{line + 1}:{line + len(current.splitlines()) + 1}"
        chunks = "".join(
            f"{FILE_SEP}{cell_label(ctx, cell.id)}\n{cell.text}\n"
            for cell in ctx.before + ctx.after
            if cell.text
        )
        retrieved = "".join(
            f"\n{FILE_SEP}{snippet.path}\n"
            + "".join(snippet.text.splitlines(True)[:SNIPPET_LINES])
            + "\n"
            for snippet in ctx.snippets
        )
        initial = file_lines_around(source, region.start + region.cursor)
        return (
            f"{chunks}{FILE_SEP}{path}\n{initial}{retrieved}\n{changes}\n"
            f"{FILE_SEP}original/{path}:{span}\n{original}\n"
            f"{FILE_SEP}current/{path}:{span}\n{current}\n"
            f"{FILE_SEP}updated/{path}:{span}\n"
        )

    def _answer(self, output: str, ctx: NextEditContext) -> str:
        """The block the answer gives, as the server reads it ('' for none)."""
        for stop in (FILE_SEP, END_OF_TEXT):
            if stop not in ctx.region.text and stop in output:
                output = output[: output.index(stop)]
        if output.rstrip("\n").endswith(NO_NEWLINE):  # a known slip of the models
            output = output.split(NO_NEWLINE, 1)[0]
        answer = strip_blank_start(output)
        if CURSOR not in ctx.region.text:
            answer = answer.replace(CURSOR, "")
        lines = answer.splitlines(True)
        most = len(ctx.region.text.splitlines(True)) + MORE_LINES
        if len(lines) > most:
            answer = "".join(lines[:most])
        if not answer:
            return ""
        if ctx.region.text.endswith("\n") and not answer.endswith("\n"):
            answer += "\n"
        elif not ctx.region.text.endswith("\n") and answer.endswith("\n"):
            answer = answer[:-1]
        return answer

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        ctx = self.block(ctx)
        new_region, others = split_expected(ctx, expected)
        if others:
            raise UnrepresentableEdit("the sweep format rewrites one block, not other cells")
        if new_region != ctx.region.text and self._answer(new_region, ctx) != new_region:
            raise UnrepresentableEdit("the server would read this answer otherwise")
        return new_region + FILE_SEP

    def region_so_far(self, output: str) -> str | None:
        return strip_blank_start(output).replace(CURSOR, "")

    def partial(self, output: str, ctx: NextEditContext) -> list[dict]:
        return super().partial(output, self.block(ctx))

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        ctx = self.block(ctx)
        answer = self._answer(output, ctx)
        if not answer:
            return []
        self.check_clean(answer, ctx.region.text)
        return region_edits(ctx, answer)
