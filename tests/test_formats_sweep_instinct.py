"""Instinct, Sweep and Sweep's own server format: the reference vectors of ../shared/formats/
rendered and parsed as their references do, then our own cases written out in full."""

import json
from pathlib import Path

import pytest

from jupyter_cursor.nextedit.context import CellDiff, NextEditContext, Region, build_context
from jupyter_cursor.nextedit.formats.base import MalformedOutput, UnrepresentableEdit
from jupyter_cursor.nextedit.formats.instinct import (
    SYSTEM_PROMPT,
    USER_PROMPT_PREFIX,
    InstinctFormat,
)
from jupyter_cursor.nextedit.formats.sweep import SweepFormat, diff_sides, limit_lines, sweep_prompt
from jupyter_cursor.nextedit.formats.sweep_local import SweepLocalFormat

VECTORS = Path(__file__).parents[2] / "shared" / "formats"


def vector(name: str) -> dict:
    path = VECTORS / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"no reference vector {path}")
    return json.loads(path.read_text())


def one_file(path: str, source: str, offset: int, events=(), fmt=None) -> NextEditContext:
    request = {
        "path": path,
        "cells": [{"id": "file", "cell_type": "code", "source": source}],
        "cursor": {"cell_id": "file", "offset": offset},
        "events": [{"cell_id": "file", "before": b, "after": a} for b, a in events],
    }
    return build_context(request, budget=fmt.budget) if fmt else build_context(request)


def with_region(ctx: NextEditContext, first: int, last: int, offset: int) -> NextEditContext:
    """``ctx`` with the region of its cell's lines first..last (inclusive) given explicitly."""
    source = ctx.cursor_cell["source"]
    lines = source.splitlines(True)
    start = sum(len(line) for line in lines[:first])
    end = start + sum(len(line) for line in lines[first : last + 1])
    region = Region("file", start, end, source[start:end], offset - start, first, last + 1)
    return NextEditContext(
        ctx.path, ctx.cells, ctx.cursor_cell, region, "", "", True, True, (), (), (), ctx.diffs
    )


def edits(fmt, output, ctx):
    return {e["cell_id"]: e["source"] for e in fmt.parse(output, ctx)}


