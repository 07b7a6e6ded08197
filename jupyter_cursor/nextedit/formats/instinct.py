"""Continue's Instinct (Qwen2.5-Coder-7B fine-tuned on chat messages): its own format, not Zeta's.

The prompt is a chat, rendered as Qwen's ChatML template renders it (system, user, then the
assistant's turn open)::

    <|im_start|>system
    You are Instinct, an intelligent next-edit predictor developed by Continue.dev. ...<|im_end|>
    <|im_start|>user
    Reference the user excerpt, user edits, and the snippets to understand ...

    ### Context:
    <|context_file|>: other.py
    <|snippet|>
    <snippet text>

    ### User Edits:

    User edited file "m.py"

    ```diff
    @@ -1,3 +1,3 @@
    ...
    ```

    ### User Excerpt:
    m.py

    <up to 25 lines above>
    <|editable_region_start|>
    <region, <|user_cursor_is_here|> at the cursor>
    <|editable_region_end|>
    <up to 25 lines below>```
    ### Response:<|im_end|>
    <|im_start|>assistant

As in Continue: the region is the cursor's line, 1 line above and 5 below (``region_lines``); the
excerpt and the region are lines joined by newlines (so a region reaching the end of a text that
ends with a newline shows the empty last row); the edits are listed newest first, one ``User
edited file`` block per edit with 3 context lines (hunk headers with both counts, blank context
lines and header-like lines left out, as Continue's filter does); the fence closing the excerpt
follows it without a line break. The model answers the region's lines rewritten, without markers;
an empty answer is no edit. (Our leniency: markers the model echoes are dropped.) One region, so
no cross-cell edit.
"""

from __future__ import annotations

import difflib
import re

from ..context import Budget, NextEditContext
from .base import (
    PromptFormat,
    UnrepresentableEdit,
    cell_label,
    region_edits,
    split_expected,
)

IM_START, IM_END, END_OF_TEXT = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
CURSOR = "<|user_cursor_is_here|>"
REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"
CONTEXT_FILE = "<|context_file|>"
SNIPPET = "<|snippet|>"
WINDOW_LINES = 25  # the excerpt: lines above and below the cursor's line
DIFF_CONTEXT = 3

