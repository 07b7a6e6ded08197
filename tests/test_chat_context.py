"""What a chat message sends: mentions, confined files, the notebook, retrieval, the budget."""

from __future__ import annotations

import json
import os

import pytest

from jupyter_cursor.chat import (
    ContextBuilder,
    ContextError,
    Mention,
    Selection,
    parse_mentions,
    prompts,
)
from jupyter_cursor.chat.files import FileRefused, read_workspace_file

CELLS = [{"id": f"c{i}", "cell_type": "code", "source": f"value_{i} = {i} * 10"} for i in range(20)]


def kinds(items):
    return [i["kind"] for i in items]


# -- mentions ------------------------------------------------------------------------------------


def test_mentions_are_parsed_in_order_once_without_trailing_punctuation():
    message = 'Compare @cell:ab-12 with @file:src/utils.py. Also @file:"my notes.md", @cell:ab-12!'
    assert parse_mentions(message) == [
        Mention("cell", "ab-12"),
        Mention("file", "src/utils.py"),
        Mention("file", "my notes.md"),
    ]


def test_things_that_only_look_like_mentions_are_ignored():
    assert parse_mentions("mail me at bob@cell:x or see @cell:$bad and @file:") == []


def test_a_cell_named_by_number_is_sent_as_that_cell_by_id():
    """`@cell:3`, as the chat's `@` popup writes it: the third cell, forced into the context,
    listed by its number, and named to the model by its id (as the model knows cells)."""
    cells = [{"id": f"id-{n}", "cell_type": "code", "source": f"v{n} = {n}"} for n in range(1, 5)]
    built = ContextBuilder(".", budget_chars=2_000).build(
        "Why does @cell:3, unlike @cell:id-1 and @cell:9, fail?", cells=cells, path="nb.ipynb"
    )
    mentioned = [i for i in built.sent if i["kind"] == "cell"]
    assert [(i["cell_id"], i["label"]) for i in mentioned] == [
        ("id-3", "cell 3"),
        ("id-1", "cell 1"),
    ]
    assert built.messages[-1]["content"].endswith(
        "Why does @cell:id-3, unlike @cell:id-1 and @cell:9, fail?"
    )
    assert {d["label"]: d["reason"] for d in built.dropped} == {
        "cell 9": "no such cell in this notebook"
    }


def test_a_cell_id_that_is_a_number_still_names_its_cell():
    cells = [
        {"id": "a", "cell_type": "code", "source": "x"},
        {"id": "1", "cell_type": "code", "source": "y"},
    ]
    built = ContextBuilder(".").build("see @cell:1", cells=cells, path="nb.ipynb")
    assert [i["cell_id"] for i in built.sent if i["kind"] == "cell"] == ["1"]
    assert built.messages[-1]["content"].endswith("see @cell:1")


