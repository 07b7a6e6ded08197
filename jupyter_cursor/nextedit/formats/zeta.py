"""Zed's Zeta 1 format, which Continue's Instinct model shares.

Prompt (Zed's ``zeta1`` module; the editable region and the context end at a line end, without it)::

    ### Instruction:
    You are a code completion assistant and your task is to analyze user edits and then rewrite an
    excerpt that the user provides, suggesting the appropriate edits within the excerpt, taking
    into account the cursor location.

    ### User Edits:

    User edited nb.ipynb#c1:
    ```diff
    @@ -1 +1 @@
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

The model writes ``<|editable_region_start|>``, the region rewritten, ``<|editable_region_end|>``
(the stop). As in Zed, parsing takes what lies between the markers and drops the cursor marker.
Where the start marker is missing Zed fails; we read from the start of the output instead (our own
leniency, not Zed's). One region, so no cross-cell edit.
"""

from __future__ import annotations

from ..context import Budget, NextEditContext
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


def _without_final_newline(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text


class ZetaFormat(PromptFormat):
    name = "zeta"
    stop = (REGION_END,)
    markers = (CURSOR, START_OF_FILE, REGION_START, REGION_END)
    # Zeta 1's: region 350 tokens, 150 of context around it, 500 of edits, at most 16 of them.
    budget = Budget(region_tokens=350, context_tokens=150, events_tokens=500, max_events=16)

    def render(self, ctx: NextEditContext) -> str:
        events = []
        for diff in ctx.diffs:
            hunks = diff.diff.split("\n", 2)[2]  # Zed's event diffs have no ---/+++ lines
            events.append(
                f"User edited {cell_label(ctx, diff.cell_id)}:\n```diff\n{_without_final_newline(hunks)}\n```"
            )
        region = ctx.region
        # Zed's region ends at a line end: its line break belongs to the context after it.
        text = _without_final_newline(region.text)
        after = _without_final_newline(region.text[len(text) :] + ctx.suffix)
        first = ctx.cells[0]["id"] == ctx.cursor_cell["id"]
        excerpt = "".join(
            [
                f"```{cell_label(ctx, region.cell_id)}\n",
                f"{START_OF_FILE}\n" if first and ctx.prefix_complete else "",
                ctx.prefix,
                f"{REGION_START}\n",
                text[: region.cursor],
                CURSOR,
                text[region.cursor :],
                f"\n{REGION_END}",
                after,
                "\n```",
            ]
        )
        return (
            INSTRUCTION
            + "\n\n".join(events)
            + "\n\n### User Excerpt:\n\n"
            + excerpt
            + "\n\n### Response:\n"
        )

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        new_region, others = split_expected(ctx, expected)
        if others:
            raise UnrepresentableEdit("the zeta format rewrites one region, not other cells")
        return f"{REGION_START}\n{self._zed_region(ctx, new_region)}\n{REGION_END}"

    @staticmethod
    def _zed_region(ctx: NextEditContext, new_region: str) -> str:
        """The region as Zed shows it: the line break after its last line is not part of it."""
        if ctx.region.text.endswith("\n"):
            if not new_region.endswith("\n"):
                raise UnrepresentableEdit("the edit removes the line break the region ends with")
            return new_region[:-1]
        return new_region

    def region_so_far(self, output: str) -> str | None:
        start = output.find(REGION_START)
        if start < 0:
            return None
        so_far = output[start + len(REGION_START) :].replace(CURSOR, "")
        return so_far[1:] if so_far.startswith("\n") else so_far

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        content = self.strip_stop(output).replace(CURSOR, "")
        if content.count(REGION_START) > 1 or content.count(REGION_END) > 1:
            raise MalformedOutput("more than one editable region")
        start = content.find(REGION_START)
        start = 0 if start < 0 else start + len(REGION_START)
        if content.startswith("\n", start):
            start += 1
        end = content.find(REGION_END)
        if end < 0:
            end = len(content)
        if end > start and content[end - 1] == "\n":  # the line break before the end marker
            end -= 1
        new_region = content[start:end]
        self.check_clean(new_region, ctx.region.text)
        if ctx.region.text.endswith("\n"):
            new_region += "\n"
        return region_edits(ctx, new_region)
