"""Sweep's next-edit format (their Qwen2.5-Coder based models).

Prompt: ``<|file_sep|>`` sections: context files (retrieved snippets and neighbouring cells), one
``LABEL.diff`` section per recent edit with ``original:``/``updated:`` blocks of the changed lines,
then the editable window as it was before the recent edits (``original/LABEL``) and as it is
(``current/LABEL``), then ``updated/LABEL`` for the model to write the window again, edited, ending
with ``<|file_sep|>`` or the end of text. Sweep found ``original:/updated:`` blocks beat unified
diffs. Their fixed 21-line window is our editable region here (bounded in tokens instead). One
window, so no cross-cell edit.
"""

from __future__ import annotations

from ..context import CellDiff, NextEditContext
from .base import (
    PromptFormat,
    UnrepresentableEdit,
    cell_label,
    region_edits,
    split_expected,
    with_newline,
)

FILE_SEP = "<|file_sep|>"


def changed_lines(before: str, after: str) -> tuple[str, str]:
    """The lines an edit changed, before and after (common leading and trailing lines trimmed)."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return "".join(a[head : len(a) - tail]), "".join(b[head : len(b) - tail])


class SweepFormat(PromptFormat):
    name = "sweep"
    stop = (FILE_SEP,)  # and the end of text: the tokenizer's EOS, which the runtime stops on
    markers = (FILE_SEP,)

    def render(self, ctx: NextEditContext) -> str:
        sections = []
        for snippet in ctx.snippets:
            label = f"{snippet.path}#{snippet.cell_id}" if snippet.cell_id else snippet.path
            sections.append((label, snippet.text))
        for cell in ctx.before + ctx.after:
            sections.append((cell_label(ctx, cell.id), cell.text))
        for diff in ctx.diffs:
            old, new = changed_lines(diff.before, diff.after)
            sections.append(
                (
                    f"{cell_label(ctx, diff.cell_id)}.diff",
                    f"original:\n{with_newline(old)}updated:\n{with_newline(new)}",
                )
            )
        label = cell_label(ctx, ctx.region.cell_id)
        sections.append((f"original/{label}", self._window_before_edits(ctx)))
        sections.append((f"current/{label}", ctx.region.text))
        body = "".join(f"{FILE_SEP}{name}\n{with_newline(text)}" for name, text in sections)
        return f"{body}{FILE_SEP}updated/{label}\n"

    @staticmethod
    def _window_before_edits(ctx: NextEditContext) -> str:
        """The region's lines in the cursor's cell as it was before the recent edits."""
        cell_id = ctx.region.cell_id
        first: CellDiff | None = next((d for d in ctx.diffs if d.cell_id == cell_id), None)
        source = first.before if first else ctx.cursor_cell["source"]
        lines = source.splitlines(keepends=True)
        return "".join(lines[ctx.region.start_line : ctx.region.end_line])

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        new_region, others = split_expected(ctx, expected)
        if others:
            raise UnrepresentableEdit("the sweep format rewrites one window, not other cells")
        return with_newline(new_region) + FILE_SEP

    def region_so_far(self, output: str) -> str | None:
        return output

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        new_region = self.strip_stop(output)
        self.check_clean(new_region, ctx.region.text)
        # Sections end with a line break; the region may not (the last line of a cell).
        if not ctx.region.text.endswith("\n") and new_region.endswith("\n"):
            new_region = new_region[:-1]
        elif ctx.region.text.endswith("\n") and new_region and not new_region.endswith("\n"):
            new_region += "\n"
        return region_edits(ctx, new_region)
