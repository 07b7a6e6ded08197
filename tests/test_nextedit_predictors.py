"""The deterministic next-edit predictors: what an edit changed, where it applies next, and when
it is worth repeating."""

import pytest

from jupyter_cursor.nextedit.places import next_run, places_for
from jupyter_cursor.nextedit.predictor import predict
from jupyter_cursor.nextedit.rename import carry, detect_rename
from jupyter_cursor.nextedit.repeat import pattern_of, repeatable
from jupyter_cursor.nextedit.spans import changed_span, word_span


def code(cell_id, source, cell_type="code"):
    return {"id": cell_id, "cell_type": cell_type, "source": source}


def test_spans():
    assert changed_span("foo_bar = 1", "foo_baz = 1") == ("r", "z")
    assert word_span("foo_bar = 1", "foo_baz = 1") == ("foo_bar", "foo_baz")
    assert word_span("x = attr.ib()", "x = attr.field()") == ("ib", "field")
    assert word_span("aaa", "aaaa") == ("aaa", "aaaa")  # overlapping ends do not overlap
    assert changed_span("same", "same") == ("", "")


@pytest.mark.parametrize(
    "before, after, expected",
    [
        ("df = 1", "sales = 1", ("df", "sales")),
        ("f(a, axis=0)", "f(a, axis=1)", ("0", "1")),
        ("sns.violin(x)", "sns.violinplot(x)", ("violin", "violinplot")),  # a word completed
        ("f(a)", "f(a, b)", None),  # an insertion that completes no word: 3% right on nes_train
        ("a = 1\nb = 2\n", "a = 10\nb = 20\n", None),  # spans lines: rarely repeated
        ("x = 1", "x = 1", None),
    ],
)
def test_repeatable(before, after, expected):
    assert repeatable(before, after) == expected


def test_pattern_keeps_to_whole_words():
    assert pattern_of("ib").search("attrib = attr.ib()").start() == len("attrib = attr.")
    assert pattern_of("(x").search("f(xy, (x)").start() == 6


def test_next_run_changes_one_hunk_of_consecutive_lines():
    source = "a = df\nb = df\nc = 1\nd = df\n"
    pattern = pattern_of("df")
    assert next_run(pattern, "sales", source, 0) == "a = sales\nb = sales\nc = 1\nd = df\n"
    assert (
        next_run(pattern, "sales", source, source.index("c"))
        == "a = df\nb = df\nc = 1\nd = sales\n"
    )
    assert next_run(pattern, "sales", "x = df + df", 6) == "x = df + sales"  # not before the cursor
    assert next_run(pattern, "sales", "nothing", 0) is None


def test_places_are_after_the_cursor_then_code_cells_below():
    cells = [
        code("up", "df"),
        code("here", "df df"),
        code("notes", "df", "markdown"),
        code("down", "df"),
    ]
    assert [(c["id"], start) for c, start in places_for(cells, "here", 3)] == [
        ("here", 3),
        ("down", 0),
    ]
    # a markdown cell's prose edit goes on in the markdown cells below, never in code
    assert [c["id"] for c, _ in places_for(cells, "here", 3, "markdown")] == ["here", "notes"]


def test_predict_repeats_the_last_edit_at_its_next_place_in_another_cell():
    cells = [
        code("a", "sales = load()\nsales.head()\n"),
        code("m", "df", "markdown"),
        code("b", "df.plot()\ndf.hist()"),
    ]
    events = [
        {"cell_id": "a", "before": "df = load()\nsales.head()\n", "after": cells[0]["source"]}
    ]
    result = predict(cells, "a", events, 5)
    assert (result["predictor"], result["returns_cursor"]) == ("repeat", False)
    assert result["edits"] == [{"cell_id": "b", "source": "sales.plot()\nsales.hist()"}]
    assert set(result["timings"]) == {"queue_ms", "prefill_ms", "decode_ms", "total_ms"}


def test_predict_follows_the_newest_event_in_a_cell_that_still_exists():
    cells = [code("a", "x = old_name\ny = old_name")]
    events = [
        {"cell_id": "a", "before": "x = name\ny = name", "after": "x = old_name\ny = name"},
        {"cell_id": "deleted", "before": "q = 1", "after": "q = 2"},
    ]
    assert predict(cells, "a", events, 0)["edits"] == []  # y = old_name is already there
    events[0] = {
        "cell_id": "a",
        "before": "x = zzz\ny = old_name",
        "after": "x = old_name\ny = old_name",
    }
    assert predict(cells, "a", events, 0)["edits"] == []  # the new name everywhere: nothing left
    nothing = predict(cells, "a", [], 0)
    assert (nothing["edits"], nothing["predictor"]) == ([], None)


