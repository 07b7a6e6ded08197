"""The checks a refactor passes before review: syntax of changed cells, names no longer defined."""

from jupyter_cursor.apply.syntax import python_source
from jupyter_cursor.refactor.checks import check_change
from jupyter_cursor.refactor.prompt import build_messages, summarise_outputs


def code(cell_id, source):
    return {"id": cell_id, "cell_type": "code", "source": source}


BEFORE = [
    code("imports", "import pandas as pd\n%matplotlib inline"),
    code("load", "df = pd.read_csv('x.csv')"),
    code("use", "print(df.shape)\ndisplay(df)"),
]


def test_a_clean_rename_has_no_warnings():
    after = [
        BEFORE[0],
        code("load", "sales = pd.read_csv('x.csv')"),
        code("use", "print(sales.shape)\ndisplay(sales)"),
    ]
    assert check_change(BEFORE, after) == []


def test_a_rename_missed_in_one_cell_is_reported_there():
    after = [BEFORE[0], code("load", "sales = pd.read_csv('x.csv')"), BEFORE[2]]
    (warning,) = check_change(BEFORE, after)
    assert (warning.code, warning.cell_id, warning.line) == ("undefined_name", "use", 1)
    assert "'df'" in warning.message


def test_use_before_definition_in_execution_order_is_reported():
    after = [BEFORE[0], BEFORE[2], BEFORE[1]]  # the use moved above the definition
    warnings = check_change(BEFORE, after)
    assert [(w.cell_id, w.code) for w in warnings] == [("use", "undefined_name")]


def test_syntax_errors_only_in_changed_cells():
    broken_before = [code("a", "x = ("), code("b", "y = 1")]
    after = [code("a", "x = ("), code("b", "y = [1,")]
    warnings = check_change(broken_before, after)
    assert [(w.cell_id, w.code) for w in warnings] == [("b", "syntax_error")]


def test_names_already_undefined_before_are_not_blamed_on_the_refactor():
    before = [code("a", "print(undefined_thing)")]
    after = [code("a", "print(undefined_thing, 1)")]
    assert check_change(before, after) == []


def test_ipython_syntax_is_not_python_but_not_an_error():
    assert python_source("!pip install x\n%time f()\ny = 2") == "\n\ny = 2"
    assert python_source("%%bash\necho hi") is None
    after = [code("a", "%%bash\necho $((1+"), code("b", "!ls\nz = 3")]
    assert check_change([code("a", ""), code("b", "")], after) == []


def test_outputs_are_summarised_and_bounded():
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": ["hello\n", "world"]},
        {"output_type": "display_data", "data": {"image/png": "AAAA"}},
        {"output_type": "execute_result", "data": {"text/plain": "x" * 1000}},
        {"output_type": "error", "ename": "KeyError", "evalue": "'a'", "traceback": []},
    ]
    text = summarise_outputs(outputs)
    assert text.startswith("hello\nworld\n[image/png]\nxxx")
    assert len(text) < 400 and "more characters" in text


def test_prompt_holds_every_cell_with_its_id_and_the_instruction():
    messages = build_messages("nb.ipynb", BEFORE, "rename df to sales", {"use": "(100, 3)"})
    user = messages[-1]["content"]
    for cell in BEFORE:
        assert f'<cell id="{cell["id"]}" type="code">\n{cell["source"]}\n</cell>' in user
    assert '<output cell="use">\n(100, 3)\n</output>' in user
    assert user.rstrip().endswith("rename df to sales")
    assert "# cell: <id>" in messages[0]["content"]


def test_a_name_the_live_kernel_defines_is_not_undefined():
    # ``model`` was defined by a cell since deleted, but the kernel still holds it.
    after = [BEFORE[0], BEFORE[1], code("use", "print(df.shape)\nmodel.fit(df)")]
    (warning,) = check_change(BEFORE, after)
    assert "'model'" in warning.message
    assert check_change(BEFORE, after, frozenset({"model"})) == []


def test_the_kernels_variables_are_a_block_of_the_prompt():
    messages = build_messages("a.ipynb", BEFORE, "tidy", variables="df: DataFrame (3, 2)")
    assert (
        "<kernel_variables>\ndf: DataFrame (3, 2)\n</kernel_variables>" in messages[-1]["content"]
    )
    assert "kernel_variables" not in build_messages("a.ipynb", BEFORE, "tidy")[-1]["content"]