SYSTEM_PROMPT = (
    "You are Instinct, an intelligent next-edit predictor developed by Continue.dev. Your role as "
    "an AI assistant is to help developers complete their code tasks by predicting the next edit "
    "that they will make within the section of code marked by <|editable_region_start|> and "
    "<|editable_region_end|> tags.\n"
    "\n"
    "You have access to the following information to help you make informed suggestions:\n"
    "\n"
    '- Context: In the section marked "### Context", there are context items from potentially '
    "relevant files in the developer's codebase. Each context item consists of a <|context_file|> "
    "marker, the filepath, a <|snippet|> marker, and then some content from that file, in that "
    "order. Keep in mind that not all of the context information may be relevant to the task, so "
    "use your judgement to determine which parts to consider.\n"
    '- User Edits: In the section marked "### User Edits:", there is a record of the most recent '
    "changes made to the code, helping you understand the evolution of the code and the "
    "developer's intentions. These changes are listed from most recent to least recent. It's "
    "possible that some of the edit diff history is entirely irrelevant to the developer's "
    "change. The changes are provided in a unified line-diff format, i.e. with pluses and minuses "
    "for additions and deletions to the code.\n"
    '- User Excerpt: In the section marked "### User Excerpt:", there is a filepath to the '
    "developer's current file, and then an excerpt from that file. The <|editable_region_start|> "
    "and <|editable_region_end|> markers are within this excerpt. Your job is to rewrite only "
    "this editable region, not the whole excerpt. The excerpt provides additional context on the "
    "surroundings of the developer's edit.\n"
    "- Cursor Position: Within the user excerpt's editable region, the <|user_cursor_is_here|> "
    "flag indicates where the developer's cursor is currently located, which can be crucial for "
    "understanding what part of the code they are focusing on. Do not produce this marker in your "
    "output; simply take it into account.\n"
    "\n"
    "Your task is to predict and complete the changes the developer would have made next in the "
    "editable region. The developer may have stopped in the middle of typing. Your goal is to "
    "keep the developer on the path that you think they're following. Some examples include "
    "further implementing a class, method, or variable, or improving the quality of the code. "
    "Make sure the developer doesn't get distracted by ensuring your suggestion is relevant. "
    "Consider what changes need to be made next, if any. If you think changes should be made, "
    "ask yourself if this is truly what needs to happen. If you are confident about it, then "
    "proceed with the changes.\n"
    "\n"
    "# Steps\n"
    "\n"
    "1. **Review Context**: Analyze the context from the resources provided, such as recently "
    "viewed snippets, edit history, surrounding code, and cursor location.\n"
    "2. **Evaluate Current Code**: Determine if the current code within the tags requires any "
    "corrections or enhancements.\n"
    "3. **Suggest Edits**: If changes are required, ensure they align with the developer's "
    "patterns and improve code quality.\n"
    "4. **Maintain Consistency**: Ensure indentation and formatting follow the existing code "
    "style.\n"
    "\n"
    "# Output Format\n"
    "\n"
    "- Provide only the revised code within the tags. Do not include the tags in your output.\n"
    "- Ensure that you do not output duplicate code that exists outside of these tags.\n"
    "- Avoid undoing or reverting the developer's last change unless there are obvious typos or "
    "errors."
)
USER_PROMPT_PREFIX = (
    "Reference the user excerpt, user edits, and the snippets to understand the developer's "
    "intent. Update the editable region of the user excerpt by predicting and completing the "
    "changes they would have made next. This may be a deletion, addition, or modification of code."
)

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def chat(system: str, user: str) -> str:
    """Qwen's ChatML template: a system and a user message, then the assistant's turn."""
    return (
        f"{IM_START}system\n{system}{IM_END}\n{IM_START}user\n{user}{IM_END}\n{IM_START}assistant\n"
    )


def user_message(context: str, edits: str, path: str, excerpt: str) -> str:
    """Continue's template for Instinct's user message (the fence after the excerpt included)."""
    return (
        f"{USER_PROMPT_PREFIX}\n\n### Context:\n{context}\n\n### User Edits:\n\n{edits}\n\n"
        f"### User Excerpt:\n{path}\n\n{excerpt}```\n### Response:"
    )


def context_block(items: list[tuple[str, str]]) -> str:
    """Context items ``(path, text)``: a file marker line, a snippet marker line, the text."""
    blocks = []
    for path, text in items:
        blocks.append(f"{CONTEXT_FILE}: {path}\n{SNIPPET}\n" + text.rstrip("\n"))
    return "\n\n".join(blocks)


def diff_lines(before: str, after: str, context: int = DIFF_CONTEXT) -> list[str]:
    """The hunk lines of a unified diff as Continue's ``createPatch`` writes them (both texts
    ending with a newline; both counts in every hunk header), less what Continue's filter leaves
    out: lines starting with ``---``/``+++``/``===`` and blank ones."""
    a = (before if before.endswith("\n") else before + "\n").splitlines(True)
    b = (after if after.endswith("\n") else after + "\n").splitlines(True)
    kept = []
    for line in list(difflib.unified_diff(a, b, n=context))[2:]:
        line = line.rstrip("\n")
        header = _HUNK_HEADER.match(line)
        if header:
            old_start, old_count, new_start, new_count = header.groups()
            line = (
                f"@@ -{old_start},{1 if old_count is None else old_count} "
                f"+{new_start},{1 if new_count is None else new_count} @@"
            )
        if line.startswith(("---", "+++", "===")) or not line.strip():
            continue
        kept.append(line)
    return kept


def edit_block(path: str, lines: list[str]) -> str:
    return "\n".join([f'User edited file "{path}"', "", "```diff", *lines, "```"])