def test_rename_everywhere_is_the_measured_alternative():
    assert detect_rename("df = 1", "dframe = 1") is None  # the name is still being typed
    assert detect_rename("df = 1", "d = 1") is None  # one letter: still typing
    rename = detect_rename("df = 1", "sales = 1")
    cells = [code("a", "df.a\nx.df"), code("m", "df", "markdown")]
    assert carry(rename, cells) == [{"cell_id": "a", "source": "sales.a\nx.df"}]  # not attributes
    shipped = predict(
        cells, "a", [{"cell_id": "a", "before": "df = 1", "after": "sales = 1"}], 0, ("rename",)
    )
    assert shipped["predictor"] == "rename"


def test_an_earlier_edit_is_repeated_when_the_last_one_is_not_repeatable():
    cells = [code("a", "total = compute(data)\n# check\nprint(compute(data))\n")]
    events = [
        {
            "cell_id": "a",
            "before": "total = calc(data)\nprint(calc(data))\n",
            "after": "total = compute(data)\nprint(calc(data))\n",
        },
        {"cell_id": "gone", "before": "", "after": "compute"},  # a cell deleted since: ignored
        {
            "cell_id": "a",
            "before": "total = compute(data)\nprint(calc(data))\n",
            "after": "total = compute(data)\n# check\nprint(calc(data))\n",
        },  # a line added: no repeat
    ]
    cells[0]["source"] = events[-1]["after"]
    result = predict(cells, "a", events, len("total = compute(data)\n# check\n"))
    assert result["predictor"] == "repeat-earlier"
    assert result["edits"] == [
        {"cell_id": "a", "source": "total = compute(data)\n# check\nprint(compute(data))\n"}
    ]


def typed(cells, cell_id, before, offset=None):
    """predict() right after the user turned ``before`` into the cell's current source, the
    cursor at ``offset`` (default: the end)."""
    after = next(cell["source"] for cell in cells if cell["id"] == cell_id)
    event = {"cell_id": cell_id, "before": before, "after": after}
    return predict(cells, cell_id, [event], len(after) if offset is None else offset)


def test_a_conventional_name_used_before_its_import_gets_the_import_in_the_imports_cell():
    cells = [
        code("title", "# Sales", "markdown"),
        code("imports", "import numpy as np\nimport os\n"),
        code("work", "df = pd.read_csv('sales.csv')"),
    ]
    result = typed(cells, "work", "df = ")
    # the server says that accepting it sends the cursor back (the client need not know why)
    assert (result["predictor"], result["returns_cursor"]) == ("import", True)
    assert result["edits"] == [
        {"cell_id": "imports", "source": "import numpy as np\nimport os\nimport pandas as pd\n"}
    ]


def test_a_name_imported_from_a_module_joins_that_modules_from_import():
    cells = [
        code("a", "from collections import Counter  # tallies\n"),
        code("b", "seen = defaultdict(list)"),
    ]
    assert typed(cells, "b", "seen = ")["edits"] == [
        {"cell_id": "a", "source": "from collections import Counter, defaultdict  # tallies\n"}
    ]


def test_without_any_import_it_goes_at_the_top_of_the_first_code_cell_after_its_docstring():
    cells = [code("file", '"""Tools."""\n\n\ndef here():\n    return Path.cwd()\n')]
    result = typed(cells, "file", '"""Tools."""\n\n\ndef here():\n    return None\n')
    assert (
        result["edits"][0]["source"]
        == '"""Tools."""\nfrom pathlib import Path\n\n\ndef here():\n    return Path.cwd()\n'
    )


@pytest.mark.parametrize(
    "cells, before",
    [
        # defined elsewhere in the notebook, in every way Python has
        ([code("a", "import pandas as pd"), code("b", "df = pd.DataFrame()")], "df = "),
        ([code("a", "pd = load_module()"), code("b", "df = pd.DataFrame()")], "df = "),
        ([code("a", "def f(pd):\n    return pd.DataFrame()")], "def f(pd):\n    return None"),
        ([code("a", "for os in systems:\n    print(os.name)")], "for os in systems:\n    print()"),
        # names that might come from somewhere the parser cannot see
        ([code("a", "from helpers import *"), code("b", "df = pd.DataFrame()")], "df = "),
        ([code("a", "%run setup.py"), code("b", "df = pd.DataFrame()")], "df = "),
        ([code("a", "%pylab inline"), code("b", "x = np.zeros(3)")], "x = "),
        ([code("a", "%%time\nimport numpy as np"), code("b", "x = np.zeros(3)")], "x = "),
        # the cell being typed does not parse yet, and imports the name itself
        ([code("a", "import numpy as np\nx = np.")], "import numpy as np\nx = "),
        # not uses: an attribute of something else, a string, a comment, a bare mention
        ([code("a", "y = self.np.zeros(3)")], "y = "),
        ([code("a", "print('np.zeros')  # np.ones")], "print()"),
        ([code("a", "print(pd)")], "print()"),
        # a use that was there before the edit: the user has not just started to use it
        ([code("a", "x = np.zeros(3)")], "x = np.zeros(2)"),
    ],
)
def test_no_import_is_proposed_when_the_name_may_be_defined_or_is_not_newly_used(cells, before):
    assert typed(cells, cells[-1]["id"], before)["edits"] == []


