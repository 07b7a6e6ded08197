"""The context of a next-edit prompt: the editable region, the cells around it, the recent edits."""

import pytest

from jupyter_cursor.nextedit.context import (
    Budget,
    build_context,
    build_region,
    coalesce_events,
    estimate_tokens,
)


def request(cells, cursor_cell, offset, events=(), **extra):
    return {
        "path": "nb.ipynb",
        "cells": cells,
        "cursor": {"cell_id": cursor_cell, "offset": offset},
        "events": list(events),
        **extra,
    }


def code(cell_id, source):
    return {"id": cell_id, "cell_type": "code", "source": source}


FUNCS = "def a():\n    return 1\n\n\ndef b():\n    return 2\n\n\ndef c():\n    return 3\n"


def test_region_is_whole_blocks_around_the_cursor():
    cell = code("x", FUNCS)
    at_b = FUNCS.index("return 2")
    region = build_region(cell, at_b, budget=12)  # one function (~8 tokens) but not two
    assert region.text == "def b():\n    return 2\n\n\n"
    assert (region.start_line, region.end_line) == (4, 8)
    assert region.text[region.cursor :].startswith("return 2")
    everything = build_region(cell, at_b, budget=1000)
    assert everything.text == FUNCS and everything.start == 0 and everything.end == len(FUNCS)


def test_region_grows_below_first():
    region = build_region(code("x", FUNCS), FUNCS.index("return 2"), budget=20)
    assert region.text == "def b():\n    return 2\n\n\ndef c():\n    return 3\n"


def test_block_too_big_for_the_budget_falls_back_to_lines_around_the_cursor():
    body = "".join(f"    x{i} = {i}\n" for i in range(100))
    source = "def f():\n" + body
    offset = source.index("x50")
    region = build_region(code("x", source), offset, budget=30)
    assert "x50" in region.text and estimate_tokens(region.text) <= 30
    assert region.text.count("\n") >= 5  # lines on both sides, not just the cursor's
    assert source[region.start : region.end] == region.text


@pytest.mark.parametrize("offset", [0, 3, 7, 8])
def test_cursor_at_start_end_and_line_ends(offset):
    source = "a = 1\nb = 2\n"[:8]  # 'a = 1\nb ' ... and the end of the cell
    region = build_region(code("x", source), offset, budget=100)
    assert region.text[: region.cursor] + region.text[region.cursor :] == region.text
    assert region.start + region.cursor == offset


def test_offset_out_of_range_is_clamped():
    region = build_region(code("x", "abc"), 99, budget=10)
    assert region.cursor == 3
    assert build_region(code("x", "abc"), -5, budget=10).cursor == 0


def test_empty_cell():
    ctx = build_context(request([code("a", "x = 1"), code("b", "")], "b", 0))
    assert ctx.region.text == "" and ctx.region.cursor == 0
    assert [c.id for c in ctx.before] == ["a"] and ctx.after == ()


def test_unicode_offsets_are_code_points():
    source = "name = 'Zoë 🐍'\nprint(name)\n"
    offset = source.index("🐍") + 1
    region = build_region(code("x", source), offset, budget=100)
    assert region.text[: region.cursor].endswith("🐍")


def test_huge_cell_is_bounded_in_every_part():
    source = "".join(f"value_{i} = compute({i})\n" for i in range(3000))
    cells = [code("big", source), code("next", source)]
    offset = source.index("value_1500")
    ctx = build_context(request(cells, "big", offset))
    budget = Budget()
    assert estimate_tokens(ctx.region.text) <= budget.region_tokens
    assert "value_1500" in ctx.region.text
    shown = ctx.prefix + ctx.suffix + "".join(c.text for c in ctx.before + ctx.after)
    assert estimate_tokens(shown) <= budget.context_tokens
    assert not ctx.prefix_complete and not ctx.suffix_complete
    assert ctx.prefix.endswith("\n") and source[: ctx.region.start].endswith(ctx.prefix)
    assert ctx.after == ()  # the cursor cell's own lines used the whole budget


