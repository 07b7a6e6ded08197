"""Zed's Zeta formats (1, 2, 2.1) against the reference vectors in ../shared/formats/ (prompts and
answers from Zed's tests, a captured Zed request with the real model's answer, the Zeta 2 / 2.1
documentation), then cases of our own written out in full."""

import dataclasses
import json
from pathlib import Path

import pytest

from jupyter_cursor.apply.syntax import syntax_error
from jupyter_cursor.nextedit.context import (
    CellDiff,
    NextEditContext,
    Region,
    Snippet,
    build_context,
    unified_diff,
)
from jupyter_cursor.nextedit.formats.base import MalformedOutput, UnrepresentableEdit
from jupyter_cursor.nextedit.formats.zeta import ZetaFormat
from jupyter_cursor.nextedit.formats.zeta2 import (
    Zeta2Format,
    Zeta21Format,
    history_section,
    marker_offsets,
)

VECTORS = Path(__file__).parents[2] / "shared" / "formats"
if not VECTORS.is_dir():
    pytest.skip(f"no reference vectors at {VECTORS}", allow_module_level=True)


def load(name):
    return json.loads((VECTORS / name).read_text())


def file_request(path, source, offset, events=()):
    return {
        "path": path,
        "cells": [{"id": "file", "cell_type": "code", "source": source}],
        "cursor": {"cell_id": "file", "offset": offset},
        "events": list(events),
    }


