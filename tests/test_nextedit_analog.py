"""The next-edit generators of issue 22, item 1 (nextedit/analog.py, ranked by ranker.py): the last
edit's token-level change carried to analogous places, an argument added to one call added to the
same function's other calls, deleted imports put back where the other imports stand; and an edit
of a markdown cell's prose never carried into code."""

import pytest

from jupyter_cursor.nextedit.analog import argument_places, token_rules, unmove_places
from jupyter_cursor.nextedit.predictor import predict
from jupyter_cursor.nextedit.ranker import candidates


@pytest.fixture(autouse=True)
def no_user_weights(tmp_path, monkeypatch):
    """A Jupyter data dir without a refitted filter: the shipped one ranks."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))


def cell(cell_id, source, cell_type="code"):
    return {"id": cell_id, "cell_type": cell_type, "source": source}


def proposed(cells, cursor, events, offset, generator):
    return [
        {e["cell_id"]: e["source"] for e in c.edits}
        for c in candidates(cells, cursor, events, offset)
        if generator in c.generators
    ]


def test_a_multi_line_edit_is_carried_token_by_token_to_the_next_cell():
    """``attr.a()`` → ``attr.ib()`` on two lines: the word-level repeat cannot carry an edit over
    lines; the token rule ``attr . a (`` → ``attr . ib (`` can, with other arguments."""
    before = "class C:\n    x = attr.a()\n    y = attr.a()\n"
    after = "class C:\n    x = attr.ib()\n    y = attr.ib()\n"
    below = "class D:\n    x = attr.a(default=1)\n    y = attr.a(factory=list)\n"
    cells = [cell("a", after), cell("b", below)]
    events = [{"cell_id": "a", "before": before, "after": after}]
    expected = {"b": below.replace("attr.a(", "attr.ib(")}
    assert expected in proposed(cells, "a", events, len(after), "analog")
    assert {
        e["cell_id"]: e["source"] for e in predict(cells, "a", events, len(after))["edits"]
    } == (expected)


def test_an_insertion_between_tokens_is_a_rule_with_its_context():
    """An insertion is said where by one token each side: ``the `field``` → ``the :func:`field```
    goes on where ``the `` ` `` stands again (whitespace free), not after another word."""
    rules = token_rules("use the `field` / b\n", "use the :func:`field` / b\n")
    assert len(rules) == 1
    pattern, replacement = rules[0]
    assert pattern.sub(lambda _m: replacement, "see the  `field` here") == (
        "see the :func:`field` here"
    )
    assert not pattern.search("assign `field` to")


def test_an_argument_added_to_a_call_is_added_to_the_same_functions_other_calls():
    before = "plt.plot(x, y)\n"
    after = "plt.plot(x, y, alpha=0.5)\n"
    other = "z = t ** 2\nplt.plot(t, z)\nplt.plot(t, z, alpha=0.1)\nplot(q)\n"
    cells = [cell("a", after), cell("m", "Notes", "markdown"), cell("b", other)]
    events = [{"cell_id": "a", "before": before, "after": after}]
    found, count = argument_places(events[0], cells, "a", len(after) - 1)
    expected = {"b": other.replace("plt.plot(t, z)\n", "plt.plot(t, z, alpha=0.5)\n")}
    # The call that has the keyword already is left alone, and ``plot(q)`` is another function.
    assert count == 1 and [{e["cell_id"]: e["source"] for e in f} for f in found] == [expected]
    assert expected in proposed(cells, "a", events, len(after) - 1, "argument")
    shown = predict(cells, "a", events, len(after) - 1)
    assert {e["cell_id"]: e["source"] for e in shown["edits"]} == expected


def test_a_deleted_import_is_put_back_at_its_sorted_place_among_the_others():
    before = (
        '"""Doc."""\n\nfrom hashlib import sha256\nimport sys\nfrom dataclasses import field\n'
        "from enum import Enum\nfrom operator import attrgetter\n\nX = 1\n"
    )
    after = before.replace("from hashlib import sha256\n", "")
    cells = [cell("file", after)]
    events = [{"cell_id": "file", "before": before, "after": after}]
    found = unmove_places(events[0], cells, "file")
    expected = after.replace(
        "from operator import", "from hashlib import sha256\nfrom operator import"
    )
    assert found and found[0] == [{"cell_id": "file", "source": expected}]
    # Not the deletion undone.
    assert all(f[0]["source"] != before for f in found)
    assert {"file": expected} in proposed(cells, "file", events, 20, "unmove")


def test_a_markdown_edit_goes_on_in_markdown_never_in_code():
    """``--`` → ``&mdash;`` in prose was proposed inside a plotting call's string."""
    before = "Sales -- by month\n"
    after = "Sales &mdash; by month\n"
    plot = 'plt.title("Sales -- by month")\n'
    prose = "Costs -- by week\n"
    cells = [
        cell("m1", after, "markdown"),
        cell("c", plot),
        cell("m2", prose, "markdown"),
    ]
    events = [{"cell_id": "m1", "before": before, "after": after}]
    found = [c for c in candidates(cells, "m1", events, len(after)) for e in c.edits]
    assert found and all(e["cell_id"] != "c" for c in found for e in c.edits)
    assert any(
        e == {"cell_id": "m2", "source": "Costs &mdash; by week\n"} for c in found for e in c.edits
    )
    for rules_only in (True, False):
        edits = predict(cells, "m1", events, len(after), rules_only=rules_only)["edits"]
        assert all(e["cell_id"] != "c" for e in edits)
    rules = predict(cells, "m1", events, len(after), rules_only=True)["edits"]
    assert rules == [{"cell_id": "m2", "source": "Costs &mdash; by week\n"}]
