"""The apply engine on answers as models really write them (issue 16's classes): blocks that are not
edits, every SEARCH/REPLACE shape, several files' diffs in one fence, whole answers that keep the
cell's layout, fuzzy matches that neither invent nor swallow lines, and a warning for each refusal."""

import pytest

from jupyter_cursor.apply import apply_suggestion
from jupyter_cursor.apply.protocol import run_apply


def cell(cid, source, kind="code"):
    return {"id": cid, "cell_type": kind, "source": source}


MODULE = (
    '"""Cleaning helpers."""\n\nimport pandas as pd\n\n\n'
    + "\n\n\n".join(
        f"def step_{i}(df):\n    df = df.copy()\n    df['c{i}'] = df['a'] * {i}\n    return df"
        for i in range(8)
    )
    + "\n"
)
FILE = [cell("file", MODULE)]


def refusals(diff):
    return [w for w in diff.warnings if w["message"].startswith("Not applied")]


def unchanged(diff, cells):
    return diff.ops == [] and [c["source"] for c in diff.cells] == [c["source"] for c in cells]


# -- 1. a code block that is not an edit -------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "Call it like this:\n\n```python\nresult = step_3(df)\n```",
        "Then run:\n\n```\npython clean.py --input data.csv\n```",
        "Put it in\n\n```\nsrc/cleaning.py\n```\n\nand import it from there.",
        "Steps:\n\n1. Save the module.\n   ```\n   run the tests\n2. Commit.",
        "Install the extra first:\n\n```bash\npip install pyarrow\n```",
        "```console\n$ python clean.py\nok\n```",
        "Add this to your configuration:\n\n```toml\n[tool.clean]\nsteps = 8\n```",
    ],
)
def test_a_block_that_is_not_an_edit_is_refused_with_a_warning(answer):
    diff = apply_suggestion(FILE, answer)
    assert unchanged(diff, FILE)
    assert len(refusals(diff)) == 1, diff.warnings


def test_an_example_next_to_a_real_edit_is_refused_and_the_edit_applied():
    answer = (
        "Use a float factor:\n\n```python\n<<<<<<< SEARCH\n    df['c3'] = df['a'] * 3\n=======\n"
        "    df['c3'] = df['a'] * 3.0\n>>>>>>> REPLACE\n```\n\nUsage:\n\n```python\n"
        "out = step_3(frame)\n```"
    )
    diff = apply_suggestion(FILE, answer)
    assert diff.cells[0]["source"] == MODULE.replace("* 3\n", "* 3.0\n")
    assert [w["code"] for w in refusals(diff)] == ["not_an_edit"]


def test_a_rewrite_at_least_half_as_long_is_still_a_rewrite():
    cells = [cell("a", "x = 1\ny = 2\nz = 3\nprint(x)\nprint(y)\nprint(z)")]
    diff = apply_suggestion(
        cells, "Shorter:\n\n```python\nx, y = 1, 2\nprint(x, y)\nprint(x + y)\n```"
    )
    assert diff.cells[0]["source"] == "x, y = 1, 2\nprint(x, y)\nprint(x + y)"


def test_quoting_a_few_lines_of_a_long_cell_does_not_replace_it():
    answer = "The problem is here:\n\n```python\nimport pandas as pd\n```\n\nIt is never used."
    diff = apply_suggestion(FILE, answer)
    assert unchanged(diff, FILE) and [w["code"] for w in refusals(diff)] == ["not_an_edit"]


def test_a_directive_makes_a_short_block_the_cells_new_text():
    diff = apply_suggestion(FILE, "```python\n# cell: file\nprint('replaced')\n```")
    assert diff.cells[0]["source"] == "print('replaced')\n"


# -- 2. SEARCH/REPLACE as models write it -------------------------------------------------------------

SR = "<<<<<<< SEARCH\n    df['c5'] = df['a'] * 5\n=======\n    df['c5'] = df['a'] * 50\n>>>>>>> REPLACE"
WANT = MODULE.replace("* 5\n", "* 50\n")


@pytest.mark.parametrize(
    "answer",
    [
        f"Change the factor:\n\n{SR}\n\nThat is all.",
        f"```bash\n{SR}\n```",
        f"```diff\n{SR}\n```",
        f"```\n{SR}\n```",
        f"<source>\n{SR}\n</source>",
        f'<code lang="python">\n{SR}\n</code>',
        "```python\n" + SR.replace(">>>>>>> REPLACE", "=======") + "\n```",
        SR.replace(">>>>>>> REPLACE", "=======") + "\n\nDone.",
        "```python\nclean.py\n" + SR + "\n```",
        "```python\n"
        + SR.replace("<<<<<<< SEARCH", "<<<<<<< ORIGINAL").replace("REPLACE", "UPDATED")
        + "\n```",
        "```python\n" + SR.replace("=======", "=====").replace("<<<<<<<", "<<<<<") + "\n```",
    ],
)
def test_search_replace_in_every_shape_models_write(answer):
    diff = apply_suggestion(FILE, answer)
    assert diff.cells[0]["source"] == WANT
    assert refusals(diff) == []


