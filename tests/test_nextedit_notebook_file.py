"""A notebook shown to file-trained next-edit models as one `# %%` file, and their rewrite mapped
back to the cursor's cell."""

import pytest

from jupyter_cursor.nextedit.context import Budget, build_context
from jupyter_cursor.nextedit.formats import FORMATS, get_format
from jupyter_cursor.nextedit.formats.base import UnrepresentableEdit, region_edits
from jupyter_cursor.nextedit.notebook_file import as_file

CELLS = [
    {"id": "imports", "cell_type": "code", "source": "import pandas as pd\n"},
    {"id": "intro", "cell_type": "markdown", "source": "# Sales\n\nBy quarter."},
    {"id": "load", "cell_type": "code", "source": "df = pd.read_csv('s.csv')\ndf.head()"},
]
REQUEST = {
    "path": "work/sales.ipynb",
    "cells": CELLS,
    "cursor": {"cell_id": "load", "offset": 4},
    "events": [
        {"cell_id": "imports", "before": "import pandas\n", "after": "import pandas as pd\n"},
        {"cell_id": "load", "before": "df = pd.read_csv('s.csv')", "after": CELLS[2]["source"]},
    ],
}
FILE = (
    "# %%\nimport pandas as pd\n\n"
    "# %% [markdown]\n# # Sales\n#\n# By quarter.\n\n"
    "# %%\ndf = pd.read_csv('s.csv')\ndf.head()\n\n"
)


def test_the_notebook_is_one_percent_format_file_with_the_cursor_mapped():
    notebook = as_file(REQUEST)
    assert notebook.text == FILE
    request = notebook.request
    assert request["path"] == "work/sales.py"
    assert FILE[notebook.start : notebook.end] == CELLS[2]["source"]
    assert request["cursor"] == {"cell_id": "file", "offset": notebook.start + 4}


def test_each_recent_edit_is_a_diff_of_the_file_at_its_cells_place():
    notebook = as_file(REQUEST)
    first, second = notebook.request["events"]
    assert first["after"].startswith("# %%\nimport pandas as pd\n")
    assert first["before"].startswith("# %%\nimport pandas\n")
    # the second edit's "before" already has the first edit made
    assert second["before"] == FILE.replace("df.head()\n\n", "\n")
    assert second["after"] == FILE


def test_one_cell_files_and_markdown_cursors_stay_as_they_are():
    assert as_file({**REQUEST, "cells": CELLS[2:], "events": []}) is None
    assert as_file({**REQUEST, "cursor": {"cell_id": "intro", "offset": 0}}) is None


def test_the_region_stays_inside_the_cursors_cell():
    ctx = build_context(REQUEST, budget=Budget(region_tokens=10_000), as_file=True)
    assert ctx.notebook is not None
    assert ctx.region.text == "df = pd.read_csv('s.csv')\ndf.head()\n"  # not the cells above
    assert ctx.prefix.endswith("# %%\n") and "import pandas as pd" in ctx.prefix
    fixed = build_context(REQUEST, budget=Budget(region_lines=(10, 10)), as_file=True)
    assert fixed.region.text == ctx.region.text


def test_a_rewrite_of_the_region_is_an_edit_of_the_cursors_cell():
    ctx = build_context(REQUEST, as_file=True)
    new_region = ctx.region.text.replace("df.head()", "df.describe()")
    edits = ctx.notebook.to_cells(region_edits(ctx, new_region))
    assert edits == [{"cell_id": "load", "source": "df = pd.read_csv('s.csv')\ndf.describe()"}]
    # a "file" edit that reaches past the cell is no edit of it
    assert ctx.notebook.to_cells([{"cell_id": "file", "source": "x = 1\n"}]) == []


def test_the_formats_that_show_a_notebook_as_one_file():
    assert {name for name, fmt in FORMATS.items() if fmt.notebook_as_file} == {
        "zeta",
        "sweep-autocomplete",
    }


def test_zeta_sees_the_imports_of_the_cells_above():
    fmt = get_format("zeta")
    ctx = build_context(REQUEST, budget=fmt.budget, as_file=True)
    prompt = fmt.render(ctx)
    assert "import pandas as pd" in prompt and "sales.py" in prompt
    assert "#load" not in prompt and "sales.ipynb" not in prompt
    expected = {"load": "df = pd.read_csv('s.csv')\ndf.tail()"}
    assert ctx.notebook.to_cells(fmt.parse(fmt.target(ctx, expected), ctx)) == [
        {"cell_id": "load", "source": expected["load"]}
    ]
    with pytest.raises(UnrepresentableEdit):
        fmt.target(ctx, {"imports": "import numpy as np\n"})
