"""Zed's Zeta 2 and Zeta 2.1 formats (fine-tuned from ByteDance-Seed/Seed-Coder-8B-Base).

Both use Seed-Coder's fill-in-the-middle tokens in suffix-prefix-middle order (Zed's
``zeta_prompt::seed_coder``): the code after the editable region first, then every other section
in the prefix, the model's answer in the middle::

    <[fim-suffix]>
    <code after the editable region>
    <[fim-prefix]><filename>other/file.py
    <retrieved snippet>

    <filename>edit_history
    --- a/nb.ipynb#c1
    +++ b/nb.ipynb#c1
    @@ -1,4 +1,4 @@
    ...

    <filename>nb.ipynb#c1
    <code before the editable region>
    <the editable region, marked>
    <[fim-middle]>

As in Zed, each section of the prefix ends in a line break and is followed by an empty line; the
history holds at most 6 events (hunks with 3 lines of context), oldest first. Other files are the
retrieved snippets, one ``<filename>`` section per path; the other cells of a notebook shown cell
by cell (``render`` with ``as_file=False``) are sections of their own, labelled like the cursor's
cell. Zed's ranges are rows (see zeta.py): the region's last line break belongs to the code after
it, so the suffix section starts with it, unless the region reaches the end of the cell.

Zeta 2 (``V0211SeedCoder``) marks the region as a merge conflict, ``<<<<<<< CURRENT``, the region
with ``<|user_cursor|>``, ``=======``; the model writes the region rewritten and
``>>>>>>> UPDATED``.

Zeta 2.1 (``V0318SeedMultiRegions``) numbers the region's blocks (6 to 16 lines, cut at blank lines
where it can): ``<|marker_1|>``, a line break, the first block, ``<|marker_2|>``, ... , the last
marker after the region's end, as the model card shows it. The model rewrites one span:
``<|marker_i|>``, a line break, the blocks from marker i to marker j rewritten, ``<|marker_j|>``;
the same marker twice is no edit. Markers the model writes between i and j are dropped.

An empty or blank answer is no edit; a cursor marker in the answer is dropped.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from ..context import Budget, NextEditContext
from .base import (
    MalformedOutput,
    PromptFormat,
    UnrepresentableEdit,
    cell_label,
    region_edits,
    split_expected,
    with_newline,
)
from .zeta import event_hunks, reaches_end, zed_region

FIM_SUFFIX = "<[fim-suffix]>"
FIM_PREFIX = "<[fim-prefix]>"
FIM_MIDDLE = "<[fim-middle]>"
FILE_MARKER = "<filename>"
CURSOR = "<|user_cursor|>"
HISTORY = "edit_history"
# Seed-Coder's end of sequence: Zeta 2.1's stop.
EOS = "<[end▁of▁sentence]>"
# Zeta 2's region markers.
CURRENT = "<<<<<<< CURRENT"
SEPARATOR = "======="
UPDATED = ">>>>>>> UPDATED"
# Zeta 2.1's block markers: <|marker_1|>, <|marker_2|>, ...
MARKER_PREFIX = "<|marker_"
MARKER = re.compile(r"<\|marker_(\d+)\|>")
# A marker inside a span, with the line break after it.
SPAN_MARKER = re.compile(r"<\|marker_\d+\|>\n?")
# Zeta 2.1's blocks (Zed's V0318 sizes): at least 6 lines, at most 16; a block starts after a
# blank line where it can, and never on a closing line.
MIN_BLOCK_LINES = 6
MAX_BLOCK_LINES = 16
MAX_NUDGE_LINES = 5
MAX_EVENTS = 6


def marker(number: int) -> str:
    return f"{MARKER_PREFIX}{number}|>"


def history_section(events: Sequence[tuple[str, str]]) -> str:
    """``<filename>edit_history`` and each event's ``--- a/path``, ``+++ b/path`` and hunks
    (``events``: (path, hunks), oldest first); empty without events."""
    if not events:
        return ""
    return f"{FILE_MARKER}{HISTORY}\n" + "".join(
        f"--- a/{path}\n+++ b/{path}\n{hunks}" for path, hunks in events
    )


def _closing(line: str) -> bool:
    """A line that ends a construct: no place to start a block (Zed's ``is_structural_tail``)."""
    return line.startswith(("}", "]", ")")) or line.rstrip(";") in (
        "break",
        "continue",
        "return",
        "throw",
        "end",
    )


def marker_offsets(text: str) -> list[int]:
    """Where Zeta 2.1's markers stand in ``text``: 0, line starts between blocks, ``len(text)``
    (Zed's ``compute_marker_offsets_v0318``)."""
    if not text:
        return [0, 0]
    lines = []  # (start, blank, good start of a block)
    at = 0
    for line in text.split("\n"):
        stripped = line.strip()
        lines.append((at, not stripped, bool(stripped) and not _closing(stripped)))
        at += len(line) + 1
    if text.endswith("\n") and len(lines) > 1:
        lines.pop()

    def good_start(i: int) -> int:
        return next((j for j in range(i, min(len(lines), i + MAX_NUDGE_LINES)) if lines[j][2]), i)

    offsets = [0]
    last = i = 0
    while i < len(lines):
        gap = i - last
        if gap >= MIN_BLOCK_LINES and not lines[i][1] and i > 0 and lines[i - 1][1]:
            target = good_start(i)
            if len(lines) - target >= MIN_BLOCK_LINES and lines[target][0] > offsets[-1]:
                offsets.append(lines[target][0])
                last, i = target, target + 1
                continue
        if gap >= MAX_BLOCK_LINES:
            target = good_start(i)
            if lines[target][0] > offsets[-1]:
                offsets.append(lines[target][0])
                last, i = target, target + 1
                continue
        i += 1
    if offsets[-1] != len(text):
        offsets.append(len(text))
    return offsets


class _SeedCoderFormat(PromptFormat):
    """What Zeta 2 and 2.1 share: the prompt around the region, the budgets."""

    # Zed's for both: region 350 tokens and 150 of context around it, at most 6 events; the whole
    # prompt within 4096 tokens less 10%. History and snippets get 1000 each, which leaves room
    # for the tokenizer counting more than our 3-characters-a-token estimate.
    budget = Budget(
        region_tokens=350,
        context_tokens=150,
        events_tokens=1000,
        max_events=MAX_EVENTS,
        retrieved=3,
        retrieved_tokens=1000,
    )

    def render(self, ctx: NextEditContext) -> str:
        related = self.related_section(ctx)
        history = history_section(
            [
                (cell_label(ctx, diff.cell_id).lstrip("/"), event_hunks(diff))
                for diff in ctx.diffs[-MAX_EVENTS:]
            ]
        )
        return "".join(
            [
                self.suffix_section(ctx),
                FIM_PREFIX,
                related,
                "\n" if related else "",
                history,
                "\n" if history else "",
                self.cursor_section(ctx),
                FIM_MIDDLE,
            ]
        )

    @staticmethod
    def suffix_section(ctx: NextEditContext) -> str:
        after = "" if reaches_end(ctx) else "\n" + ctx.suffix
        return FIM_SUFFIX + (after if after.endswith("\n") else after + "\n")

    @staticmethod
    def related_section(ctx: NextEditContext) -> str:
        """Retrieved snippets, one section per path, then the notebook's other cells."""
        files: dict[str, list[str]] = {}
        for snippet in ctx.snippets:
            files.setdefault(snippet.path, []).append(with_newline(snippet.text))
        parts = []
        for path, texts in files.items():
            parts += [FILE_MARKER, path, "\n", *texts]
        for cell in ctx.before:
            parts += [FILE_MARKER, cell_label(ctx, cell.id), "\n", with_newline(cell.text)]
        for cell in ctx.after:
            parts += [FILE_MARKER, cell_label(ctx, cell.id), "\n", with_newline(cell.text)]
            if not cell.complete:
                parts.append("...\n")  # Zed's mark of the rows left out below an excerpt
        return "".join(parts)

    def cursor_section(self, ctx: NextEditContext) -> str:
        text = zed_region(ctx, ctx.region.text)
        cursor = min(max(ctx.region.cursor, 0), len(text))
        head = f"{FILE_MARKER}{cell_label(ctx, ctx.region.cell_id)}\n{ctx.prefix}"
        return self.marked_region(head, text, cursor)

    def marked_region(self, head: str, text: str, cursor: int | None) -> str:
        raise NotImplementedError

    def _answer(self, output: str) -> str:
        """The answer up to its stop strings (the first of them, if the model wrote on)."""
        for stop in self.stop:
            output = output.split(stop, 1)[0]
        return output


class Zeta2Format(_SeedCoderFormat):
    name = "zeta2"
    stop = (UPDATED, EOS)
    markers = (FIM_SUFFIX, FIM_PREFIX, FIM_MIDDLE, FILE_MARKER, CURRENT, UPDATED, CURSOR, EOS)

    def marked_region(self, head: str, text: str, cursor: int | None) -> str:
        region = text if cursor is None else text[:cursor] + CURSOR + text[cursor:]
        return with_newline(f"{head}{CURRENT}\n{region}") + f"{SEPARATOR}\n"

    @staticmethod
    def _new_region(ctx: NextEditContext, text: str) -> str:
        """The region an answer's text stands for. Zed diffs the old and new texts of its range,
        each given a final line break (the old one only when not empty), and applies that diff:
        the text keeps the old text's ending."""
        old = zed_region(ctx, ctx.region.text)
        new = with_newline(text)
        if old and not old.endswith("\n"):
            new = new.removesuffix("\n")
        return new if reaches_end(ctx) else new + "\n"

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        new_region, others = split_expected(ctx, expected)
        if others:
            raise UnrepresentableEdit("zeta2 rewrites one region, not other cells")
        if not reaches_end(ctx) and not new_region.endswith("\n"):
            raise UnrepresentableEdit("the edit removes the line break the region ends with")
        text = with_newline(zed_region(ctx, new_region))
        if new_region != ctx.region.text and (
            not text.strip() or self._new_region(ctx, text) != new_region
        ):
            raise UnrepresentableEdit("zeta2 cannot write this region (its ending, or a blank)")
        return f"{text}{UPDATED}\n"

    def region_so_far(self, output: str) -> str | None:
        return self._answer(output).replace(CURSOR, "")

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        text = self._answer(output).replace(CURSOR, "")
        if not text.strip():
            return []  # an empty answer is no edit
        if UPDATED in ctx.region.text:  # Zed refuses such a prompt: the answer would end there
            raise MalformedOutput(f"the region holds {UPDATED!r}")
        self.check_clean(text, ctx.region.text)
        return region_edits(ctx, self._new_region(ctx, text))


class Zeta21Format(_SeedCoderFormat):
    name = "zeta2.1"
    stop = (EOS,)
    markers = (FIM_SUFFIX, FIM_PREFIX, FIM_MIDDLE, FILE_MARKER, MARKER_PREFIX, CURSOR, EOS)

    def marked_region(self, head: str, text: str, cursor: int | None) -> str:
        """``head``, then ``text`` with a marker before each block and one after the last, each
        on a line of its own (the model card's layout); then a line break."""
        offsets = marker_offsets(text)
        out = head
        for i, start in enumerate(offsets):
            if out and not out.endswith("\n"):
                out += "\n"
            out += marker(i + 1)
            if i + 1 < len(offsets):
                end = offsets[i + 1]
                block = text[start:end]
                if cursor is not None and start <= cursor <= end:
                    block = block[: cursor - start] + CURSOR + block[cursor - start :]
                    cursor = None
                out += "\n" + block
        return with_newline(out)

    def original(self, ctx: NextEditContext) -> str:
        """The whole region copied between its first and last markers: the answer that changes
        nothing and that a rewrite of any span rejoins (``target(ctx, {})`` is the shorter
        no-edit answer, one marker twice)."""
        return self.marked_region("", zed_region(ctx, ctx.region.text), None) + EOS

    def target(self, ctx: NextEditContext, expected: dict[str, str]) -> str:
        new_region, others = split_expected(ctx, expected)
        if others:
            raise UnrepresentableEdit("zeta2.1 rewrites one region, not other cells")
        if not reaches_end(ctx) and not new_region.endswith("\n"):
            raise UnrepresentableEdit("the edit removes the line break the region ends with")
        old = zed_region(ctx, ctx.region.text)
        new = zed_region(ctx, new_region)
        offsets = marker_offsets(old)
        if new == old:  # Zed's no-edit answer: the marker nearest the cursor, twice
            nearest = min(range(len(offsets)), key=lambda i: abs(offsets[i] - ctx.region.cursor))
            return marker(nearest + 1) * 2 + EOS
        # The markers around the change (Zed's encode_from_old_and_new).
        prefix = next(
            (i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new))
        )
        suffix = 0
        while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
            suffix += 1
        first = max(i for i, at in enumerate(offsets) if at <= prefix)
        last = next(
            (i for i, at in enumerate(offsets) if at >= len(old) - suffix), len(offsets) - 1
        )
        first = min(first, last)
        if first == last:
            if last < len(offsets) - 1:
                last += 1
            else:
                first -= 1
        span = new[offsets[first] : len(new) - (len(old) - offsets[last])]
        answer = with_newline(f"{marker(first + 1)}\n{span}") + f"{marker(last + 1)}\n{EOS}"
        try:
            if self._decode(ctx, answer) != new_region:
                raise MalformedOutput("no round trip")
        except MalformedOutput:
            raise UnrepresentableEdit("zeta2.1 cannot write this span (its ending)") from None
        return answer

    def region_so_far(self, output: str) -> str | None:
        """The span written so far, from its first marker (``partial`` places it in the region)."""
        text = self._answer(output)
        first = MARKER.search(text)
        if first is None:
            return None
        so_far = text[first.end() :].replace(CURSOR, "")
        so_far = so_far[1:] if so_far.startswith("\n") else so_far
        return SPAN_MARKER.sub("", so_far)

    def partial(self, output: str, ctx: NextEditContext) -> list[dict]:
        first = MARKER.search(self._answer(output))
        if first is None:
            return []
        offsets = marker_offsets(zed_region(ctx, ctx.region.text))
        number = int(first.group(1))
        if not 1 <= number <= len(offsets):
            return []
        # The region from the span's first marker on: what the streamed span rewrites.
        at, region = offsets[number - 1], ctx.region
        rest = dataclasses.replace(
            region,
            start=region.start + at,
            text=region.text[at:],
            cursor=max(0, region.cursor - at),
        )
        return super().partial(output, dataclasses.replace(ctx, region=rest))

    def _decode(self, ctx: NextEditContext, output: str) -> str | None:
        """The new region an answer gives (None: no edit); MalformedOutput when it has no span."""
        text = self._answer(output).replace(CURSOR, "")
        if not text.strip():
            return None  # an empty answer is no edit
        if MARKER_PREFIX in ctx.region.text:  # Zed refuses such a prompt: markers are ambiguous
            raise MalformedOutput("the region holds a marker")
        tags = list(MARKER.finditer(text))
        if len(tags) < 2:
            raise MalformedOutput("a span needs two markers")
        first, last = int(tags[0].group(1)), int(tags[-1].group(1))
        if first == last:
            return None  # one marker twice: no edit
        old = zed_region(ctx, ctx.region.text)
        offsets = marker_offsets(old)
        if not 1 <= first < last <= len(offsets):
            raise MalformedOutput(f"markers {first}..{last} are not a span of the region")
        start, end = offsets[first - 1], offsets[last - 1]
        begin = tags[0].end() + text.startswith("\n", tags[0].end())
        # Markers written inside the span (with their line break) are dropped.
        span = SPAN_MARKER.sub("", text[begin : max(begin, tags[-1].start())])
        old_span = old[start:end]
        if old_span.endswith("\n") and span and not span.endswith("\n"):
            span += "\n"
        if not old_span.endswith("\n") and span.endswith("\n"):
            span = span[:-1]  # the line break before a marker that follows no line break
        self.check_clean(span, ctx.region.text)
        new = old[:start] + span + old[end:]
        return new if reaches_end(ctx) else new + "\n"

    def read(self, output: str, ctx: NextEditContext) -> list[dict]:
        new_region = self._decode(ctx, output)
        return [] if new_region is None else region_edits(ctx, new_region)