def test_a_repeatable_edit_still_comes_before_an_import():
    # numpy -> np is both a new use of np and a change to carry to the next line: the next line first
    cells = [code("a", "x = np.zeros(3)\ny = numpy.zeros(3)")]
    result = typed(cells, "a", "x = numpy.zeros(3)\ny = numpy.zeros(3)", offset=len("x = np"))
    assert result["predictor"] == "repeat"
    assert result["edits"] == [{"cell_id": "a", "source": "x = np.zeros(3)\ny = np.zeros(3)"}]


def test_the_import_joins_the_files_import_block_not_a_later_import():
    source = "import os\n\nx = 1\nimport json\n\ny = re.sub('a', 'b', 'c')\n"
    cells = [code("file", source)]
    result = typed(cells, "file", "import os\n\nx = 1\nimport json\n\ny = None\n")
    assert (
        result["edits"][0]["source"]
        == "import os\nimport re\n\nx = 1\nimport json\n\ny = re.sub('a', 'b', 'c')\n"
    )


@pytest.mark.parametrize(
    "language, fires",
    [("python", True), ("Python", True), ("", True), ("R", False), ("text/x-julia", False)],
)
def test_the_import_rule_keeps_to_python(language, fires):
    cells = [code("a", "x = 1"), code("b", "df = pd.read_csv('s.csv')")]
    after = cells[1]["source"]
    result = predict(
        cells, "b", [{"cell_id": "b", "before": "", "after": after}], len(after), language=language
    )
    assert (result["predictor"] == "import") is fires


def test_while_the_imports_cell_is_being_typed_in_the_import_waits_for_it():
    cells = [code("a", "import numpy as np\ndf = pd.read_csv("), code("b", "x = 1")]
    assert typed(cells, "a", "import numpy as np\n")["edits"] == []  # not into cell b meanwhile
    cells[0]["source"] = "import numpy as np\ndf = pd.read_csv('s.csv')"
    assert typed(cells, "a", "import numpy as np\n")["edits"] == [
        {
            "cell_id": "a",
            "source": "import numpy as np\nimport pandas as pd\ndf = pd.read_csv('s.csv')",
        }
    ]


def test_an_identifier_renamed_in_code_goes_to_code_first_then_strings_and_comments():
    """Renaming `report` → `text` proposed `'report.txt'` → `'text.txt'` as the first Tab target:
    identifiers are renamed as identifiers first, and a file name or a comment only after."""
    from jupyter_cursor.nextedit.repeat import repeat_next

    before = "report = load('report.txt')\n# the report, cleaned\nprint(report)\n"
    after = before.replace("report =", "text =", 1)
    event = {"cell_id": "a", "before": before, "after": after}
    cells = [{"id": "a", "cell_type": "code", "source": after}]
    (edit,) = repeat_next(event, cells, "a", 4)
    assert edit["source"] == after.replace("print(report)", "print(text)")
    # with the code done, the comment and the string come next, one run at a time
    done = edit["source"]
    event = {"cell_id": "a", "before": after, "after": done}
    (edit,) = repeat_next(event, [{"id": "a", "cell_type": "code", "source": done}], "a", 0)
    assert "'text.txt'" in edit["source"] and "print(text)" in edit["source"]


def test_a_name_changed_inside_a_string_goes_on_in_strings():
    from jupyter_cursor.nextedit.repeat import repeat_next

    before = "x = load('data.csv')\ny = load('data.csv')"
    after = "x = load('weather.csv')\ny = load('data.csv')"
    cells = [{"id": "a", "cell_type": "code", "source": after}]
    event = {"cell_id": "a", "before": before, "after": after}
    assert repeat_next(event, cells, "a", 20) == [
        {"cell_id": "a", "source": "x = load('weather.csv')\ny = load('weather.csv')"}
    ]
