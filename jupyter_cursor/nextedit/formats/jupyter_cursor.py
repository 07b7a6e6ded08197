"""Our own format, for the model trained in models/ with these special tokens.

Prompt::

    <|edits|>
    <unified diffs of the recent edits, oldest first; headers name the cell id>
    <|context|>
    <|cell|>c0 markdown
    # Title
    <|cell|>c1 code
    <lines of the cursor's cell above the region>
    <|region|>
    <region text, <|cursor|> at the cursor><|/region|>
    <lines of the cursor's cell below the region>
    <|cell|>c2 code
    ...
    <|rewrite|>

A cell header ends in ``excerpt`` when only part of it is shown, and retrieved snippets of other
files come first as ``<|cell|>PATH#ID snippet``. The model writes the region again, edited
(byte-exact: no separator newlines), then, for each other cell it changes (only cells shown whole),
``<|cell|>ID`` + newline + the cell's full new source + newline, and finally ``<|end|>``.
"""

from __future__ import annotations

from typing import ClassVar

from ..context import Budget, NextEditContext
from .base import MalformedOutput, PromptFormat, region_edits, split_expected, with_newline

EDITS, CONTEXT, REGION, REGION_END = "<|edits|>", "<|context|>", "<|region|>", "<|/region|>"
CURSOR, REWRITE, END, CELL = "<|cursor|>", "<|rewrite|>", "<|end|>", "<|cell|>"


class JupyterCursorFormat(PromptFormat):
    name = "jupyter-cursor"
    SPECIAL_TOKENS: ClassVar[tuple[str, ...]] = (
        EDITS,
        CONTEXT,
        REGION,
        REGION_END,
        CURSOR,
        REWRITE,
        END,
        CELL,
    )
    stop = (END,)
    markers = SPECIAL_TOKENS
    # Small on purpose: our model is small and runs on every keystroke on the CPU; every prompt
    # token is prefill time, and a shorter region is fewer tokens to copy.
    budget = Budget(
        region_tokens=160,
        context_tokens=240,
        events_tokens=240,
        max_events=8,
        retrieved=2,
        retrieved_tokens=120,
    )

    def render(self, ctx: NextEditContext) -> str:
        parts = [EDITS, "\n"]
        parts += [with_newline(diff.diff) for diff in ctx.diffs]
        parts += [CONTEXT, "\n"]
        for snippet in ctx.snippets:
            label = f"{snippet.path}#{snippet.cell_id}" if snippet.cell_id else snippet.path
            parts += [CELL, label, " snippet\n", with_newline(snippet.text)]
        for cell in ctx.before:
            parts += self._cell(cell.id, cell.cell_type, cell.text, cell.complete)
        region = ctx.region
        complete = ctx.prefix_complete and ctx.suffix_complete
        parts += [
            CELL,
            ctx.cursor_cell["id"],
            " ",
            ctx.cursor_cell.get("cell_type", "code"),
            "" if complete else " excerpt",
            "\n",
            ctx.prefix,
            REGION,
            "\n",
            region.text[: region.cursor],
            CURSOR,
            region.text[region.cursor :],
            REGION_END,
            "\n",
            with_newline(ctx.suffix),
        ]
        for cell in ctx.after:
            parts += self._cell(cell.id, cell.cell_type, cell.text, cell.complete)
        parts += [REWRITE, "\n"]
        return "".join(parts)

    @staticmethod
    def _cell(cell_id: str, cell_type: str, text: str, complete: bool) -> list[str]:
        return [
            CELL,
            cell_id,
            " ",
            cell_type,
            "" if complete else " excerpt",
            "\n",
            with_newline(text),
        ]

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        new_region, others = split_expected(ctx, expected)
        parts = [new_region]
        for cell in ctx.cells:  # notebook order
            if cell["id"] in others:
                parts += [CELL, cell["id"], "\n", others[cell["id"]], "\n"]
        parts.append(END)
        return "".join(parts)

    def region_so_far(self, output: str) -> str | None:
        return output.split(CELL, 1)[0].replace(CURSOR, "")

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        text = self.strip_stop(output).replace(CURSOR, "")
        new_region, *blocks = text.split(CELL)
        self.check_clean(new_region, ctx.region.text)
        shown = ctx.rewritable()
        others = {}
        for block in blocks:
            cell_id, newline, source = block.partition("\n")
            if not newline or not source.endswith("\n"):
                raise MalformedOutput("a cell block without its newlines")
            if cell_id not in shown or cell_id in others:
                raise MalformedOutput(f"a rewrite of cell {cell_id!r}, which was not shown whole")
            self.check_clean(source, shown[cell_id].text)
            others[cell_id] = source[:-1]
        return region_edits(ctx, new_region, others)
