"""Chunkers on literal inputs: what a file becomes in the index."""

import json

import nbformat
import pytest

from jupyter_cursor.index.analyzer import (
    code_analyzer,
    identifier_parts,
    matched_words,
    query_terms,
    word_terms,
)
from jupyter_cursor.index.chunking import (
    MAX_CHARS,
    MAX_EXPLANATION,
    MAX_LINES,
    CorruptFile,
    chunk_file,
    chunk_markdown,
    chunk_notebook,
    chunk_python,
)


def notebook_v45():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Loading\nWe read the data."),
        nbformat.v4.new_code_cell("df = pd.read_csv('sales.csv')"),
        nbformat.v4.new_code_cell(""),
        nbformat.v4.new_markdown_cell("## Plots"),
        nbformat.v4.new_code_cell("df.plot()", execution_count=7),
    ]
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", text="SECRET_OUTPUT_TEXT")]
    return nb


def test_notebook_cells_keep_id_index_type_and_heading():
    nb = notebook_v45()
    chunks = chunk_notebook("a.ipynb", nbformat.writes(nb))
    assert [(c.cell_index, c.kind, c.heading) for c in chunks] == [
        (0, "markdown", "Loading"),
        (1, "code", "Loading"),
        (3, "markdown", "Plots"),
        (4, "code", "Plots"),
    ]
    assert [c.cell_id for c in chunks] == [nb.cells[i].id for i in (0, 1, 3, 4)]
    assert all(c.start_line == 1 for c in chunks)


def test_outputs_and_execution_counts_are_never_indexed():
    chunks = chunk_notebook("a.ipynb", nbformat.writes(notebook_v45()))
    assert not any("SECRET_OUTPUT_TEXT" in c.text or "7" in c.text for c in chunks)


@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4])
def test_notebooks_before_4_5_have_no_invented_cell_ids(minor):
    raw = {
        "nbformat": 4,
        "nbformat_minor": minor,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": ["x = 1\n", "y = 2"],
                "outputs": [],
                "execution_count": None,
            }
        ],
    }
    (chunk,) = chunk_notebook("old.ipynb", json.dumps(raw))
    assert chunk.cell_id is None and chunk.cell_index == 0
    assert chunk.text == "x = 1\ny = 2" and (chunk.start_line, chunk.end_line) == (1, 2)


def test_v3_notebooks_are_read_with_heading_cells():
    raw = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": ""},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "heading", "level": 2, "source": "Setup", "metadata": {}},
                    {
                        "cell_type": "code",
                        "input": "import numpy",
                        "language": "python",
                        "outputs": [],
                        "metadata": {},
                    },
                ]
            }
        ],
    }
    chunks = chunk_notebook("v3.ipynb", json.dumps(raw))
    assert [(c.kind, c.text, c.heading, c.cell_id) for c in chunks] == [
        ("markdown", "## Setup", "Setup", None),
        ("code", "import numpy", "Setup", None),
    ]


@pytest.mark.parametrize(
    "text", ["{not json", "[1, 2]", '{"nbformat": 4, "cells": 3}', '{"nbformat": 9}', ""]
)
def test_corrupt_notebooks_raise(text):
    with pytest.raises(CorruptFile):
        chunk_notebook("bad.ipynb", text)


def test_huge_cell_is_split_into_bounded_windows():
    source = "\n".join(f"value_{i} = {i}" for i in range(1000))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    chunks = chunk_notebook("big.ipynb", nbformat.writes(nb))
    assert len(chunks) > 1
    assert all(
        c.end_line - c.start_line + 1 <= MAX_LINES and len(c.text) <= MAX_CHARS for c in chunks
    )
    lines = source.splitlines()
    for c in chunks:  # line numbers point at the text
        assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line])
    assert chunks[-1].end_line == 1000


def test_one_enormous_line_is_cut():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x" * 100_000)])
    (chunk,) = chunk_notebook("line.ipynb", nbformat.writes(nb))
    assert len(chunk.text) == MAX_CHARS


PYTHON = '''"""Module docs."""
import os

CONSTANT = 3


@decorator
def load(path):
    return open(path).read()


class Model:
    def fit(self):
        pass
'''


def test_python_splits_at_top_level_definitions_with_decorators():
    chunks = chunk_python("m.py", PYTHON)
    assert [(c.kind, c.heading, c.start_line, c.end_line) for c in chunks] == [
        ("module", "", 1, 4),
        ("function", "load", 7, 9),
        ("class", "Model", 12, 14),
    ]
    assert chunks[1].text.startswith("@decorator")


