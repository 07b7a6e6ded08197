"""The embedded default completer: continuations of earlier lines, and when it stays quiet."""

from __future__ import annotations

import time

from jupyter_cursor.completion.continuation import complete


def code(cell_id: str, source: str) -> dict:
    return {"id": cell_id, "cell_type": "code", "source": source}


def at_end(cells: list[dict], **kwargs) -> str:
    """The completion with the cursor at the end of the last cell."""
    return complete(cells, cells[-1]["id"], len(cells[-1]["source"]), **kwargs)


def test_completes_a_line_an_earlier_cell_began():
    cells = [
        code("a", "import numpy as np\nweights = np.linspace(0.0, 1.0, 11)\n"),
        code("b", "print(weights.sum())"),
        code("c", "totals = weights.cumsum()\nweights = np.lin"),
    ]
    assert at_end(cells) == "space(0.0, 1.0, 11)"


def test_completes_from_the_lines_above_in_the_same_cell_and_ignores_indentation():
    cells = [code("a", "for row in table:\n    out.append(row.strip().lower())\nout.appe")]
    assert at_end(cells) == "nd(row.strip().lower())"


def test_two_continuations_of_equal_weight_show_nothing():
    cells = [
        code("a", "plot(frame, colour='tomato', width=3)"),
        code("b", "plot(frame, shade='grey', width=3)"),
        code("c", "plot(frame, "),
    ]
    assert at_end(cells) == ""


def test_a_shared_start_of_the_candidates_is_shown_up_to_where_they_part():
    cells = [
        code("a", "summary.groupby('region').agg('mean')"),
        code("b", "summary.groupby('season').agg('mean')"),
        code("c", "summary.gro"),
    ]
    assert at_end(cells) == "upby('"


def test_the_more_frequent_continuation_wins():
    cells = [
        *(code(f"a{i}", "fig.savefig('out.png', dpi=200)") for i in range(5)),
        code("d", "fig.savefig('draft.svg')"),
        code("e", "fig.savefig("),
    ]
    assert at_end(cells) == "'out.png', dpi=200)"
    # Three to one is not a clear enough majority.
    del cells[:2]
    assert at_end(cells) == ""


def test_never_repeats_the_text_after_the_cursor():
    cells = [
        code("a", "model.fit(train_x, train_y)"),
        code("b", "model.fit()"),
    ]
    # The cursor inside the auto-closed bracket: the ")" already there is not proposed again.
    assert complete(cells, "b", len("model.fit("), None) == "train_x, train_y"
    # An earlier line that does not end the way this one does proposes nothing.
    cells[1]["source"] = "model.fit(), 3"
    assert complete(cells, "b", len("model.fit("), None) == ""


def test_nothing_past_the_end_of_the_line():
    cells = [
        code("a", "value = compute_value(alpha)\nreport(value)"),
        code("b", "value = compute"),
    ]
    assert at_end(cells) == "_value(alpha)"


def test_a_too_short_prefix_shows_nothing():
    cells = [code("a", "xs = list(range(40))"), code("b", "xs = list(range(40))\n    x")]
    assert at_end(cells) == ""
    cells[1]["source"] = "xs = list(range(40))\n     "
    assert at_end(cells) == ""
    # Two lines agree: two characters are enough.
    cells[1]["source"] = "xs = list(range(40))\n    xs"
    assert at_end(cells) == " = list(range(40))"


def test_a_single_candidate_needs_a_longer_prefix():
    cells = [code("a", "result = solver.run(steps=500)"), code("b", "res")]
    assert at_end(cells) == ""
    cells[1]["source"] = "result = s"
    assert at_end(cells) == "olver.run(steps=500)"


def test_the_end_of_the_typed_text_is_looked_up_inside_lines_when_no_line_starts_so():
    cells = [
        code("a", "train_pred = classifier.predict(features_train)"),
        code("b", "valid_pred = classifier.predict(features_train)"),
        code("c", "scores = classifier.pre"),
    ]
    assert at_end(cells) == "dict(features_train)"
    # Once only is not enough there.
    cells[1]["source"] = "print(valid_pred)"
    assert at_end(cells) == ""


def test_markdown_cells_and_later_lines_of_the_cursor_cell_are_not_sources():
    cells = [
        {"id": "m", "cell_type": "markdown", "source": "config.update(theme='dark')"},
        code("b", "config.up\nconfig.update(theme='light')"),
    ]
    assert complete(cells, "b", len("config.up"), None) == ""


def test_extra_lines_from_the_workspace_complete_too():
    cells = [code("a", "client = make_cl")]
    assert at_end(cells, extra_lines=["client = make_client(timeout=30)"]) == "ient(timeout=30)"


def test_unknown_cell_shows_nothing():
    assert complete([code("a", "abc = 1")], "nope", 3) == ""


def test_large_notebooks_stay_fast():
    # 2,000 lines in 100 cells, most of them starting the same way.
    cells = [
        code(f"c{i}", "\n".join(f"frame_{i}_{j} = load_table('part_{j}.csv')" for j in range(20)))
        for i in range(100)
    ]
    cells.append(code("last", "frame_99_3 = load_t"))
    complete(cells, "last", 5)  # warm up
    started = time.perf_counter()
    assert at_end(cells) == "able('part_3.csv')"
    assert complete(cells, "last", len("frame_")) == ""
    # Generous: the eval measures well under 50 ms; this only guards against a quadratic slip.
    assert time.perf_counter() - started < 1.0
