"""Zed's Zeta 1 format (``zed-industries/zeta``, fine-tuned from Qwen2.5-Coder-7B).

Prompt (Zed's ``zeta1`` module)::

    ### Instruction:
    You are a code completion assistant and your task is to analyze user edits and then rewrite an
    excerpt that the user provides, suggesting the appropriate edits within the excerpt, taking
    into account the cursor location.

    ### User Edits:

    User edited "nb.ipynb#c1":
    ```diff
    @@ -1,4 +1,4 @@
    ...

    ```

    ### User Excerpt:

    ```nb.ipynb#c1
    <|start_of_file|>
    <context above>
    <|editable_region_start|>
    <region with <|user_cursor_is_here|>>
    <|editable_region_end|>
    <context below>
    ```

    ### Response:

Zed's ranges are rows: the region and the context end at the end of their last row, its line break
outside them; a range that reaches the end of a text ending in a line break ends on the empty row
after it, so that row shows (``return M\\n\\n<|editable_region_end|>``). The events are Zed's:
the path quoted, hunks with 3 lines of context, the diff's last line break before the fence.

The model writes ``<|editable_region_start|>``, the region rewritten, ``<|editable_region_end|>``
(the stop). As in Zed's ``parse_edits``, parsing drops the cursor marker, takes what lies between
the markers less the line break after the start marker and before the end marker, and refuses more
than one of a marker. Where the start marker is missing Zed reads from the start of the output, and
so do we. An empty answer is no prediction; an answer whose region is empty
(``<|editable_region_start|>\n<|editable_region_end|>``) empties the region, as in Zed. One region,
so no cross-cell edit.
"""

from __future__ import annotations

from ..context import Budget, CellDiff, NextEditContext, unified_diff
from .base import (
    MalformedOutput,
    PromptFormat,
    UnrepresentableEdit,
    cell_label,
    region_edits,
    split_expected,
)

CURSOR = "<|user_cursor_is_here|>"
START_OF_FILE = "<|start_of_file|>"
REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"
INSTRUCTION = (
    "### Instruction:\n"
    "You are a code completion assistant and your task is to analyze user edits and then rewrite an "
    "excerpt that the user provides, suggesting the appropriate edits within the excerpt, taking "
    "into account the cursor location.\n\n"
    "### User Edits:\n\n"
)
# Zed's event diffs carry 3 lines of context (ours are built with 2).
DIFF_CONTEXT_LINES = 3


def event_hunks(diff: CellDiff, context_lines: int = DIFF_CONTEXT_LINES) -> str:
    """The hunks of one event, without the ---/+++ lines, with ``context_lines`` of context.

    A diff cut to the event budget (it lost its first lines) is kept as it is."""
    if not diff.diff.startswith("--- "):
        return diff.diff.split("\n", 1)[1] if diff.diff.startswith("+++ ") else diff.diff
    full = unified_diff(diff.before, diff.after, diff.cell_id, context_lines)
    return full.split("\n", 2)[2]


def reaches_end(ctx: NextEditContext) -> bool:
    """The region reaches the end of the cursor's cell (Zed's range then ends on its last row,
    the empty one after a final line break: the region keeps that line break)."""
    return ctx.region.end == len(ctx.cursor_cell["source"])


def zed_region(ctx: NextEditContext, text: str) -> str:
    """Our region's text (whole lines) as Zed's range holds it: without its last line break,
    unless the region reaches the end of the cell."""
    return text if reaches_end(ctx) else text[:-1]


class ZetaFormat(PromptFormat):
    name = "zeta"
    # Per cell, Zeta's prompt shows the cursor's cell alone; as one file the cells around it come
    # in (names the edit uses that the prompt shows, dev notebooks: 0.414 -> 0.517).
    notebook_as_file = True
    stop = (REGION_END,)
    markers = (CURSOR, START_OF_FILE, REGION_START, REGION_END)
    # Zeta 1's: region 350 tokens, 150 of context around it, 500 of edits, at most 16 of them.
    budget = Budget(region_tokens=350, context_tokens=150, events_tokens=500, max_events=16)

    def render(self, ctx: NextEditContext) -> str:
        return (
            INSTRUCTION
            + self.events(ctx)
            + "\n\n### User Excerpt:\n\n"
            + self.excerpt(ctx)
            + "\n\n### Response:\n"
        )

    def events(self, ctx: NextEditContext) -> str:
        """The ``### User Edits:`` section's text, oldest event first."""
        return "\n\n".join(
            f'User edited "{cell_label(ctx, diff.cell_id)}":\n```diff\n{event_hunks(diff)}\n```'
            for diff in ctx.diffs
        )

    def excerpt(self, ctx: NextEditContext) -> str:
        """The ``### User Excerpt:`` section's text, from its opening fence to its closing one."""
        region = ctx.region
        text = zed_region(ctx, region.text)
        cursor = min(max(region.cursor, 0), len(text))
        if reaches_end(ctx) or not ctx.suffix:
            after = ""
        else:
            # The region's line break, then the rows below up to the end of the context's last
            # row (the empty last row too, when the context reaches the end of the cell).
            after = "\n" + (ctx.suffix if ctx.suffix_complete else ctx.suffix[:-1])
        first = ctx.cells[0]["id"] == ctx.cursor_cell["id"]
        return "".join(
            [
                f"```{cell_label(ctx, region.cell_id)}\n",
                f"{START_OF_FILE}\n" if first and ctx.prefix_complete else "",
                ctx.prefix,
                f"{REGION_START}\n",
                text[:cursor],
                CURSOR,
                text[cursor:],
                f"\n{REGION_END}",
                after,
                "\n```",
            ]
        )

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        new_region, others = split_expected(ctx, expected)
        if others:
            raise UnrepresentableEdit("the zeta format rewrites one region, not other cells")
        if not reaches_end(ctx) and not new_region.endswith("\n"):
            raise UnrepresentableEdit("the edit removes the line break the region ends with")
        return f"{REGION_START}\n{zed_region(ctx, new_region)}\n{REGION_END}"

    def region_so_far(self, output: str) -> str | None:
        start = output.find(REGION_START)
        if start < 0:
            return None
        so_far = output[start + len(REGION_START) :].replace(CURSOR, "")
        return so_far[1:] if so_far.startswith("\n") else so_far

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        content = self.strip_stop(output).replace(CURSOR, "")
        if not content.strip():
            return []  # an empty answer is no prediction
        for marker in (REGION_START, REGION_END, START_OF_FILE):
            if content.count(marker) > 1:
                raise MalformedOutput(f"more than one {marker}")
        start = content.find(REGION_START)
        start = 0 if start < 0 else start + len(REGION_START)
        if content.startswith("\n", start):
            start += 1
        end = content.find(REGION_END)
        if end < 0:
            end = len(content.removesuffix("\n"))
        elif end > 0 and content[end - 1] == "\n":  # the line break before the end marker
            end -= 1
        # min: "<|editable_region_start|>\n<|editable_region_end|>" has one line break for both.
        new_region = content[min(start, end) : end]
        self.check_clean(new_region, ctx.region.text)
        return region_edits(ctx, new_region if reaches_end(ctx) else new_region + "\n")
