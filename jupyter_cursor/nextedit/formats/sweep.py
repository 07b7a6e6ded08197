"""Sweep's next-edit format (their Qwen2.5-Coder based models), as Zed's ``sweep_prompt`` client
and Sweep's model card write it.

Prompt: ``<|file_sep|>`` sections, each ``<|file_sep|>NAME`` + newline + text + newline (unless
the text ends with one): related files (retrieved snippets, neighbouring cells), one
``LABEL.diff`` section per recent hunk (the last 3) with ``original:``/``updated:`` blocks of its
lines and one context line around them, then the window as it was before the latest edit of its
cell (``original/LABEL``) and as it is (``current/LABEL``), then ``<|file_sep|>updated/LABEL`` and
a newline, for the model to write the window again, edited, ending with ``<|file_sep|>`` or the
end of text.

The window is the fixed one the models were trained on: the cursor's line, 10 lines above and 10
below (``Budget.region_lines``); Zed shows it up to the end of its last line, without that line's
break. ``original/`` maps the window back through the latest edit, so that lines inserted above it
(an import) do not shift it. The answer is cut at the first ``<|file_sep|>`` or ``</s>``; blank
lines it starts with (beyond the window's own) are dropped, as Sweep's server does; an empty or
whitespace-only answer is no edit. One window, so no cross-cell edit.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from ..context import Budget, NextEditContext
from .base import (
    PromptFormat,
    UnrepresentableEdit,
    cell_label,
    region_edits,
    split_expected,
)

FILE_SEP = "<|file_sep|>"
EOS = "</s>"
END_OF_TEXT = "<|endoftext|>"
# Zed's limits on the recent changes shown: blocks, and lines per side of a block.
MAX_CHANGE_BLOCKS = 3
MAX_CHANGE_LINES = 40
# Context lines around each hunk's changed lines (Sweep's own server keeps one).
CHANGE_CONTEXT = 1


# -- the pieces of a prompt, as Zed's build_prompt writes them -----------------------------------


def ended(text: str) -> str:
    """``text`` and a newline, unless it ends with one (Zed's separator before the next header)."""
    return text if text.endswith("\n") else text + "\n"


def file_block(name: str, text: str) -> str:
    """One section: its header line, then its text."""
    return f"{FILE_SEP}{name}\n{ended(text)}"


def sweep_prompt(
    related: Sequence[tuple[str, str]],
    changes: Sequence[tuple[str, str, str]],
    path: str,
    original_window: str,
    current_window: str,
) -> str:
    """The whole prompt: related files ``(path, text)``, recent changes ``(path, original,
    updated)``, and the window before and after the latest edit."""
    parts = [file_block(name, text) for name, text in related]
    for name, original, updated in changes:
        body = f"original:\n{ended(original)}updated:\n{updated}"
        parts.append(file_block(f"{name}.diff", body))
    parts.append(file_block(f"original/{path}", original_window))
    parts.append(file_block(f"current/{path}", current_window))
    return "".join(parts) + f"{FILE_SEP}updated/{path}\n"


def diff_sides(diff: str) -> tuple[list[str], list[str]]:
    """The lines of a unified diff's hunks before and after: context lines on both sides,
    ``-`` lines before, ``+`` lines after (headers skipped)."""
    before: list[str] = []
    after: list[str] = []
    for line in diff.splitlines():
        if line.startswith(("@@", "---", "+++")):
            continue
        if line.startswith("-"):
            before.append(line[1:])
        elif line.startswith("+"):
            after.append(line[1:])
        elif line.startswith(" "):
            before.append(line[1:])
            after.append(line[1:])
    return before, after


def limit_lines(lines: Sequence[str], most: int = MAX_CHANGE_LINES) -> str:
    """The lines joined; a longer list keeps its first half and its last lines around ``...``."""
    if len(lines) <= most:
        return "\n".join(lines)
    head = most // 2
    tail = most - head - 1
    return "\n".join([*lines[:head], "...", *lines[len(lines) - tail :]])


def hunks(before: str, after: str, context: int) -> list[str]:
    """The hunks of a unified diff of two texts (header line first), each line ending with a
    newline."""
    a = [line if line.endswith("\n") else line + "\n" for line in before.splitlines(True)]
    b = [line if line.endswith("\n") else line + "\n" for line in after.splitlines(True)]
    found: list[list[str]] = []
    for line in difflib.unified_diff(a, b, n=context):
        if line.startswith("@@"):
            found.append([line])
        elif found:
            found[-1].append(line)
    return ["".join(hunk) for hunk in found]


def change_blocks(ctx: NextEditContext) -> list[tuple[str, str, str]]:
    """(label, original, updated) per hunk of the recent edits, the newest ``MAX_CHANGE_BLOCKS``,
    oldest first."""
    blocks = []
    for diff in ctx.diffs:
        label = cell_label(ctx, diff.cell_id)
        for hunk in hunks(diff.before, diff.after, CHANGE_CONTEXT):
            before, after = diff_sides(hunk)
            blocks.append((label, limit_lines(before), limit_lines(after)))
    return blocks[-MAX_CHANGE_BLOCKS:]


# -- the window ------------------------------------------------------------------------------------


def shown(text: str) -> str:
    """A window of whole lines as Zed holds it: up to the end of its last line, not its break."""
    return text[:-1] if text.endswith("\n") else text


def map_line(line: int, opcodes) -> int:
    """A line number of the text after an edit as one of the text before it (Zed's mapping of
    offsets, by lines): inside an edit's new lines, as far into its old ones (clamped); below it,
    shifted by the lines the edits above added or removed."""
    shift = 0
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        if line < j1:
            break
        if line < j2:
            return i1 + min(line - j1, i2 - i1)
        shift += (i2 - i1) - (j2 - j1)
    return line + shift


def window_before_edit(ctx: NextEditContext) -> str:
    """The region's lines as they were before the latest edit of its cell, the range mapped back
    through that edit; the region itself without one."""
    region = ctx.region
    latest = next((d for d in reversed(ctx.diffs) if d.cell_id == region.cell_id), None)
    if latest is None:
        return region.text
    old = latest.before.splitlines(True)
    new = ctx.cursor_cell["source"].splitlines(True)
    opcodes = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    start = map_line(region.start_line, opcodes)
    end = map_line(region.end_line, opcodes)
    return "".join(old[min(start, end) : max(start, end)])


def strip_blank_start(text: str, keep: int) -> str:
    """``text`` without the blank lines it starts with, but for the first ``keep`` of them."""
    lines = text.split("\n")
    blank = 0
    while blank < len(lines) - 1 and not lines[blank].strip():
        blank += 1
    drop = max(0, blank - keep)
    return "\n".join(lines[drop:])


def blank_start(text: str) -> int:
    lines = text.split("\n")
    count = 0
    while count < len(lines) - 1 and not lines[count].strip():
        count += 1
    return count


def cut(output: str, original: str, stops: Sequence[str]) -> str:
    """``output`` up to the first of ``stops`` (those the original text does not hold itself)."""
    for stop in stops:
        if stop not in original:
            at = output.find(stop)
            if at >= 0:
                output = output[:at]
    return output


class SweepFormat(PromptFormat):
    name = "sweep"
    stop = (FILE_SEP, EOS)  # and the tokenizer's end of text, which the runtime stops on
    markers = (FILE_SEP, EOS, END_OF_TEXT)
    # The fixed 21-line window the models were trained on (10 + 1 + 10): Zed's.
    budget = Budget(region_lines=(10, 10))

    def render(self, ctx: NextEditContext) -> str:
        related = []
        for snippet in ctx.snippets:
            label = f"{snippet.path}#{snippet.cell_id}" if snippet.cell_id else snippet.path
            related.append((label, snippet.text))
        for cell in ctx.before + ctx.after:
            if cell.text:
                related.append((cell_label(ctx, cell.id), cell.text))
        return sweep_prompt(
            related,
            change_blocks(ctx),
            cell_label(ctx, ctx.region.cell_id),
            shown(window_before_edit(ctx)),
            shown(ctx.region.text),
        )

    # The answer is the window as shown (``shown``) + a newline when it does not end with one.

    @staticmethod
    def _newline_added(ctx: NextEditContext) -> bool:
        return not shown(ctx.region.text).endswith("\n")

    def _answer(self, ctx: NextEditContext, new_region: str) -> str:
        region = ctx.region.text
        tail = region[len(shown(region)) :]
        if not new_region.endswith(tail):
            raise UnrepresentableEdit("the edit removes the line break the window ends with")
        text = new_region[: len(new_region) - len(tail)]
        return text + "\n" if self._newline_added(ctx) else text

    def _region(self, ctx: NextEditContext, answer: str) -> str:
        region = ctx.region.text
        if self._newline_added(ctx) and answer.endswith("\n"):
            answer = answer[:-1]
        return answer + region[len(shown(region)) :]

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        new_region, others = split_expected(ctx, expected)
        if others:
            raise UnrepresentableEdit("the sweep format rewrites one window, not other cells")
        answer = self._answer(ctx, new_region)
        if new_region != ctx.region.text:
            if not answer.strip():
                raise UnrepresentableEdit("an empty answer is no edit: the window cannot go")
            if blank_start(answer) > blank_start(shown(ctx.region.text)):
                raise UnrepresentableEdit("blank lines the answer starts with are dropped")
        return answer + FILE_SEP

    def region_so_far(self, output: str) -> str | None:
        return output

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        window = shown(ctx.region.text)
        answer = cut(output, ctx.region.text, (FILE_SEP, EOS, END_OF_TEXT))
        answer = strip_blank_start(answer, blank_start(window))
        if not answer.strip():
            return []
        self.check_clean(answer, ctx.region.text)
        return region_edits(ctx, self._region(ctx, answer))