def test_long_python_class_is_split_at_methods():
    methods = "\n".join(f"    def method_{i}(self):\n" + "        x = 1\n" * 10 for i in range(10))
    chunks = chunk_python("big.py", f"class Big:\n    '''Doc.'''\n{methods}")
    headings = [c.heading for c in chunks]
    assert headings[0] == "Big" and "Big.method_0" in headings and "Big.method_9" in headings
    assert all(c.end_line - c.start_line < MAX_LINES for c in chunks)


def test_unparsable_python_falls_back_to_windows():
    chunks = chunk_python("broken.py", "def f(:\n    pass\n")
    assert [c.kind for c in chunks] == ["text"]


def test_markdown_splits_at_headings_but_not_inside_code_fences():
    text = "intro\n# One\nbody\n```\n# not a heading\n```\n## Two\nmore"
    chunks = chunk_markdown("r.md", text)
    assert [(c.heading, c.start_line, c.end_line) for c in chunks] == [
        ("", 1, 1),
        ("One", 2, 6),
        ("Two", 7, 8),
    ]


def test_other_files_are_line_windows_and_unicode_survives():
    text = "\n".join(f"ligne {i}: café ☕ 数据" for i in range(150))
    chunks = chunk_file("notes.txt", text)
    assert [c.kind for c in chunks] == ["text"] * 3
    assert chunks[0].text.splitlines()[0] == "ligne 0: café ☕ 数据"


def test_identifier_parts():
    assert identifier_parts("parse_HTTPResponse2") == ["parse", "HTTP", "Response", "2"]
    assert identifier_parts("readCsvFile") == ["read", "Csv", "File"]
    assert identifier_parts("ÉtéHiver") == ["Été", "Hiver"]


def test_analyzer_keeps_whole_identifiers_and_parts():
    terms = [t.text for t in code_analyzer()("df.read_csv(fooBar)")]
    assert {"read_csv", "read", "csv", "foobar", "foo", "bar", "df"} <= set(terms)
    assert query_terms(code_analyzer(), "plotting plots") == ["plot"]


md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell


def chunks_by_cell(path, cells):
    """The chunks of a notebook of ``cells``, by cell index."""
    text = nbformat.writes(nbformat.v4.new_notebook(cells=cells))
    return {c.cell_index: c for c in chunk_notebook(path, text)}


def test_a_code_cell_carries_the_title_heading_and_explanation_above_it():
    chunks = chunks_by_cell(
        "reports/q3.ipynb",
        [
            md("# Sales report\nQuarterly numbers."),
            md("## Cleaning\n\nSome rows lack a price.\n\nDrop them first."),
            code("df = df.dropna()"),
            code("df.describe()"),
            md("## Plots"),
            code("df.plot()"),
        ],
    )
    # the last paragraph above says what the code does; it stays until the next markdown cell
    assert chunks[2].context == "Sales report › Cleaning\nDrop them first."
    assert chunks[2].embed_text == "Sales report › Cleaning\nDrop them first.\ndf = df.dropna()"
    assert chunks[3].context == chunks[2].context
    assert chunks[5].context == "Sales report › Plots"  # a bare heading explains nothing
    assert chunks[0].context == "Sales report"  # markdown carries its place, not an explanation
    assert chunks[2].text == "df = df.dropna()"  # the hit still shows the cell, only the cell


def test_several_level_one_headings_are_sections_not_a_title():
    chunks = chunks_by_cell(
        "a.ipynb",
        [
            md("# Draw a histogram"),
            code("ages.hist()"),
            md("# Connect to the database"),
            code("engine = create_engine(url)"),
        ],
    )
    # the first section's words are in no chunk of the second section
    assert chunks[2].context == chunks[3].context == "Connect to the database"
    assert chunks[1].context == "Draw a histogram"


def test_explanations_are_bounded_and_a_notebook_without_a_title_has_none():
    chunks = chunks_by_cell("dir/load_raw-data.ipynb", [md("word " * 200), code("x = 1")])
    assert chunks[1].kind == "code"
    assert "\n" not in chunks[1].context  # no title (not the file name: renames stay cheap)
    assert 200 <= len(chunks[1].context) <= MAX_EXPLANATION


def test_python_chunks_keep_their_definition_name_as_context():
    (chunk,) = chunk_python("m.py", "def load(path):\n    return path\n")
    assert chunk.context == "load" and chunk.embed_text == "load\ndef load(path):\n    return path"


def test_matched_words_are_the_words_as_written_whose_whole_or_parts_match():
    analyzer = code_analyzer()
    terms = set(query_terms(analyzer, "plotting the csv"))
    text = "df = pd.read_csv(path)\nax.plot(x)  # Plots\nplotCsvRows(df)\nread_csv(other)\nÉtéPlot"
    assert matched_words(word_terms(analyzer), terms, text) == [
        "read_csv",
        "plot",
        "Plots",
        "plotCsvRows",
        "ÉtéPlot",
    ]
    assert matched_words(word_terms(analyzer), set(), text) == []