def chatml(user: str) -> str:
    return (
        f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
        f"<|im_start|>user\n{user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


# -- the reference vectors ---------------------------------------------------------------------


def test_instinct_vector_excerpt_and_history():
    case = vector("instinct_continue_excerpt_and_history")
    inputs = case["inputs"]
    content = inputs["content"]
    hunk = inputs["diff"].split("@@ -1,3 +1,3 @@\n", 1)[1]
    before, after = diff_sides("@@\n" + hunk)
    diff = CellDiff("file", "\n".join(before) + "\n", "\n".join(after) + "\n", "")
    cursor = inputs["cursor"]
    offset = (
        sum(len(row) + 1 for row in content.split("\n")[: cursor["line"]]) + cursor["character"]
    )
    ctx = one_file("test.js", content, offset)
    ctx = with_region(
        NextEditContext(**{**ctx.__dict__, "diffs": (diff,)}), *inputs["editable"], offset
    )
    assert inputs["window"] == [0, 4]  # ±25 lines: the whole of this text
    prompt = InstinctFormat().render(ctx)
    # Continue's template; its fence after the excerpt follows it without a line break (the
    # vector's ``user_message_lines`` put it on a line of its own: a sketch of the same order).
    assert prompt == chatml(
        f"{USER_PROMPT_PREFIX}\n\n### Context:\n\n\n### User Edits:\n\n"
        f"{case['reference_edit_history']}\n\n### User Excerpt:\ntest.js\n\n"
        f"{case['reference_excerpt']}```\n### Response:"
    )
    headings = [line for line in case["user_message_lines"] if line.startswith("###")]
    at = [prompt.index(f"\n{heading}") for heading in headings]
    assert at == sorted(at)
    # The answer is the region rewritten, without markers; an empty answer is no edit.
    assert edits(InstinctFormat(), "line 1\nline 2b\nline 3<|im_end|>", ctx) == {
        "file": content.replace("line 2", "line 2b")
    }
    assert InstinctFormat().parse("", ctx) == InstinctFormat().parse("<|im_end|>", ctx) == []


def test_sweep_vector_zed_prompt_ordering():
    case = vector("sweep_zed_build_prompt_ordering")
    inputs = case["inputs"]
    prompt = sweep_prompt(
        [(f["file_path"], f["content"]) for f in inputs["related_files"]],
        [(c["file_path"], c["original"], c["updated"]) for c in inputs["recent_changes"]],
        inputs["file_path"],
        inputs["original_window"],
        inputs["current_window"],
    )
    assert prompt == case["reference_prompt"]


def test_sweep_vector_publisher_prompt_differs_only_by_the_final_newline():
    case = vector("sweep_publisher_build_prompt_restated")
    inputs = case["inputs"]
    prompt = sweep_prompt(
        list(inputs["context_files"].items()),
        [(d["file_path"], d["original"], d["updated"]) for d in inputs["recent_diffs"]],
        inputs["file_path"],
        inputs["original_content"],
        inputs["current_content"],
    )
    # The restated publisher prompt has no newline after the last header; Zed's (and Sweep's own
    # server, whose prefill follows a newline) has one, and so has ours.
    assert prompt == case["reference_prompt"] + "\n"


def test_sweep_vector_recent_change_block():
    case = vector("sweep_zed_recent_change_block")
    before, after = diff_sides(case["inputs"]["unified_diff"])
    assert limit_lines(before) == case["reference_original"]
    assert limit_lines(after) == case["reference_updated"]
    # The same change as an edit of the file: one block, its context lines on both sides.
    old = case["reference_original"] + "\n"
    new = case["reference_updated"] + "\n"
    ctx = one_file("src/main.rs", new, 0, [(old, new)], SweepFormat)
    assert (
        "<|file_sep|>src/main.rs.diff\n"
        f"original:\n{case['reference_original']}\nupdated:\n{case['reference_updated']}\n"
        "<|file_sep|>original/src/main.rs\n"
    ) in SweepFormat().render(ctx)


def test_sweep_vector_output_rules():
    case = vector("sweep_zed_build_prompt_ordering")
    assert "first <|file_sep|> or </s>" in case["output_rules"]
    source = "a = 1\nb = 2\n"
    ctx = one_file("m.py", source, 0, fmt=SweepFormat)
    fmt = SweepFormat()
    assert edits(fmt, "a = 10\nb = 2\n</s>junk", ctx) == {"file": "a = 10\nb = 2\n"}
    assert edits(fmt, "a = 10\nb = 2\n<|file_sep|>x\n</s>", ctx) == {"file": "a = 10\nb = 2\n"}
    assert fmt.parse("", ctx) == fmt.parse("  \n\n", ctx) == fmt.parse("a = 1\nb = 2\n", ctx) == []


def test_sweep_autocomplete_vector_templates():
    case = vector("sweep_autocomplete_server_templates")
    assert case["appended_after_template"] == "\\n{prefill}"  # the local server's prefill: ""
    before = "def area(w, h):\n    return w * h\n\n\ndef volume(w, h, d):\n    return w * h\n"
    after = before.replace("volume(w, h, d)", "volume(w, h, depth)")
    offset = len(after) - 1  # the end of the last line
    ctx = one_file("geo.py", after, offset, [(before, after)], SweepLocalFormat)
    change = case["diff_template"].format(
        file_path="geo.py",
        start_line=2,  # the hunk's new start; + its new lines after the first, - 1
        end_line=5,
        old_code="def volume(w, h, d):\n    return w * h",
        new_code="def volume(w, h, depth):\n    return w * h",
    )
    prompt = case["prompt_template"].format(
        file_path="geo.py",
        initial_file=after,
        retrieval_results="",
        recent_changes=change,
        start_line=2,  # the cursor's line in the block + 1; + the block's lines
        end_line=4,
        prev_section="def volume(w, h, d):\n    return w * h",  # the hunk reverted
        code_block="def volume(w, h, depth):\n    return w * h<|cursor|>",
    )
    fmt = SweepLocalFormat()
    assert fmt.render(ctx) == prompt + "\n"
    # The server's stops, and its reading: blank lines before the block dropped.
    assert {*fmt.stop, "<|endoftext|>"} == set(case["notes"][-1].split("'")[1::2][:2])
    answer = "\n\ndef volume(w, h, depth):\n    return w * h * depth\n<|file_sep|>"
    last = after.rindex("return w * h")
    assert edits(fmt, answer, ctx) == {"file": after[:last] + "return w * h * depth\n"}


# -- Instinct, our own cases ---------------------------------------------------------------------

NET_AFTER = (
    "TAX = 0.2\n"
    "\n"
    "\n"
    "def net(price):\n"
    "    return amount\n"
    "\n"
    "\n"
    "def gross(price):\n"
    "    return price * (1 + TAX)\n"
)
NET_BEFORE = NET_AFTER.replace("net(price)", "net(amount)")
NET_FIXED = NET_AFTER.replace("return amount", "return price")


@pytest.fixture
def net_ctx():
    offset = NET_AFTER.index("net(price") + len("net(price")
    return one_file("prices.py", NET_AFTER, offset, [(NET_BEFORE, NET_AFTER)], InstinctFormat)


def test_instinct_prompt(net_ctx):
    assert (
        InstinctFormat().render(net_ctx)
        == chatml(
            USER_PROMPT_PREFIX + "\n"
            "\n"
            "### Context:\n"
            "\n"
            "\n"
            "### User Edits:\n"
            "\n"
            'User edited file "prices.py"\n'
            "\n"
            "```diff\n"
            "@@ -1,7 +1,7 @@\n"
            " TAX = 0.2\n"  # Continue's filter leaves out the blank context lines
            "-def net(amount):\n"
            "+def net(price):\n"
            "     return amount\n"
            "```\n"
            "\n"
            "### User Excerpt:\n"
            "prices.py\n"
            "\n"
            "TAX = 0.2\n"
            "\n"
            "<|editable_region_start|>\n"
            "\n"
            "def net(price<|user_cursor_is_here|>):\n"
            "    return amount\n"
            "\n"
            "\n"
            "def gross(price):\n"
            "    return price * (1 + TAX)\n"
            "<|editable_region_end|>\n"
            "```\n"
            "### Response:"
        )
    )


def test_instinct_target_and_parse(net_ctx):
    fmt = InstinctFormat()
    target = fmt.target(net_ctx, {"file": NET_FIXED})
    assert target == (
        "\ndef net(price):\n    return price\n\n\ndef gross(price):\n"
        "    return price * (1 + TAX)<|im_end|>"
    )
    assert edits(fmt, target, net_ctx) == {"file": NET_FIXED}
    assert edits(fmt, target.removesuffix("<|im_end|>"), net_ctx) == {"file": NET_FIXED}
    assert fmt.parse(fmt.original(net_ctx), net_ctx) == []
    # The cursor marker, or the region's markers echoed around the answer, are dropped.
    echoed = "<|editable_region_start|>\n" + target.replace(
        "price\n", "price<|user_cursor_is_here|>\n", 1
    )
    echoed = echoed.replace("<|im_end|>", "\n<|editable_region_end|><|im_end|>")
    assert edits(fmt, echoed, net_ctx) == {"file": NET_FIXED}
    with pytest.raises(UnrepresentableEdit):
        fmt.target(net_ctx, {"file": NET_FIXED.replace("TAX = 0.2", "TAX = 0.25")})


def test_instinct_empty_answer_is_no_edit(net_ctx):
    fmt = InstinctFormat()
    assert fmt.parse("", net_ctx) == fmt.parse("<|im_end|>", net_ctx) == []
    with pytest.raises(UnrepresentableEdit):  # so the region cannot be emptied
        fmt.target(net_ctx, {"file": "TAX = 0.2\n\n\n"})


@pytest.mark.parametrize(
    "output",
    [
        "def net(price):\n<|im_start|>user\nmore<|im_end|>",  # a chat marker
        "\ndef net(price:\n    return price\n<|im_end|>",  # breaks the syntax
    ],
)
def test_instinct_malformed_answer_is_no_edit(net_ctx, output):
    with pytest.raises(MalformedOutput):
        InstinctFormat().read(output, net_ctx)
    assert InstinctFormat().parse(output, net_ctx) == []


def test_instinct_region_reaching_the_end_shows_the_empty_last_row():
    source = "x = 1\ny = 2\n"
    ctx = one_file("xy.py", source, source.index("y"), fmt=InstinctFormat)
    prompt = InstinctFormat().render(ctx)
    assert "<|editable_region_start|>\nx = 1\n<|user_cursor_is_here|>y = 2\n\n" in prompt
    assert prompt.endswith(
        "<|editable_region_end|>```\n### Response:<|im_end|>\n<|im_start|>assistant\n"
    )
    assert edits(InstinctFormat(), "x = 1\ny = 3\n", ctx) == {"file": "x = 1\ny = 3\n"}


# -- Sweep, our own cases ------------------------------------------------------------------------

RATES = [f"total_{i} = {i} * rate\n" for i in range(30)]


def test_sweep_prompt_window_aligned_after_an_import_above():
    before = "".join(RATES)
    after = "import math\n" + before
    offset = after.index("total_16")
    ctx = one_file("rates.py", after, offset, [(before, after)], SweepFormat)
    window = "".join(RATES[6:27])  # the cursor's line (16), 10 above and 10 below
    assert SweepFormat().render(ctx) == (
        "<|file_sep|>rates.py.diff\n"
        "original:\n"
        "total_0 = 0 * rate\n"
        "updated:\n"
        "import math\n"
        "total_0 = 0 * rate\n"
        # Mapped back through the inserted import: the same lines, not the ones a line above.
        "<|file_sep|>original/rates.py\n"
        + window
        + "<|file_sep|>current/rates.py\n"
        + window
        + "<|file_sep|>updated/rates.py\n"
    )


def test_sweep_two_distant_edits_are_two_blocks():
    before = "".join(RATES)
    after = before.replace("total_3 = 3", "total_3 = 30").replace("total_27 = 27", "total_27 = 270")
    ctx = one_file("rates.py", after, after.index("total_16"), [(before, after)], SweepFormat)
    prompt = SweepFormat().render(ctx)
    assert prompt.startswith(
        "<|file_sep|>rates.py.diff\n"
        "original:\n"
        "total_2 = 2 * rate\n"
        "total_3 = 3 * rate\n"
        "total_4 = 4 * rate\n"
        "updated:\n"
        "total_2 = 2 * rate\n"
        "total_3 = 30 * rate\n"
        "total_4 = 4 * rate\n"
        "<|file_sep|>rates.py.diff\n"
        "original:\n"
        "total_26 = 26 * rate\n"
        "total_27 = 27 * rate\n"
        "total_28 = 28 * rate\n"
        "updated:\n"
        "total_26 = 26 * rate\n"
        "total_27 = 270 * rate\n"
        "total_28 = 28 * rate\n"
        "<|file_sep|>original/rates.py\n"
    )


@pytest.fixture
def rates_ctx():
    source = "".join(RATES)
    return one_file("rates.py", source, source.index("total_16"), fmt=SweepFormat)


def test_sweep_target_and_parse(rates_ctx):
    fmt = SweepFormat()
    source = "".join(RATES)
    new = source.replace("total_20 = 20", "total_20 = 21")
    target = fmt.target(rates_ctx, {"file": new})
    assert target == "".join(RATES[6:27]).replace("total_20 = 20", "total_20 = 21") + "<|file_sep|>"
    assert edits(fmt, target, rates_ctx) == {"file": new}
    assert edits(fmt, "\n\n" + target, rates_ctx) == {"file": new}  # leading blank lines dropped
    assert fmt.parse(fmt.original(rates_ctx), rates_ctx) == []
    with pytest.raises(UnrepresentableEdit):  # outside the 21-line window
        fmt.target(rates_ctx, {"file": source.replace("total_29 = 29", "total_29 = 0")})
    with pytest.raises(UnrepresentableEdit):  # an empty answer is no edit
        fmt.target(rates_ctx, {"file": "".join(RATES[:6] + RATES[27:])})


def test_sweep_empty_answer_is_no_edit(rates_ctx):
    fmt = SweepFormat()
    for output in ["", "<|file_sep|>", "\n\n", "   \n</s>"]:
        assert fmt.parse(output, rates_ctx) == []


@pytest.mark.parametrize(
    "output",
    [
        "total_6 = (6 * rate\n<|file_sep|>",  # breaks the syntax
        "total_6 = 6 * rate<|endoftext|>x\n",  # the end of text inside an answer
    ],
)
def test_sweep_malformed_answer_is_no_edit(rates_ctx, output):
    if "<|endoftext|>" in output:
        assert SweepFormat().parse(output, rates_ctx) == SweepFormat().parse(
            "total_6 = 6 * rate", rates_ctx
        )
        return
    with pytest.raises(MalformedOutput):
        SweepFormat().read(output, rates_ctx)
    assert SweepFormat().parse(output, rates_ctx) == []


def test_sweep_window_ending_on_a_blank_line():
    source = "a = 1\n\nb = 2\n"
    ctx = with_region(one_file("ab.py", source, 0), 0, 1, 0)
    assert ctx.region.text == "a = 1\n\n"
    fmt = SweepFormat()
    # As Zed shows it: up to the end of the blank line, so "a = 1\n"; a copy of it changes nothing.
    assert fmt.render(ctx).endswith("<|file_sep|>current/ab.py\na = 1\n<|file_sep|>updated/ab.py\n")
    assert fmt.parse("a = 1\n<|file_sep|>", ctx) == []
    assert edits(fmt, "a = 10\n<|file_sep|>", ctx) == {"file": "a = 10\n\nb = 2\n"}


# -- Sweep's own server (sweep-autocomplete), our own cases -------------------------------------

SHAPES = (
    "import math\n"
    "\n"
    "\n"
    "def circle(r):\n"
    "    return math.pi * r * r\n"
    "\n"
    "\n"
    "def square(side):\n"
    "    return side * side\n"
)


@pytest.fixture
def shapes_ctx():
    def retrieve(query, k):
        return [{"path": "units.py", "cell_id": None, "text": "CM = 0.01\nMM = 0.001\n"}]

    request = {
        "path": "shapes.py",
        "cells": [{"id": "file", "cell_type": "code", "source": SHAPES}],
        "cursor": {"cell_id": "file", "offset": SHAPES.index("side):")},
        "events": [],
    }
    return build_context(request, budget=SweepLocalFormat.budget, retrieve=retrieve)


def test_sweep_autocomplete_prompt(shapes_ctx):
    assert (
        SweepLocalFormat().render(shapes_ctx)
        == (
            "<|file_sep|>shapes.py\n" + SHAPES + "\n"
            "<|file_sep|>units.py\n"
            "CM = 0.01\n"
            "MM = 0.001\n"
            "\n"  # the server's newline after a chunk, which ends with one already
            "\n"
            "\n"  # no recent changes
            # The cursor's line, 2 above (down past the blank ones) and 5 below, the blank end trimmed.
            "<|file_sep|>original/shapes.py:1:3\n"
            "def square(side):\n"
            "    return side * side\n"
            "<|file_sep|>current/shapes.py:1:3\n"
            "def square(<|cursor|>side):\n"
            "    return side * side\n"
            "<|file_sep|>updated/shapes.py:1:3\n"
        )
    )


def test_sweep_autocomplete_target_and_parse(shapes_ctx):
    fmt = SweepLocalFormat()
    new = SHAPES.replace("def square(side):", "def square(side: float):")
    target = fmt.target(shapes_ctx, {"file": new})
    assert target == "def square(side: float):\n    return side * side\n<|file_sep|>"
    assert edits(fmt, target, shapes_ctx) == {"file": new}
    assert edits(fmt, "\n" + target.replace("side:", "<|cursor|>side:"), shapes_ctx) == {
        "file": new
    }
    assert fmt.parse(fmt.original(shapes_ctx), shapes_ctx) == []
    for empty in ["", "\n\n", "<|file_sep|>", "  \n<|endoftext|>"]:
        assert fmt.parse(empty, shapes_ctx) == []
    with pytest.raises(UnrepresentableEdit):  # above the block
        fmt.target(shapes_ctx, {"file": SHAPES.replace("import math", "import cmath")})


def test_sweep_autocomplete_malformed_answer_is_no_edit(shapes_ctx):
    output = "def square(side:\n    return side * side\n<|file_sep|>"
    with pytest.raises(MalformedOutput):
        SweepLocalFormat().read(output, shapes_ctx)
    assert SweepLocalFormat().parse(output, shapes_ctx) == []