def test_a_search_without_its_divider_is_refused_and_no_marker_is_written():
    answer = "```python\n<<<<<<< SEARCH\n    df['c5'] = df['a'] * 5\n    return df\n```"
    diff = apply_suggestion(FILE, answer)
    assert unchanged(diff, FILE)
    assert [w["code"] for w in refusals(diff)] == ["malformed"]


def test_a_divider_inside_replace_is_content_when_the_block_closes_later():
    cells = [cell("a", 'def f():\n    """Doc."""\n    return 1')]
    answer = (
        '```python\n<<<<<<< SEARCH\n    """Doc."""\n=======\n    """Doc.\n\n    Notes\n'
        '    =======\n    Plain.\n    """\n>>>>>>> REPLACE\n```'
    )
    diff = apply_suggestion(cells, answer)
    assert diff.cells[0]["source"] == (
        'def f():\n    """Doc.\n\n    Notes\n    =======\n    Plain.\n    """\n    return 1'
    )


def test_an_empty_search_appends_to_a_file_keeping_its_last_newline():
    answer = "```python\n<<<<<<< SEARCH\n=======\n\n\ndef step_8(df):\n    return df\n>>>>>>> REPLACE\n```"
    diff = apply_suggestion(FILE, answer)
    assert diff.cells[0]["source"] == MODULE + "\n\ndef step_8(df):\n    return df\n"


def test_an_empty_search_appends_to_the_cell_a_header_names():
    cells = [cell("a", "x = 1"), cell("b", "y = 2")]
    answer = "```python\n# cell: a\n<<<<<<< SEARCH\n=======\nprint(x)\n>>>>>>> REPLACE\n```"
    assert [c["source"] for c in apply_suggestion(cells, answer).cells] == [
        "x = 1\nprint(x)",
        "y = 2",
    ]


def test_an_empty_search_under_add_a_new_cell_is_a_new_cell():
    cells = [cell("a", "x = 1"), cell("b", "y = 2")]
    answer = (
        "Add a new cell at the end of the notebook:\n\n```python\n<<<<<<< SEARCH\n=======\n"
        "print(x + y)\n>>>>>>> REPLACE\n```"
    )
    diff = apply_suggestion(cells, answer)
    assert [c["source"] for c in diff.cells] == ["x = 1", "y = 2", "print(x + y)"]
    assert [op["op"] for op in diff.ops] == ["insert"]


CALLS = "fit(a, verbose=True)\nshow(a)\nfit(b, verbose=True)\nfit(c, verbose=True)\n"
DROP = "<<<<<<< SEARCH\nfit({x}, verbose=True)\n=======\nfit({x})\n>>>>>>> REPLACE"
REPEAT = "<<<<<<< SEARCH\nfit(a, verbose=True)\n=======\nfit(a)\n>>>>>>> REPLACE"


def test_the_same_block_repeated_changes_as_many_places():
    cells = [cell("a", CALLS.replace("b,", "a,").replace("c,", "a,"))]
    answer = "\n\n".join(f"```python\n{REPEAT}\n```" for _ in range(3))
    diff = apply_suggestion(cells, answer)
    assert diff.cells[0]["source"] == "fit(a)\nshow(a)\nfit(a)\nfit(a)\n"
    assert refusals(diff) == []


def test_fewer_copies_than_places_is_one_refusal():
    cells = [cell("a", CALLS.replace("b,", "a,").replace("c,", "a,"))]
    answer = "\n\n".join(f"```python\n{REPEAT}\n```" for _ in range(2))
    diff = apply_suggestion(cells, answer)
    assert unchanged(diff, cells)
    assert [w["code"] for w in refusals(diff)] == ["ambiguous"]


# -- 3. several files' diffs in one fence ------------------------------------------------------------