def rows_context(path, text, offset, editable_rows, context_rows):
    """The context Zed's test had: its editable and context rows (inclusive) given, as Zed's
    syntax-driven range growth is not ours."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)

    def end(row):  # after the row's line break (the text's end on the last row)
        return min(starts[row + 1], len(text))

    start, stop = starts[editable_rows[0]], end(editable_rows[1])
    above, below = starts[context_rows[0]], end(context_rows[1])
    cell = {"id": "file", "cell_type": "code", "source": text}
    region = Region(
        "file",
        start,
        stop,
        text[start:stop],
        offset - start,
        editable_rows[0],
        editable_rows[1] + 1,
    )
    return NextEditContext(
        path,
        (cell,),
        cell,
        region,
        text[above:start],
        text[stop:below],
        above == 0,
        below == len(text),
        (),
        (),
        (),
        (),
    )


def check_zeta1_excerpt(vector):
    inputs = vector["inputs"]
    text = inputs["text"]
    row, column = inputs["cursor"]["row"], inputs["cursor"]["column"]
    offset = sum(len(line) + 1 for line in text.split("\n")[:row]) + column
    ctx = rows_context(
        inputs["path"],
        text,
        offset,
        inputs["derived_editable_rows_inclusive"],
        inputs["derived_context_rows_inclusive"],
    )
    fmt = ZetaFormat()
    assert fmt.excerpt(ctx) == vector["reference_excerpt"]
    assert fmt.render(ctx).endswith(
        "### User Excerpt:\n\n" + vector["reference_excerpt"] + "\n\n### Response:\n"
    )


def check_zeta1_parse(vector):
    inputs = vector["inputs"]
    text = inputs["editable_text"]
    fmt = ZetaFormat()
    ctx = build_context(file_request("m.py", text, 0), budget=fmt.budget)
    assert ctx.region.text == text  # Zed's editable range: the whole text
    edits = fmt.read(inputs["model_output"], ctx)
    new = edits[0]["source"] if edits else text
    assert new == vector["reference_new_editable_text"]


def check_zeta1_captured(vector):
    inputs = vector["inputs"]
    text = inputs["file_text"]
    fmt = ZetaFormat()
    ctx = build_context(
        file_request(inputs["excerpt_header_path"], text, inputs["cursor_offset"]),
        budget=fmt.budget,
    )
    # The two events: a blank line added above `return M`, twice (ours would coalesce them into
    # one run of the same cell, so the diffs are given as Zed had them).
    runs = ("\n" * 5, "\n" * 6, "\n" * 7)
    texts = [text.replace("\n" * 7 + "return", blank + "return") for blank in runs]
    diffs = tuple(
        CellDiff("file", before, after, unified_diff(before, after, "file"))
        for before, after in zip(texts, texts[1:])
    )
    ctx = dataclasses.replace(ctx, diffs=diffs)
    assert fmt.excerpt(ctx) == inputs["input_excerpt"]
    # One path for the cell: Zed names the events by the worktree's relative path and the excerpt
    # by the path with the worktree's name. Ours says the same path in both places.
    relative, full = inputs["worktree_relative_path"], inputs["excerpt_header_path"]
    assert fmt.events(ctx) == inputs["input_events"].replace(f'"{relative}"', f'"{full}"')
    assert fmt.render(ctx) == vector["reference_prompt"].replace(f'"{relative}"', f'"{full}"')
    output = vector["reference_model_output"]
    new = output.split("<|editable_region_start|>\n")[1].split("\n<|editable_region_end|>")[0]
    assert new.endswith("return M\n")  # the empty last row kept, no blank line added
    assert fmt.parse(output, ctx) == [{"cell_id": "file", "source": new}]
    assert fmt.parse(fmt.target(ctx, {"file": new}), ctx) == [{"cell_id": "file", "source": new}]


def schematic_inputs(vector):
    """The example's inputs, which exist only inside its prompt: the target file's path, the code
    before, in and after the region (with the cursor's offset), the related file, the history's
    one event (path and hunk lines)."""
    prompt = vector["reference_prompt"]
    # The region's last line break starts the suffix section (Zed's ranges end before it).
    suffix = prompt.split("<[fim-suffix]>\n", 1)[1].split("<[fim-prefix]>", 1)[0]
    sections = (
        prompt.split("<[fim-prefix]>", 1)[1].removesuffix("<[fim-middle]>").split("<filename>")
    )
    related_path, related_text = sections[1].removesuffix("\n").split("\n", 1)
    history = sections[2].removesuffix("\n").split("\n", 3)
    event_path = history[1].removeprefix("--- a/")
    path, current = sections[3].split("\n", 1)
    if "<<<<<<< CURRENT\n" in current:  # Zeta 2
        prefix, marked = current.split("<<<<<<< CURRENT\n")
        marked = marked.removesuffix("=======\n")
    else:  # Zeta 2.1, one block
        prefix, marked = current.split("<|marker_1|>\n")
        marked = marked.removesuffix("<|marker_2|>\n")
    cursor = marked.index("<|user_cursor|>")
    region = marked.replace("<|user_cursor|>", "")
    return (
        path,
        prefix,
        region,
        cursor,
        suffix,
        (related_path, related_text),
        (event_path, history[3]),
    )


def check_zeta2(vector, fmt):
    path, prefix, text, cursor, suffix, related, event = schematic_inputs(vector)
    source = prefix + text + suffix
    cell = {"id": "file", "cell_type": "code", "source": source}
    lines = prefix.count("\n"), prefix.count("\n") + text.count("\n")
    region = Region("file", len(prefix), len(prefix + text), text, cursor, *lines)
    ctx = NextEditContext(
        path,
        (cell,),
        cell,
        region,
        prefix,
        suffix,
        True,
        True,
        (),
        (),
        (Snippet(related[0], None, related[1]),),
        (),
    )
    # The example's history is an edit of another file, which our events (cells of this
    # notebook) cannot be: the section is rendered alone, then put in its place.
    history = history_section([event])
    target_section = f"<filename>{path}\n"
    rendered = fmt.render(ctx)
    assert rendered.count(target_section) == 1
    assert (
        rendered.replace(target_section, history + "\n" + target_section)
        == vector["reference_prompt"]
    )
    new = prefix + "".join(answer_lines(vector)) + suffix
    assert fmt.parse(vector["reference_model_output"], ctx) == [{"cell_id": "file", "source": new}]
    assert fmt.parse(fmt.target(ctx, {"file": new}), ctx) == [{"cell_id": "file", "source": new}]


def answer_lines(vector):
    """The region the example's answer writes, read by hand: its lines between the markers."""
    lines = vector["reference_model_output"].splitlines(keepends=True)
    return [line for line in lines if not line.startswith((">>>>>>>", "<|marker_"))]


CHECKS = {
    ("zeta1", "excerpt"): check_zeta1_excerpt,
    ("zeta1", "parse"): check_zeta1_parse,
    ("zeta1", "prompt+output"): check_zeta1_captured,
    ("zeta2 (V0211SeedCoder)", "prompt+output (schematic)"): lambda v: check_zeta2(
        v, Zeta2Format()
    ),
    (
        "zeta2.1 (V0318SeedMultiRegions, serde alias 'Zeta2.1')",
        "prompt+output (schematic)",
    ): lambda v: check_zeta2(v, Zeta21Format()),
}


@pytest.mark.parametrize("name", sorted(p.name for p in VECTORS.glob("zeta*.json")))
def test_reference_vector(name):
    vector = load(name)
    check = CHECKS.get((vector["format"], vector["kind"]))
    assert check is not None, f"no check for {name} ({vector['format']}, {vector['kind']})"
    check(vector)


def test_every_zeta_vector_is_checked():
    assert len(list(VECTORS.glob("zeta*.json"))) >= 10


# -- Zeta 1: cases of our own ---------------------------------------------------------------------

FRUIT = "fruit = ['apple', 'pear']\nfor f in fruit:\n    print(f)\n"


def test_zeta1_region_at_the_end_of_a_cell_keeps_its_last_row_and_round_trips():
    fmt = ZetaFormat()
    ctx = build_context(file_request("fruit.py", FRUIT, FRUIT.index("print")), budget=fmt.budget)
    assert fmt.excerpt(ctx) == (
        "```fruit.py\n"
        "<|start_of_file|>\n"
        "<|editable_region_start|>\n"
        "fruit = ['apple', 'pear']\n"
        "for f in fruit:\n"
        "    <|user_cursor_is_here|>print(f)\n"
        "\n"
        "<|editable_region_end|>\n"
        "```"
    )
    new = FRUIT.replace("print(f)", "print(f.upper())")
    target = fmt.target(ctx, {"file": new})
    assert target == (
        "<|editable_region_start|>\n"
        "fruit = ['apple', 'pear']\nfor f in fruit:\n    print(f.upper())\n"
        "\n"
        "<|editable_region_end|>"
    )
    assert fmt.parse(target, ctx) == [{"cell_id": "file", "source": new}]
    assert fmt.parse(target.removesuffix("<|editable_region_end|>"), ctx) == fmt.parse(target, ctx)
    assert fmt.parse(fmt.original(ctx), ctx) == []  # no spurious blank line at the end


@pytest.mark.parametrize(
    "output", ["", "\n", "  \n", "<|editable_region_end|>", "<|user_cursor_is_here|>\n"]
)
def test_zeta1_empty_answer_is_no_prediction(output):
    fmt = ZetaFormat()
    ctx = build_context(file_request("fruit.py", FRUIT, 0), budget=fmt.budget)
    assert fmt.read(output, ctx) == []


def test_zeta1_event_diff_has_three_lines_of_context_and_its_last_line_break():
    before = "".join(f"n{i} = {i}\n" for i in range(9))
    after = before.replace("n4 = 4", "n4 = 40")
    fmt = ZetaFormat()
    request = file_request(
        "nums.py", after, after.index("40"), [{"cell_id": "file", "before": before, "after": after}]
    )
    assert fmt.events(build_context(request, budget=fmt.budget)) == (
        'User edited "nums.py":\n'
        "```diff\n"
        "@@ -2,7 +2,7 @@\n"
        " n1 = 1\n n2 = 2\n n3 = 3\n-n4 = 4\n+n4 = 40\n n5 = 5\n n6 = 6\n n7 = 7\n"
        "\n"
        "```"
    )


# -- Zeta 2 and 2.1: cases of our own -------------------------------------------------------------

CART_BEFORE = (
    "import math\n\n\ndef total(xs):\n    return sum(xs)\n\n\ndef mean(xs):\n"
    "    return total(xs) / len(xs)\n"
)
CART = CART_BEFORE.replace("def total(xs)", "def total(prices)")
CART_WANTED = CART.replace("sum(xs)", "sum(prices)")
MONEY = Snippet("shop/money.py", None, "def cents(x):\n    return round(x * 100)")


def cart_context(fmt):
    request = file_request(
        "shop/cart.py",
        CART,
        CART.index("prices") + len("prices"),
        [{"cell_id": "file", "before": CART_BEFORE, "after": CART}],
    )
    # A small region, so that the prompt shows code above and below it.
    ctx = build_context(request, budget=dataclasses.replace(fmt.budget, region_tokens=16))
    return dataclasses.replace(ctx, snippets=(MONEY,))


CART_PROMPT_HEAD = (
    "<[fim-suffix]>\n"  # the region's last line break: the code after it starts there
    "def mean(xs):\n"
    "    return total(xs) / len(xs)\n"
    "<[fim-prefix]><filename>shop/money.py\n"
    "def cents(x):\n"
    "    return round(x * 100)\n"
    "\n"
    "<filename>edit_history\n"
    "--- a/shop/cart.py\n"
    "+++ b/shop/cart.py\n"
    "@@ -1,7 +1,7 @@\n"
    " import math\n"
    " \n"
    " \n"
    "-def total(xs):\n"
    "+def total(prices):\n"
    "     return sum(xs)\n"
    " \n"
    " \n"
    "\n"
    "<filename>shop/cart.py\n"
    "import math\n"
    "\n"
    "\n"
)


def test_zeta2_prompt():
    fmt = Zeta2Format()
    assert fmt.render(cart_context(fmt)) == CART_PROMPT_HEAD + (
        "<<<<<<< CURRENT\n"
        "def total(prices<|user_cursor|>):\n"
        "    return sum(xs)\n"
        "\n"
        "=======\n"
        "<[fim-middle]>"
    )


def test_zeta21_prompt():
    fmt = Zeta21Format()
    assert fmt.render(cart_context(fmt)) == CART_PROMPT_HEAD + (
        "<|marker_1|>\n"
        "def total(prices<|user_cursor|>):\n"
        "    return sum(xs)\n"
        "\n"
        "<|marker_2|>\n"
        "<[fim-middle]>"
    )


def test_zeta2_notebook_cells_are_sections_of_their_own():
    request = {
        "path": "sales.ipynb",
        "cells": [
            {"id": "a", "cell_type": "markdown", "source": "# Sales"},
            {"id": "b", "cell_type": "code", "source": "rows = load()\n"},
            {"id": "c", "cell_type": "code", "source": "rows.sort()"},
        ],
        "cursor": {"cell_id": "b", "offset": 4},
        "events": [],
    }
    assert Zeta2Format().render(build_context(request, budget=Zeta2Format.budget)) == (
        "<[fim-suffix]>\n"
        "<[fim-prefix]><filename>sales.ipynb#a\n"
        "# Sales\n"
        "<filename>sales.ipynb#c\n"
        "rows.sort()\n"
        "\n"
        "<filename>sales.ipynb#b\n"
        "<<<<<<< CURRENT\n"
        "rows<|user_cursor|> = load()\n"
        "=======\n"
        "<[fim-middle]>"
    )


def test_zeta2_parse_target_and_round_trip():
    fmt = Zeta2Format()
    ctx = cart_context(fmt)
    answer = "def total(prices):\n    return sum(prices)\n\n>>>>>>> UPDATED\n"
    assert fmt.target(ctx, {"file": CART_WANTED}) == answer
    assert fmt.parse(answer, ctx) == [{"cell_id": "file", "source": CART_WANTED}]
    # Generation stops on the end marker: the answer usually comes without it.
    assert fmt.parse(answer.removesuffix(">>>>>>> UPDATED\n"), ctx) == fmt.parse(answer, ctx)
    # The cursor marker is dropped; what follows the end marker is not read.
    cursor = answer.replace("prices)\n\n", "prices)<|user_cursor|>\n\n") + "junk("
    assert fmt.parse(cursor, ctx) == fmt.parse(answer, ctx)
    assert fmt.parse(fmt.target(ctx, {}), ctx) == fmt.parse(fmt.original(ctx), ctx) == []
    with pytest.raises(UnrepresentableEdit):  # the edit reaches past the region
        fmt.target(ctx, {"file": CART.replace("len(xs)", "len(prices)")})


def test_zeta2_streams_the_region():
    fmt = Zeta2Format()
    ctx = cart_context(fmt)
    streaming = "def total(prices):\n    return sum(prices)\n"
    assert fmt.partial(streaming, ctx) == []  # not yet back on the region's lines
    assert fmt.partial(streaming + "\n", ctx) == [{"cell_id": "file", "source": CART_WANTED}]


REPORT = (
    "def load(path):\n"
    "    with open(path) as f:\n"
    "        rows = f.read().splitlines()\n"
    "    return [r.split(',') for r in rows]\n"
    "\n"
    "\n"
    "def clean(rows):\n"
    "    out = []\n"
    "    for r in rows:\n"
    "        out.append([c for c in r])\n"
    "    return out\n"
    "\n"
    "\n"
    "def count(rows):\n"
    "    return len(rows)\n"
)
REPORT_WANTED = REPORT.replace("[c for c in r]", "[c.strip() for c in r]")


def report_context():
    request = file_request("report.py", REPORT, REPORT.index("[c for"))
    return build_context(request, budget=Zeta21Format.budget)


def test_zeta21_blocks_start_after_blank_lines():
    offsets = marker_offsets(REPORT)
    assert [REPORT[at:].split("\n", 1)[0] for at in offsets[1:-1]] == ["def clean(rows):"]
    assert offsets[0] == 0 and offsets[-1] == len(REPORT)
    assert marker_offsets("") == [0, 0]


def test_zeta21_prompt_with_two_blocks():
    assert Zeta21Format().render(report_context()) == (
        "<[fim-suffix]>\n"
        "<[fim-prefix]><filename>report.py\n"
        "<|marker_1|>\n"
        "def load(path):\n"
        "    with open(path) as f:\n"
        "        rows = f.read().splitlines()\n"
        "    return [r.split(',') for r in rows]\n"
        "\n"
        "\n"
        "<|marker_2|>\n"
        "def clean(rows):\n"
        "    out = []\n"
        "    for r in rows:\n"
        "        out.append(<|user_cursor|>[c for c in r])\n"
        "    return out\n"
        "\n"
        "\n"
        "def count(rows):\n"
        "    return len(rows)\n"
        "<|marker_3|>\n"
        "<[fim-middle]>"
    )


def test_zeta21_parse_target_and_round_trip():
    fmt = Zeta21Format()
    ctx = report_context()
    edit = [{"cell_id": "file", "source": REPORT_WANTED}]
    target = fmt.target(ctx, {"file": REPORT_WANTED})
    assert target == (
        "<|marker_2|>\n"
        "def clean(rows):\n"
        "    out = []\n"
        "    for r in rows:\n"
        "        out.append([c.strip() for c in r])\n"
        "    return out\n"
        "\n"
        "\n"
        "def count(rows):\n"
        "    return len(rows)\n"
        "<|marker_3|>\n"
        "<[end▁of▁sentence]>"
    )
    assert fmt.parse(target, ctx) == edit
    assert fmt.parse(target.removesuffix("<[end▁of▁sentence]>"), ctx) == edit
    # A wider span, with the marker between its blocks written out, says the same.
    wide = fmt.original(ctx).replace("[c for c in r]", "[c.strip() for c in r]")
    assert wide.startswith("<|marker_1|>\ndef load") and "<|marker_2|>\ndef clean" in wide
    assert fmt.parse(wide, ctx) == edit
    # No edit: one marker twice (the one nearest the cursor), or the region copied whole.
    assert fmt.target(ctx, {}) == "<|marker_2|><|marker_2|><[end▁of▁sentence]>"
    assert fmt.parse(fmt.target(ctx, {}), ctx) == fmt.parse(fmt.original(ctx), ctx) == []
    # An edit of the first block only.
    renamed = REPORT.replace("def load(path)", "def load(filename)").replace(
        "open(path)", "open(filename)"
    )
    assert fmt.target(ctx, {"file": renamed}).startswith("<|marker_1|>\ndef load(filename)")
    assert fmt.parse(fmt.target(ctx, {"file": renamed}), ctx) == [
        {"cell_id": "file", "source": renamed}
    ]


def test_zeta21_streams_the_span_in_its_place():
    fmt = Zeta21Format()
    ctx = report_context()
    streaming = "<|marker_2|>\ndef clean(rows):\n    out = []\n    for r in rows:\n"
    assert fmt.partial(streaming, ctx) == []  # no changed line yet
    streaming += "        out.append([c.strip() for c in r])\n    return out\n"
    assert fmt.partial(streaming, ctx) == [{"cell_id": "file", "source": REPORT_WANTED}]


@pytest.mark.parametrize(
    "fmt, output",
    [(Zeta2Format(), text) for text in ("", "\n", "  \n", ">>>>>>> UPDATED\n", "\n>>>>>>> UPDATED")]
    + [(Zeta21Format(), text) for text in ("", "\n", "  \n", "<[end▁of▁sentence]>")]
    + [
        (Zeta21Format(), "<|marker_1|><|marker_1|>"),
        (Zeta21Format(), "<|marker_2|>\n<|marker_2|>"),
    ],
    ids=repr,
)
def test_zeta2_empty_answer_is_no_edit(fmt, output):
    assert fmt.read(output, cart_context(fmt)) == []


@pytest.mark.parametrize(
    "fmt, output",
    [
        (Zeta2Format(), "<<<<<<< CURRENT\ndef total(prices):\n=======\n"),  # the prompt echoed
        (Zeta2Format(), "def total(prices:\n    return sum(prices)\n\n"),  # breaks the syntax
        (Zeta2Format(), "<filename>shop/cart.py\nimport math\n"),
        (Zeta21Format(), "def total(prices):\n    return sum(prices)\n"),  # no marker
        (Zeta21Format(), "<|marker_1|>\ndef total(prices):\n"),  # one marker
        (Zeta21Format(), "<|marker_1|>\nx = 1\n<|marker_7|>\n"),  # a marker the region has not
        (Zeta21Format(), "<|marker_2|>\nx = 1\n<|marker_1|>\n"),  # backwards
        (Zeta21Format(), "<|marker_1|>\n<[fim-middle]>\n<|marker_2|>\n"),
    ],
    ids=lambda x: getattr(x, "name", None),
)
def test_zeta2_malformed_answer_is_no_edit(fmt, output):
    ctx = cart_context(fmt)
    with pytest.raises(MalformedOutput):
        fmt.read(output, ctx)
    assert fmt.parse(output, ctx) == []


@pytest.mark.parametrize("fmt", [Zeta2Format(), Zeta21Format()], ids=lambda f: f.name)
def test_zeta2_budgets_follow_the_model(fmt):
    assert fmt.budget.max_events == 6
    assert (fmt.budget.region_tokens, fmt.budget.context_tokens) == (350, 150)
    # Nine edits, alternating two cells so that they do not coalesce into one run.
    events = []
    for i in range(9):
        cell_id, name = ("p", "x") if i % 2 else ("q", "y")
        events.append(
            {"cell_id": cell_id, "before": f"{name} = {i}\n", "after": f"{name} = {i + 1}\n"}
        )
    cells = [
        {"id": "p", "cell_type": "code", "source": "x = 9\n"},
        {"id": "q", "cell_type": "code", "source": "y = 9\n"},
    ]
    request = {
        "path": "n.ipynb",
        "cells": cells,
        "cursor": {"cell_id": "p", "offset": 0},
        "events": events,
    }
    prompt = fmt.render(build_context(request, budget=fmt.budget))
    assert prompt.count("--- a/") == 6


@pytest.mark.parametrize("fmt", [ZetaFormat(), Zeta2Format(), Zeta21Format()], ids=lambda f: f.name)
def test_zeta_targets_refuse_joining_the_region_to_the_line_below(fmt):
    ctx = rows_context("m.py", "x = 1\ny = 2\n", 0, (0, 0), (0, 1))
    assert ctx.region.text == "x = 1\n" and ctx.suffix == "y = 2\n"
    with pytest.raises(UnrepresentableEdit):
        fmt.target(ctx, {"file": "x = 1y = 2\n"})
    changed = {"file": "x = 10\ny = 2\n"}
    assert fmt.parse(fmt.target(ctx, changed), ctx) == [
        {"cell_id": "file", "source": changed["file"]}
    ]


@pytest.mark.parametrize("fmt", [Zeta2Format(), Zeta21Format()], ids=lambda f: f.name)
@pytest.mark.parametrize("output", ["<|end|>", "x" * 300_000, "\ufffd\x00", "def f(:\n"])
def test_zeta2_random_answer_never_breaks_a_cell(fmt, output):
    for edit in fmt.parse(output, cart_context(fmt)):
        assert syntax_error(edit["source"]) is None


@pytest.mark.parametrize("fmt", [Zeta2Format(), Zeta21Format()], ids=lambda f: f.name)
def test_zeta2_code_holding_the_markers_is_never_rewritten_wrong(fmt):
    source = 'tags = ["<|marker_1|>", ">>>>>>> UPDATED"]\nx = 1\n'
    ctx = build_context(file_request("tok.py", source, len(source)), budget=fmt.budget)
    new = source.replace("x = 1", "x = 2")
    try:
        target = fmt.target(ctx, {"file": new})
    except UnrepresentableEdit:
        target = new
    assert fmt.parse(target, ctx) in ([{"cell_id": "file", "source": new}], [])