# -- files ---------------------------------------------------------------------------------------


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    (root / "src" / "utils.py").write_text("def helper():\n    return 42\n")
    (root / ".env").write_text("OPENAI_API_KEY=sk-do-not-send\n")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (root / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (root / "big.txt").write_text("x" * 5000)
    (root / "broken.ipynb").write_text('{"cells": {"not": "a list"}, "nbformat": 4}')
    (tmp_path / "outside.txt").write_text("secret outside the root")
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    nb = {
        "cells": [
            {
                "id": "n1",
                "cell_type": "code",
                "source": ["import os\n", "os.getcwd()"],
                "outputs": [{"output_type": "stream", "text": "OUTPUT-TEXT"}],
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / "other.ipynb").write_text(json.dumps(nb))
    return root


def test_a_workspace_file_is_read(root):
    assert "return 42" in read_workspace_file(root, "src/utils.py", max_bytes=10_000)


@pytest.mark.parametrize(
    "rel, reason",
    [
        ("../outside.txt", "'..'"),
        ("src/../../outside.txt", "'..'"),
        ("/etc/passwd", "relative"),
        ("~/.bashrc", "relative"),
        ("link.txt", "outside the server root"),
        (".env", "hidden"),
        ("image.png", "binary"),
        ("latin1.txt", "UTF-8"),
        ("big.txt", "too large"),
        ("missing.py", "no such file"),
        ("src", "no such file"),
        ("x.py\x00y", "NUL"),
        ("d" * 300 + ".py", "cannot be read"),
        ("broken.ipynb", "not a valid notebook"),
    ],
)
def test_files_outside_hidden_binary_or_big_are_refused(root, rel, reason):
    with pytest.raises(FileRefused, match=reason):
        read_workspace_file(root, rel, max_bytes=1000)


def test_a_mentioned_notebook_is_its_cells_with_ids_and_no_outputs(root):
    text = read_workspace_file(root, "other.ipynb", max_bytes=10_000)
    assert '<cell id="n1" type="code">\nimport os\nos.getcwd()\n</cell>' in text
    assert "OUTPUT-TEXT" not in text


# -- building ------------------------------------------------------------------------------------


def test_everything_fits_and_the_manifest_lists_it(root):
    hits = [
        {
            "path": "src/utils.py",
            "cell_id": None,
            "start_line": 1,
            "end_line": 2,
            "score": 2.0,
            "text": "def helper():",
        },
        {
            "path": "lib/other.py",
            "cell_id": None,
            "start_line": 5,
            "end_line": 9,
            "score": 1.0,
            "text": "def far_away():",
        },
    ]
    queries = []

    def retrieve(query, k):
        queries.append((query, k))
        return hits

    built = ContextBuilder(root, retrieve=retrieve).build(
        "Use @file:src/utils.py in @cell:c3",
        cells=CELLS,
        path="nb.ipynb",
        selection=Selection("c7", start=0, end=7),
        history=[
            {"role": "user", "content": "earlier q"},
            {"role": "assistant", "content": "earlier a"},
        ],
    )
    assert queries == [("Use @file:src/utils.py in @cell:c3", 6)]
    assert kinds(built.sent) == ["selection", "file", "cell", "notebook", "history", "retrieved"]
    assert built.dropped == []
    retrieved = [s for s in built.sent if s["kind"] == "retrieved"]
    assert [r["path"] for r in retrieved] == ["lib/other.py"]  # the mentioned file is not repeated
    system, q, a, user = built.messages
    assert (
        system["role"] == "system"
        and "nb.ipynb" in system["content"]
        and "# cell: <id>" in system["content"]
    )
    assert (q, a) == (
        {"role": "user", "content": "earlier q"},
        {"role": "assistant", "content": "earlier a"},
    )
    body = user["content"]
    assert body.endswith("Use @file:src/utils.py in @cell:c3")
    assert '<selection cell="c7">\nvalue_7\n</selection>' in body
    assert '<cell id="c19" type="code">\nvalue_19 = 19 * 10\n</cell>' in body
    assert body.index('<cell id="c0"') < body.index('<cell id="c19"')  # notebook order
    assert "def far_away():" in body and "return 42" in body
    assert built.chars == sum(len(m["content"]) for m in built.messages)
    for item in built.sent:
        assert item["chars"] > 0


def test_a_small_budget_drops_lowest_priority_first_and_says_so(root):
    def retrieve(query, k):
        return [{"path": "lib/x.py", "cell_id": None, "score": 1.0, "text": "y" * 300}]

    builder = ContextBuilder(root, retrieve=retrieve)
    message = "Explain @cell:c0"
    full = builder.build(
        message, cells=CELLS, path="nb.ipynb", selection=Selection("c10", text="value_10")
    )
    budget = full.chars - 350  # room for everything but the retrieved snippet and a cell or two
    built = builder.build(
        message,
        cells=CELLS,
        path="nb.ipynb",
        selection=Selection("c10", text="value_10"),
        budget_chars=budget,
    )
    assert built.chars <= budget
    assert "selection" in kinds(built.sent) and "cell" in kinds(built.sent)
    assert "retrieved" in kinds(built.dropped)
    text = built.messages[-1]["content"]
    # The cells nearest the active one (c10) stay; the mentioned c0 stays although far.
    assert '<cell id="c10"' in text and '<cell id="c9"' in text and '<cell id="c0"' in text


@pytest.mark.parametrize("budget", [1800, 2500, 4000, 8000])
def test_the_budget_is_never_exceeded_and_dropped_cells_are_counted(budget):
    built = ContextBuilder(".").build(
        "Summarise",
        cells=CELLS,
        path="nb.ipynb",
        selection=Selection("c15", text="value_15"),
        budget_chars=budget,
    )
    assert built.chars <= budget
    text = built.messages[-1]["content"]
    included = [c["id"] for c in CELLS if f'<cell id="{c["id"]}"' in text]
    notebook_dropped = [d for d in built.dropped if d["kind"] == "notebook"]
    if len(included) < len(CELLS):
        assert notebook_dropped[0]["label"].startswith(f"{len(CELLS) - len(included)} cells")
        # nearest the active cell first: what was kept is a contiguous run around c15
        indices = sorted(int(i[1:]) for i in included)
        assert indices == list(range(indices[0], indices[-1] + 1)) and 15 in indices
    else:
        assert notebook_dropped == []


def test_history_keeps_the_newest_and_drops_older_without_gaps():
    history = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " + "z" * 200}
        for i in range(10)
    ]
    builder = ContextBuilder(".")
    base = builder.build("Hi", cells=[], path="nb.ipynb").chars  # each turn below is 207 chars
    built = builder.build(
        "Hi", cells=[], path="nb.ipynb", history=history, budget_chars=base + 3 * 207 + 100
    )
    kept = [m["content"][:7] for m in built.messages[1:-1]]
    assert kept == ["turn 7 ", "turn 8 ", "turn 9 "]
    assert {
        "kind": "history",
        "label": "7 older messages",
        "reason": "over the budget",
    } in built.dropped


def test_retrieval_skips_cells_already_sent_and_survives_a_broken_index():
    hits = [
        {"path": "nb.ipynb", "cell_id": "c1", "score": 3.0, "text": "value_1"},
        {"path": "nb.ipynb", "cell_id": "gone", "score": 1.0, "text": "old text"},
    ]
    built = ContextBuilder(".", retrieve=lambda q, k: hits).build(
        "q", cells=CELLS[:3], path="nb.ipynb"
    )
    assert [s.get("cell_id") for s in built.sent if s["kind"] == "retrieved"] == ["gone"]

    def broken(q, k):
        raise RuntimeError("index is rebuilding")

    built = ContextBuilder(".", retrieve=broken).build("q", cells=CELLS[:3], path="nb.ipynb")
    assert built.dropped == [
        {"kind": "retrieved", "label": "workspace search", "reason": "search failed (RuntimeError)"}
    ]


def test_refused_mentions_are_listed_as_dropped(root):
    built = ContextBuilder(root).build(
        "see @file:.env and @file:../outside.txt and @cell:nope", cells=CELLS[:2], path="nb.ipynb"
    )
    reasons = {d["label"]: d["reason"] for d in built.dropped}
    assert reasons[".env"] == "hidden files are not sent"
    assert "'..'" in reasons["../outside.txt"]
    assert reasons["cell nope"] == "no such cell in this notebook"
    assert "sk-do-not-send" not in json.dumps(built.messages)


def test_a_big_file_is_truncated_to_the_file_limit(root):
    built = ContextBuilder(root, max_file_chars=1000).build(
        "read @file:big.txt", cells=[], path="nb.ipynb"
    )
    (item,) = [s for s in built.sent if s["kind"] == "file"]
    assert item["truncated"] is True
    assert (
        "x" * 1000 in built.messages[-1]["content"]
        and "x" * 1001 not in built.messages[-1]["content"]
    )


def test_a_message_over_the_budget_is_an_error():
    with pytest.raises(ContextError) as info:
        ContextBuilder(".").build("x" * 5000, cells=[], path="nb.ipynb", budget_chars=3000)
    assert info.value.code == "context_too_long"


def test_cells_may_be_protocol_dataclasses():
    from jupyter_cursor.protocol import Cell

    built = ContextBuilder(".").build(
        "q", cells=[Cell("k1", "markdown", "# Title")], path="nb.ipynb"
    )
    assert '<cell id="k1" type="markdown">\n# Title\n</cell>' in built.messages[-1]["content"]


def test_the_selection_is_named_as_the_user_sees_it():
    """Cells by number; with no range selected, the cell the user is in, not "selection"."""
    builder = ContextBuilder(".")
    cells = [
        {"id": "x1", "cell_type": "code", "source": "a = 1"},
        {"id": "x2", "cell_type": "code", "source": "b = a + 1"},
    ]
    ranged = builder.build(
        "why?", cells=cells, path="nb.ipynb", selection=Selection("x2", start=0, end=1)
    )
    whole = builder.build("why?", cells=cells, path="nb.ipynb", selection=Selection("x2"))
    label = lambda built: next(i["label"] for i in built.sent if i["kind"] == "selection")  # noqa: E731
    assert label(ranged) == "selection in cell 2"
    assert label(whole) == "the current cell (cell 2)"


# -- the kernel's variables and what the user removed -------------------------------------------


def frames_snapshot(count: int = 1):
    """``count`` DataFrames (named sales, sales_1, ...) of two columns, as a kernel's snapshot."""
    from jupyter_cursor.kernel.probe import Snapshot, Variable

    columns = (("col_0", "float64"), ("col_1", "float64"))
    names = ["sales"] + [f"sales_{i}" for i in range(1, count)]
    return Snapshot(
        3, tuple(Variable(n, "pandas.DataFrame", (2, 2), columns=columns) for n in names)
    )


def test_the_kernel_variables_are_an_item_capped_and_removable():
    builder = ContextBuilder(".", retrieve=lambda q, k: [{"path": "a.py", "text": "x"}])
    history = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "yes"}]
    built = builder.build("Plot it", cells=CELLS[:3], path="nb.ipynb", kernel=frames_snapshot())
    block = "<kernel_variables>\nsales: DataFrame (2, 2) columns: col_0 float64, col_1 float64\n"
    assert block in built.messages[-1]["content"]
    assert {
        "kind": "variables",
        "label": "Kernel variables",
        "chars": len(block) + len("</kernel_variables>"),
    } in built.sent

    # A hundred frames are cut at the cap, not sent whole.
    many = builder.build("Plot it", cells=[], path="nb.ipynb", kernel=frames_snapshot(100))
    (chars,) = [i["chars"] for i in many.sent if i["kind"] == "variables"]
    shown = chars - len(prompts.render_variables(""))
    assert builder.max_variables_chars - 70 < shown <= builder.max_variables_chars

    # Removed: not in the prompt, listed as removed; so for each removable kind.
    removed = builder.build(
        "Plot it",
        cells=CELLS[:3],
        path="nb.ipynb",
        history=history,
        kernel=frames_snapshot(),
        exclude=["variables", "notebook", "history", "retrieved"],
    )
    assert removed.sent == []
    assert [(d["kind"], d["reason"]) for d in removed.dropped] == [
        ("variables", "removed"),
        ("notebook", "removed"),
        ("history", "removed"),
        ("retrieved", "removed"),
    ]
    assert [m["content"] for m in removed.messages[1:]] == ["Plot it"]


def test_a_removed_notebook_still_sends_the_cells_the_user_mentioned():
    built = ContextBuilder(".").build(
        "Why @cell:c4?", cells=CELLS[:6], path="nb.ipynb", exclude=["notebook"]
    )
    assert [(i["kind"], i.get("cell_id")) for i in built.sent] == [("cell", "c4")]
    assert {
        "kind": "notebook",
        "label": "5 cells of nb.ipynb",
        "path": "nb.ipynb",
        "reason": "removed",
    } in built.dropped
    prompt = built.messages[-1]["content"]
    assert "value_4" in prompt and "value_3" not in prompt