def test_each_files_diff_in_one_fence_is_read_apart():
    answer = (
        "```diff\n--- a/clean.py\n+++ b/clean.py\n@@ -12,3 +12,3 @@\n def step_1(df):\n"
        "     df = df.copy()\n-    df['c1'] = df['a'] * 1\n+    df['c1'] = df['a'] * 10\n"
        "--- a/setup.py\n+++ b/setup.py\n@@ -1,2 +1,2 @@\n from setuptools import setup\n"
        "-setup(name='clean')\n+setup(name='cleaning')\n```"
    )
    diff = apply_suggestion(FILE, answer)
    assert diff.cells[0]["source"] == MODULE.replace("* 1\n", "* 10\n")
    assert "++" not in diff.cells[0]["source"]
    (refusal,) = refusals(diff)
    assert "setup.py" in refusal["message"]


# -- 4. whole answers keep the cell's layout ---------------------------------------------------------


def test_a_whole_cell_answer_keeps_the_final_newline_and_leading_blank_lines():
    cells = [cell("a", "\n\nimport os\nprint(os.sep)\n")]
    diff = apply_suggestion(cells, "```python\nimport os\nprint(os.getcwd())\n```")
    assert diff.cells[0]["source"] == "\n\nimport os\nprint(os.getcwd())\n"


# -- 5. fuzzy matches neither invent nor swallow lines ------------------------------------------------

TWO = "def a():\n    x = 1\n    return x\n\ndef b():\n    return 2\n"


def test_a_search_line_that_is_in_no_cell_is_not_inserted():
    answer = (
        "```python\n<<<<<<< SEARCH\ndef a():\n    x = 1\n    y = 0\n    return x\n=======\n"
        "def a():\n    x = 2\n    y = 0\n    return x\n>>>>>>> REPLACE\n```"
    )
    diff = apply_suggestion([cell("a", TWO)], answer)
    assert diff.cells[0]["source"] == TWO.replace("x = 1", "x = 2")
    assert [w["code"] for w in diff.warnings] == ["fuzzy"]
    assert diff.warnings[0]["cell_id"] == "a"


def test_a_fuzzy_match_keeps_the_next_functions_line_and_the_cells_spelling():
    answer = (
        "```python\n<<<<<<< SEARCH\n    x = 1\n    retrun x\n\n=======\n    x = 1\n    x += 1\n"
        "    retrun x\n\n>>>>>>> REPLACE\n```"
    )
    diff = apply_suggestion([cell("a", TWO)], answer)
    assert diff.cells[0]["source"] == TWO.replace("x = 1\n", "x = 1\n    x += 1\n")


def test_a_removed_line_with_a_typo_removes_the_cells_line():
    answer = (
        "```python\n<<<<<<< SEARCH\ndef a():\n    x = 10\n    return x\n=======\n"
        "def a():\n    return 3\n>>>>>>> REPLACE\n```"
    )
    diff = apply_suggestion([cell("a", TWO)], answer)
    assert diff.cells[0]["source"] == TWO.replace("    x = 1\n    return x", "    return 3")
    assert [w["code"] for w in diff.warnings] == ["fuzzy"]


def test_a_removed_line_where_the_cell_has_another_line_is_refused():
    answer = (
        "```python\n<<<<<<< SEARCH\ndef a():\n    y = compute()\n    return x\n=======\n"
        "def a():\n    return 3\n>>>>>>> REPLACE\n```"
    )
    diff = apply_suggestion([cell("a", TWO)], answer)
    assert diff.cells[0]["source"] == TWO
    assert [w["code"] for w in refusals(diff)] == ["not_found"]


def test_a_removed_line_where_the_cell_has_nothing_removes_nothing():
    answer = (
        "```python\n<<<<<<< SEARCH\ndef a():\n    x = 1\n    del tmp\n    return x\n=======\n"
        "def a():\n    x = 2\n    return x\n>>>>>>> REPLACE\n```"
    )
    diff = apply_suggestion([cell("a", TWO)], answer)
    assert diff.cells[0]["source"] == TWO.replace("x = 1", "x = 2")


# -- 7. a request with no cells ---------------------------------------------------------------------


def test_a_request_with_no_cells_is_an_error():
    with pytest.raises(ValueError, match="cells is empty"):
        run_apply([], "```python\nx = 1\n```")


# -- a block for another file -------------------------------------------------------------------------

WHOLE = "```python\n" + MODULE.replace("* 5\n", "* 50\n") + "```"


@pytest.mark.parametrize(
    "intro, path, applied",
    [
        ("Here is the full updated `setup.py`:", "clean.py", False),
        ("Here is the full updated `src/clean.py`:", "clean.py", True),
        ("Here is the full updated clean.py:", "pkg/clean.py", True),
        ("Here is the full updated `setup.py`:", "", True),  # no path given: nothing to compare
        ("I changed `setup.py` and this:", "clean.py", False),
        ("Now it loads `sales.csv` too:", "clean.py", True),  # a data file, not the block's
        ("After the cell that starts with `df.to_csv('x.py')`:", "clean.py", True),  # quoted code
    ],
)
def test_a_block_the_prose_gives_for_another_file_is_refused(intro, path, applied):
    diff = apply_suggestion(FILE, f"{intro}\n\n{WHOLE}", path=path)
    assert (diff.cells[0]["source"] == WANT) is applied
    assert [w["code"] for w in refusals(diff)] == ([] if applied else ["other_file"])


