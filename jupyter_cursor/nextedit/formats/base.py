"""What every prompt format shares: the interface, and turning a rewritten region into edits.

A format renders a :class:`~..context.NextEditContext` as a prompt, names the stop strings of the
model family, parses the completion back into edits, and writes the completion a model should
produce for a known next edit (``target``, for training data). ``original(ctx)`` is the completion
that changes nothing: the runtime stops early once the output rejoins it.
"""

from __future__ import annotations

import difflib
from typing import ClassVar

from ...apply.syntax import syntax_error
from ..context import Budget, NextEditContext

# Model output is untrusted: a region rewrite may not grow past this (a runaway repetition).
MAX_REWRITE_CHARS = 200_000


class MalformedOutput(ValueError):
    """The completion does not have the format's shape: it gives no edit."""


class UnrepresentableEdit(ValueError):
    """The expected edit touches text the prompt does not let the model rewrite (outside the
    region, in a cell not shown whole, or in another cell for a one-region format)."""


class PromptFormat:
    name: ClassVar[str]
    stop: ClassVar[tuple[str, ...]] = ()
    # Strings that must never reach a cell: a completion holding one is malformed.
    markers: ClassVar[tuple[str, ...]] = ()
    # The context budgets the model family was trained with.
    budget: ClassVar[Budget] = Budget()
    # Show a notebook as one ``# %%`` file (context.build_context's ``as_file``) rather than the
    # cursor's cell with the others as their own sections: chosen per format by what the prompt
    # then shows of the notebook (benchmarks/eval_formats.py, RESULTS.md).
    notebook_as_file: ClassVar[bool] = False

    def render(self, ctx: NextEditContext) -> str:
        raise NotImplementedError

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        """The completion for ``expected`` ({cell_id: new source}; {} = no edit), stop included.
        Raises UnrepresentableEdit when the prompt cannot lead to it."""
        raise NotImplementedError

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        """Edits ``[{"cell_id", "source"}]`` from a completion (its final stop string optional,
        since generation stops on it); MalformedOutput when it has not the format's shape."""
        raise NotImplementedError

    def parse(self, output: str, ctx: NextEditContext) -> list[dict]:
        """Like ``read``, but a malformed completion is simply no edit."""
        try:
            return self.read(output, ctx)
        except MalformedOutput:
            return []

    def original(self, ctx: NextEditContext) -> str:
        return self.target(ctx, {})

    def region_so_far(self, output: str) -> str | None:
        """The part of a completion still streaming that rewrites the region (None: not yet)."""
        raise NotImplementedError

    def partial(self, output: str, ctx: NextEditContext) -> list[dict]:
        """The edits a completion still streaming shows so far: its complete lines, then the
        region's remaining lines once the output's last line is a copy of one of them (the rest
        is assumed unchanged). [] while that cannot be told."""
        so_far = self.region_so_far(output)
        if so_far is None:
            return []
        written = so_far.splitlines(keepends=True)
        if written and not written[-1].endswith("\n"):
            written.pop()  # a line still being written
        original = ctx.region.text.splitlines(keepends=True)
        blocks = difflib.SequenceMatcher(
            None, original, written, autojunk=False
        ).get_matching_blocks()[:-1]
        if not blocks or blocks[-1].b + blocks[-1].size != len(written):
            return []
        new_region = "".join(written) + "".join(original[blocks[-1].a + blocks[-1].size :])
        if new_region == ctx.region.text:
            return []
        try:
            self.check_clean(new_region, ctx.region.text)
            return region_edits(ctx, new_region)
        except MalformedOutput:
            return []

    # -- helpers for subclasses ------------------------------------------------------------------

    def strip_stop(self, output: str) -> str:
        for stop in self.stop:
            if output.endswith(stop):
                return output[: -len(stop)]
        return output

    def check_clean(self, text: str, original: str) -> None:
        """MalformedOutput when the rewrite holds a marker its ``original`` text did not (code
        about tokenizers does hold ``<|endoftext|>``)."""
        leftover = [m for m in self.markers if m in text and m not in original]
        if leftover:
            raise MalformedOutput(f"leftover marker {leftover[0]!r} in the rewrite")
        if len(text) > MAX_REWRITE_CHARS:
            raise MalformedOutput("the rewrite is too long")


def split_expected(ctx: NextEditContext, expected: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(new region text, {other cell id: new source}) for an expected edit.

    UnrepresentableEdit when the cursor's cell changes outside the region or another changed cell
    is not shown whole in the prompt.
    """
    if ctx.notebook is not None:  # a notebook shown as one file: the edit of that file
        try:
            expected = ctx.notebook.to_file(expected)
        except ValueError as err:
            raise UnrepresentableEdit(str(err)) from None
    cell = ctx.cursor_cell
    region = ctx.region
    source = cell["source"]
    new = expected.get(cell["id"], source)
    head, tail = source[: region.start], source[region.end :]
    if not (new.startswith(head) and new.endswith(tail) and len(new) >= len(head) + len(tail)):
        raise UnrepresentableEdit("the edit changes the cursor's cell outside the editable region")
    new_region = new[len(head) : len(new) - len(tail)]
    shown = ctx.rewritable()
    others = {}
    for cell_id, text in expected.items():
        if cell_id == cell["id"] or (ctx.cell(cell_id) or {}).get("source") == text:
            continue
        if cell_id not in shown:
            raise UnrepresentableEdit(
                f"the edit changes cell {cell_id!r}, which is not shown whole"
            )
        others[cell_id] = text
    return new_region, others


def region_edits(
    ctx: NextEditContext, new_region: str, others: dict[str, str] | None = None
) -> list[dict]:
    """Full new sources of the changed cells, in notebook order; no edit for unchanged text.

    A code cell that parsed before and would not parse after is refused: half an edit is worse
    than none (random or truncated output mostly fails this way).
    """
    changed = dict(others or {})
    cell = ctx.cursor_cell
    source = cell["source"]
    changed[cell["id"]] = source[: ctx.region.start] + new_region + source[ctx.region.end :]
    edits = []
    for original in ctx.cells:
        new = changed.get(original["id"])
        if new is None or new == original["source"]:
            continue
        if original.get("cell_type", "code") == "code" and breaks_syntax(original["source"], new):
            raise MalformedOutput(f"the rewrite of cell {original['id']!r} does not parse")
        edits.append({"cell_id": original["id"], "source": new})
    return edits


def breaks_syntax(before: str, after: str) -> bool:
    return syntax_error(after) is not None and syntax_error(before) is None


def cell_label(ctx: NextEditContext, cell_id: str) -> str:
    """How a cell is named in prompts: the file's path for a one-cell file, path#id in a notebook."""
    return ctx.path if len(ctx.cells) == 1 else f"{ctx.path}#{cell_id}"


def with_newline(text: str) -> str:
    """``text`` ending in a newline (a separator before the next marker), unless it is empty."""
    return text if not text or text.endswith("\n") else text + "\n"