def region_rows(ctx: NextEditContext, below: int) -> str:
    """The region as Continue shows it: its lines joined by newlines; the empty last row of a
    text ending with a newline is the region's when it lies within ``below`` rows of the cursor's."""
    region, source = ctx.region, ctx.cursor_cell["source"]
    last_row = source.count("\n")
    cursor_row = source.count("\n", 0, region.start + region.cursor)
    if region.end == len(source) and cursor_row + below >= last_row:
        return region.text
    return region.text[:-1] if region.text.endswith("\n") else region.text


class InstinctFormat(PromptFormat):
    name = "instinct"
    stop = (IM_END,)  # and the tokenizer's end of text, which the runtime stops on
    markers = (IM_START, IM_END, END_OF_TEXT, REGION_START, REGION_END, CONTEXT_FILE, SNIPPET)
    # Continue's Instinct window: the cursor's line, 1 line above and 5 below.
    budget = Budget(region_lines=(1, 5))

    def render(self, ctx: NextEditContext) -> str:
        items = []
        for snippet in ctx.snippets:
            label = f"{snippet.path}#{snippet.cell_id}" if snippet.cell_id else snippet.path
            items.append((label, snippet.text))
        for cell in ctx.before + ctx.after:
            if cell.text.strip():
                items.append((cell_label(ctx, cell.id), cell.text))
        edits = []
        for diff in reversed(ctx.diffs):  # newest first, as the system prompt says
            lines = diff_lines(diff.before, diff.after)
            if lines:
                edits.append(edit_block(cell_label(ctx, diff.cell_id), lines))
        return chat(
            SYSTEM_PROMPT,
            user_message(
                context_block(items),
                "\n".join(edits),
                cell_label(ctx, ctx.region.cell_id),
                self._excerpt(ctx),
            ),
        )

    def _rows(self, ctx: NextEditContext) -> str:
        return region_rows(ctx, (self.budget.region_lines or (1, 5))[1])

    def _excerpt(self, ctx: NextEditContext) -> str:
        """Up to 25 rows above and below the cursor's, the region between its markers."""
        region, source = ctx.region, ctx.cursor_cell["source"]
        cursor = region.start + region.cursor
        rows = (source[:cursor] + CURSOR + source[cursor:]).split("\n")
        line = source.count("\n", 0, cursor)
        first = source.count("\n", 0, region.start)
        last = first + self._rows(ctx).count("\n")
        top, bottom = max(0, line - WINDOW_LINES), line + WINDOW_LINES + 1
        return "\n".join(
            [
                *rows[top:first],
                REGION_START,
                *rows[first : last + 1],
                REGION_END,
                *rows[last + 1 : bottom],
            ]
        )

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        new_region, others = split_expected(ctx, expected)
        if others:
            raise UnrepresentableEdit("the instinct format rewrites one region, not other cells")
        tail = ctx.region.text[len(self._rows(ctx)) :]
        if not new_region.endswith(tail):
            raise UnrepresentableEdit("the edit removes the line break the region ends with")
        answer = new_region[: len(new_region) - len(tail)]
        if not answer and new_region != ctx.region.text:
            raise UnrepresentableEdit("an empty answer is no edit: the region cannot go")
        return answer + IM_END

    def region_so_far(self, output: str) -> str | None:
        return output.replace(CURSOR, "")

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        answer = self.strip_stop(output)
        if END_OF_TEXT not in ctx.region.text:
            answer = answer.removesuffix(END_OF_TEXT)
        answer = answer.replace(CURSOR, "")
        # Our leniency: the region's markers echoed around the answer are dropped.
        if REGION_START in answer and REGION_START not in ctx.region.text:
            answer = answer.split(REGION_START, 1)[1].removeprefix("\n")
        if REGION_END in answer and REGION_END not in ctx.region.text:
            answer = answer.rsplit(REGION_END, 1)[0].removesuffix("\n")
        if not answer:
            return []
        self.check_clean(answer, ctx.region.text)
        return region_edits(ctx, answer + ctx.region.text[len(self._rows(ctx)) :])
