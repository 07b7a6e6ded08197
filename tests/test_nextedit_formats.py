"""Prompt formats of next-edit models: each prompt written out in full, targets, and parsing of
well-formed and malformed completions (a malformed one is no edit, never a broken cell)."""

import pytest

from jupyter_cursor.nextedit.context import build_context
from jupyter_cursor.nextedit.formats import (
    FORMATS,
    JupyterCursorFormat,
    MalformedOutput,
    UnrepresentableEdit,
    get_format,
)

BEFORE = "import pandas as pd\n\ndf = pd.read_csv('a.csv')\ndf.head()"
AFTER = "import pandas as pd\n\nsales = pd.read_csv('a.csv')\ndf.head()"
REQUEST = {
    "id": "ignored",
    "path": "nb.ipynb",
    "cells": [
        {"id": "c0", "cell_type": "markdown", "source": "# Sales"},
        {"id": "c1", "cell_type": "code", "source": AFTER},
        {"id": "c2", "cell_type": "code", "source": "df.plot()"},
    ],
    "cursor": {"cell_id": "c1", "offset": AFTER.index("sales") + 5},
    "events": [{"cell_id": "c1", "before": BEFORE, "after": AFTER}],
}
RENAMED = {"c1": AFTER.replace("df.head", "sales.head"), "c2": "sales.plot()"}


@pytest.fixture
def ctx():
    return build_context(REQUEST)


def test_registry():
    assert set(FORMATS) == {"jupyter-cursor"}
    assert isinstance(get_format("jupyter-cursor"), JupyterCursorFormat)
    with pytest.raises(ValueError, match="known: jupyter-cursor"):
        get_format("nope")


def test_jupyter_cursor_special_tokens_are_the_tokenizers():
    assert JupyterCursorFormat.SPECIAL_TOKENS == (
        "<|edits|>", "<|context|>", "<|region|>", "<|/region|>",
        "<|cursor|>", "<|rewrite|>", "<|end|>", "<|cell|>",
    )


def test_jupyter_cursor_prompt(ctx):
    assert get_format("jupyter-cursor").render(ctx) == (
        "<|edits|>\n"
        "--- c1\n"
        "+++ c1\n"
        "@@ -1,4 +1,4 @@\n"
        " import pandas as pd\n"
        " \n"
        "-df = pd.read_csv('a.csv')\n"
        "+sales = pd.read_csv('a.csv')\n"
        " df.head()\n"
        "<|context|>\n"
        "<|cell|>c0 markdown\n"
        "# Sales\n"
        "<|cell|>c1 code\n"
        "<|region|>\n"
        "import pandas as pd\n"
        "\n"
        "sales<|cursor|> = pd.read_csv('a.csv')\n"
        "df.head()<|/region|>\n"
        "<|cell|>c2 code\n"
        "df.plot()\n"
        "<|rewrite|>\n"
    )


def test_jupyter_cursor_target_and_parse_round_trip(ctx):
    fmt = get_format("jupyter-cursor")
    target = fmt.target(ctx, RENAMED)
    assert target == (
        "import pandas as pd\n\nsales = pd.read_csv('a.csv')\nsales.head()"
        "<|cell|>c2\nsales.plot()\n<|end|>"
    )
    assert fmt.parse(target, ctx) == [
        {"cell_id": "c1", "source": RENAMED["c1"]},
        {"cell_id": "c2", "source": "sales.plot()"},
    ]
    # Generation stops on <|end|>, so the completion usually arrives without it.
    assert fmt.parse(target.removesuffix("<|end|>"), ctx) == fmt.parse(target, ctx)
    assert fmt.target(ctx, {}) == fmt.original(ctx) == AFTER + "<|end|>"
    assert fmt.parse(fmt.original(ctx), ctx) == []


def test_jupyter_cursor_cursor_marker_in_output_is_dropped(ctx):
    output = AFTER.replace("df.head", "sales<|cursor|>.head") + "<|end|>"
    assert fmt_edits("jupyter-cursor", output, ctx) == {"c1": RENAMED["c1"]}


def fmt_edits(name, output, ctx):
    return {e["cell_id"]: e["source"] for e in get_format(name).parse(output, ctx)}


@pytest.mark.parametrize(
    "output",
    [
        "import pandas as pd\n<|region|>\nsales = 1<|end|>",  # a prompt marker copied
        AFTER + "<|cell|>c9\nx\n<|end|>",  # a cell that does not exist
        AFTER + "<|cell|>c2\nsales.plot()<|end|>",  # a cell block without its final newline
        AFTER + "<|cell|>c2\nsales.plot()\n<|cell|>c2\nsales.plot()\n<|end|>",  # twice
        "import pandas as pd\n\nsales = pd.read_csv('a.csv'\ndf.head()<|end|>",  # breaks syntax
    ],
)
def test_jupyter_cursor_malformed_output_is_no_edit(ctx, output):
    with pytest.raises(MalformedOutput):
        get_format("jupyter-cursor").read(output, ctx)
    assert get_format("jupyter-cursor").parse(output, ctx) == []


def test_target_refuses_edits_the_prompt_cannot_lead_to():
    big = "".join(f"value_{i} = {i}\n\n" for i in range(300))
    request = {"path": "m.py", "cells": [{"id": "file", "cell_type": "code", "source": big}],
               "cursor": {"cell_id": "file", "offset": 0}, "events": []}
    ctx = build_context(request)
    far = big.replace("value_299 = 299", "value_299 = 300")
    for name in FORMATS:
        with pytest.raises(UnrepresentableEdit):
            get_format(name).target(ctx, {"file": far})