def test_a_file_name_line_before_search_replace_names_its_file():
    answer = f"```python\nclean.py\n{SR}\n```\n\n```python\nsetup.py\n{SR}\n```"
    diff = apply_suggestion(FILE, answer, path="src/clean.py")
    assert diff.cells[0]["source"] == WANT
    assert [w["code"] for w in refusals(diff)] == ["other_file"]


def test_with_the_path_another_files_diff_is_refused_by_name():
    answer = (
        "```diff\ndiff --git a/clean.py b/clean.py\n--- a/clean.py\n+++ b/clean.py\n@@ -12,3 +12,3 @@\n"
        " def step_1(df):\n     df = df.copy()\n-    df['c1'] = df['a'] * 1\n+    df['c1'] = df['a'] * 10\n"
        "diff --git a/setup.py b/setup.py\n--- a/setup.py\n+++ b/setup.py\n@@ -1 +1 @@\n"
        "-    df['c2'] = df['a'] * 2\n+    df['c2'] = 0\n```"
    )
    diff = apply_suggestion(FILE, answer, path="clean.py")
    assert diff.cells[0]["source"] == MODULE.replace("* 1\n", "* 10\n")  # setup.py's hunk not here
    assert [w["code"] for w in refusals(diff)] == ["other_file"]


# -- a block showing some of a cell's definitions stands for those alone --------------------------

CLEANING = cell(
    "b",
    "import pandas as pd\n\n\ndef load(path):\n    return pd.read_csv(path)\n\n\n"
    "def clean(df):\n    df = df.dropna()\n    return df\n\n\nframe = clean(load('data.csv'))",
)
CLEANED = CLEANING["source"].replace("    df = df.dropna()\n", "    df = df.dropna(how='all')\n")


@pytest.mark.parametrize(
    "answer",
    [
        # the function alone, as chat models answer "fix clean"
        "```python\ndef clean(df):\n    df = df.dropna(how='all')\n    return df\n```",
        # with a marker below it only, worded as models word them
        "```python\ndef clean(df):\n    df = df.dropna(how='all')\n    # ... rest unchanged ...\n```",
        "```python\ndef clean(df):\n    df = df.dropna(how='all')\n    ...\n```",
        "```python\ndef clean(df):\n    df = df.dropna(how='all')\n    return df\n# ... existing code ...\n```",
    ],
)
def test_a_block_showing_one_function_of_a_cell_rewrites_that_function_alone(answer):
    diff = apply_suggestion([CLEANING], answer)
    assert diff.cells[0]["source"] == CLEANED and not refusals(diff)


def test_a_method_alone_is_merged_into_its_class_at_the_class_indentation():
    model = cell(
        "m",
        "import numpy as np\n\n\nclass Model:\n    def fit(self, X):\n        self.mean = X.mean()\n"
        "        return self\n\n    def predict(self, X):\n        return np.full(len(X), self.mean)"
        "\n\n\nm = Model().fit(np.arange(5))",
    )
    fitted = model["source"].replace("X.mean()", "X.mean(axis=0)")
    for answer in (
        "```python\ndef fit(self, X):\n    self.mean = X.mean(axis=0)\n    return self\n```",
        "```python\nclass Model:\n    def fit(self, X):\n        self.mean = X.mean(axis=0)\n"
        "        return self\n    # ... existing code ...\n```",
    ):
        assert apply_suggestion([model], answer).cells[0]["source"] == fitted


def test_a_whole_block_with_every_definition_of_the_cell_is_still_its_new_text():
    # the function and nothing else, in a cell whose only definition it is: the commit's shape
    # when it drops the import and the call around a function
    only = cell("o", "import time\n\ndef wait(s):\n    time.sleep(s)\n\nwait(1)")
    diff = apply_suggestion([only], "```python\ndef wait(s):\n    time.sleep(2 * s)\n```")
    assert diff.cells[0]["source"] == "def wait(s):\n    time.sleep(2 * s)"
    # a definition the cell lacks beside one it has: new, or one of its own renamed
    renamed = "```python\ndef sigmoid(z):\n    return z\n\ndef clean(df):\n    return df\n```"
    assert "def load" not in apply_suggestion([CLEANING], renamed).cells[0]["source"]