def test_neighbouring_cells_at_notebook_boundaries_nearest_first():
    cells = [code(f"c{i}", f"x{i} = {i}\n" * 20) for i in range(10)]
    ctx = build_context(request(cells, "c0", 0), budget=Budget(context_tokens=250))
    assert ctx.before == ()
    assert [c.id for c in ctx.after][:2] == ["c1", "c2"]
    last = build_context(request(cells, "c9", 0), budget=Budget(context_tokens=250))
    assert last.after == () and last.before[-1].id == "c8"
    # Nearest first, below before above; a cell above is cut from its top (its end is nearest).
    tall = [code(f"c{i}", f"x{i} = {i}\n" * 40) for i in range(10)]  # ~94 tokens each
    middle = build_context(request(tall, "c5", 0), budget=Budget(context_tokens=100))
    assert [c.id for c in middle.after] == ["c6"] and middle.after[0].complete
    assert [c.id for c in middle.before] == ["c4"] and not middle.before[0].complete
    assert middle.before[0].text == "x4 = 4\n" * 2
    assert set(last.rewritable()) == {c.id for c in last.before if c.complete}


def test_events_coalesced_per_cell_and_deleted_cells_dropped():
    events = [
        {"cell_id": "a", "before": "x = 1", "after": "x = 12"},
        {"cell_id": "a", "before": "x = 12", "after": "x = 123"},
        {"cell_id": "gone", "before": "y", "after": "yy"},
        {"cell_id": "b", "before": "z = 1", "after": "z = 2"},
        {"cell_id": "b", "before": "z = 2", "after": "z = 1"},  # undone: nothing left to show
    ]
    assert coalesce_events(events, {"a", "b"}) == [("a", "x = 1", "x = 123")]
    ctx = build_context(request([code("a", "x = 123"), code("b", "z = 1")], "a", 7, events))
    assert [d.cell_id for d in ctx.diffs] == ["a"]
    assert ctx.diffs[0].diff == "--- a\n+++ a\n@@ -1 +1 @@\n-x = 1\n+x = 123\n"


def test_events_bounded_in_count_and_tokens_newest_kept():
    events = [{"cell_id": "a", "before": f"v{i}", "after": f"v{i + 1}"} for i in range(40)]
    # Alternate cells so that nothing coalesces.
    events = [dict(e, cell_id="ab"[i % 2]) for i, e in enumerate(events)]
    cells = [code("a", "v"), code("b", "v")]
    ctx = build_context(request(cells, "a", 0, events), budget=Budget(max_events=16))
    assert len(ctx.diffs) == 16 and ctx.diffs[-1].after == "v40"
    small = build_context(request(cells, "a", 0, events), budget=Budget(events_tokens=30))
    assert 1 <= len(small.diffs) < 16 and small.diffs[-1].after == "v40"


def test_retrieved_snippets_skip_cells_already_shown():
    asked = []

    def retrieve(query, k):
        asked.append((query, k))
        return [
            {"path": "nb.ipynb", "cell_id": "b", "text": "shown already"},
            {"path": "lib.py", "cell_id": None, "text": "def load():\n    pass\n"},
        ]

    events = [{"cell_id": "a", "before": "", "after": "load()"}]
    ctx = build_context(
        request([code("a", "load()"), code("b", "x")], "a", 6, events), retrieve=retrieve
    )
    assert asked == [("load()\nload()", 3)]
    assert [(s.path, s.text) for s in ctx.snippets] == [("lib.py", "def load():\n    pass\n")]


def test_bad_requests():
    with pytest.raises(ValueError, match="not among the cells"):
        build_context(request([code("a", "")], "zz", 0))
    with pytest.raises(ValueError, match="longer than"):
        build_context(request([code("a", "x" * 500_000)], "a", 0))


def test_extra_keys_of_dataset_lines_are_ignored():
    line = request([code("file", "a = 1\n")], "file", 5, expected={}, origin="x", kind="py")
    assert build_context(line).region.text == "a = 1\n"
