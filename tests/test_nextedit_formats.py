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
# The last edit's hunk, as both the jupyter-cursor and the zeta prompts show it.
HUNK = (
    "@@ -1,4 +1,4 @@\n"
    " import pandas as pd\n"
    " \n"
    "-df = pd.read_csv('a.csv')\n"
    "+sales = pd.read_csv('a.csv')\n"
    " df.head()\n"
)
RENAMED = {"c1": AFTER.replace("df.head", "sales.head"), "c2": "sales.plot()"}


@pytest.fixture
def ctx():
    return build_context(REQUEST)


def test_registry():
    assert set(FORMATS) == {
        "jupyter-cursor", "zeta", "zeta2", "zeta2.1", "instinct", "sweep", "sweep-autocomplete"
    }  # fmt: skip
    assert isinstance(get_format("jupyter-cursor"), JupyterCursorFormat)
    with pytest.raises(
        ValueError, match="known: instinct, jupyter-cursor, sweep, sweep-autocomplete"
    ):
        get_format("nope")


def test_jupyter_cursor_special_tokens_are_the_tokenizers():
    from models.recipe.tokenizer import MARKERS

    assert JupyterCursorFormat.SPECIAL_TOKENS == tuple(MARKERS)


def test_jupyter_cursor_prompt(ctx):
    assert get_format("jupyter-cursor").render(ctx) == (
        "<|edits|>\n"
        "--- c1\n"
        "+++ c1\n" + HUNK + "<|context|>\n"
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
    request = {
        "path": "m.py",
        "cells": [{"id": "file", "cell_type": "code", "source": big}],
        "cursor": {"cell_id": "file", "offset": 0},
        "events": [],
    }
    ctx = build_context(request)
    far = big.replace("value_299 = 299", "value_299 = 300")
    for name in FORMATS:
        with pytest.raises(UnrepresentableEdit):
            get_format(name).target(ctx, {"file": far})


ZETA_INSTRUCTION = (
    "### Instruction:\n"
    "You are a code completion assistant and your task is to analyze user edits and then rewrite an "
    "excerpt that the user provides, suggesting the appropriate edits within the excerpt, taking "
    "into account the cursor location.\n\n"
)


def test_zeta_prompt(ctx):
    # As Zed's requests have it: the path quoted, the diff's last line break before the fence.
    assert get_format("zeta").render(ctx) == ZETA_INSTRUCTION + (
        "### User Edits:\n"
        "\n"
        'User edited "nb.ipynb#c1":\n'
        "```diff\n" + HUNK + "\n"
        "```\n"
        "\n"
        "### User Excerpt:\n"
        "\n"
        "```nb.ipynb#c1\n"
        "<|editable_region_start|>\n"
        "import pandas as pd\n"
        "\n"
        "sales<|user_cursor_is_here|> = pd.read_csv('a.csv')\n"
        "df.head()\n"
        "<|editable_region_end|>\n"
        "```\n"
        "\n"
        "### Response:\n"
    )


def test_zeta_prompt_of_a_file_with_context_around_the_region():
    source = "import os\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n"
    request = {
        "path": "m.py",
        "cells": [{"id": "file", "cell_type": "code", "source": source}],
        "cursor": {"cell_id": "file", "offset": source.index("return 1")},
        "events": [],
    }
    from jupyter_cursor.nextedit.context import Budget

    ctx = build_context(request, budget=Budget(region_tokens=8))
    assert get_format("zeta").render(ctx) == ZETA_INSTRUCTION + (
        "### User Edits:\n"
        "\n"
        "\n"
        "\n"
        "### User Excerpt:\n"
        "\n"
        "```m.py\n"
        "<|start_of_file|>\n"
        "import os\n"
        "\n"
        "\n"
        "<|editable_region_start|>\n"
        "def a():\n"
        "    <|user_cursor_is_here|>return 1\n"
        "\n"
        "\n"
        "<|editable_region_end|>\n"
        "def b():\n"
        "    return 2\n"
        "\n"  # the context reaches the end of the file: its empty last row shows
        "```\n"
        "\n"
        "### Response:\n"
    )
    target = get_format("zeta").target(ctx, {"file": source.replace("return 1", "return 10")})
    assert (
        target == "<|editable_region_start|>\ndef a():\n    return 10\n\n\n<|editable_region_end|>"
    )
    assert fmt_edits("zeta", target, ctx) == {"file": source.replace("return 1", "return 10")}


def test_zeta_target_and_parse(ctx):
    fmt = get_format("zeta")
    target = fmt.target(ctx, {"c1": RENAMED["c1"]})
    assert target == (
        "<|editable_region_start|>\n"
        "import pandas as pd\n\nsales = pd.read_csv('a.csv')\nsales.head()\n"
        "<|editable_region_end|>"
    )
    assert fmt_edits("zeta", target, ctx) == {"c1": RENAMED["c1"]}
    assert fmt_edits("zeta", target.removesuffix("<|editable_region_end|>"), ctx) == {
        "c1": RENAMED["c1"]
    }
    # As in Zed: text before the start marker (an echoed fence) is ignored; the cursor marker dropped.
    echoed = "```nb.ipynb#c1\n" + target.replace("sales.head", "sales<|user_cursor_is_here|>.head")
    assert fmt_edits("zeta", echoed, ctx) == {"c1": RENAMED["c1"]}
    with pytest.raises(UnrepresentableEdit):
        fmt.target(ctx, RENAMED)  # one region: the edit of c2 cannot be written
    two = "<|editable_region_start|>\nx\n<|editable_region_start|>\ny\n<|editable_region_end|>"
    assert fmt.parse(two, ctx) == []


def test_sweep_prompt(ctx):
    assert get_format("sweep").render(ctx) == (
        "<|file_sep|>nb.ipynb#c0\n"
        "# Sales\n"
        "<|file_sep|>nb.ipynb#c2\n"
        "df.plot()\n"
        # The hunk's changed lines and one context line around them, as Sweep's server shows.
        "<|file_sep|>nb.ipynb#c1.diff\n"
        "original:\n"
        "\n"
        "df = pd.read_csv('a.csv')\n"
        "df.head()\n"
        "updated:\n"
        "\n"
        "sales = pd.read_csv('a.csv')\n"
        "df.head()\n"
        "<|file_sep|>original/nb.ipynb#c1\n"
        "import pandas as pd\n"
        "\n"
        "df = pd.read_csv('a.csv')\n"
        "df.head()\n"
        "<|file_sep|>current/nb.ipynb#c1\n"
        "import pandas as pd\n"
        "\n"
        "sales = pd.read_csv('a.csv')\n"
        "df.head()\n"
        "<|file_sep|>updated/nb.ipynb#c1\n"
    )


def test_sweep_target_and_parse(ctx):
    fmt = get_format("sweep")
    target = fmt.target(ctx, {"c1": RENAMED["c1"]})
    assert (
        target == "import pandas as pd\n\nsales = pd.read_csv('a.csv')\nsales.head()\n<|file_sep|>"
    )
    assert fmt_edits("sweep", target, ctx) == {"c1": RENAMED["c1"]}
    assert fmt_edits("sweep", target.removesuffix("<|file_sep|>"), ctx) == {"c1": RENAMED["c1"]}
    # As Zed reads it: the answer ends at the first <|file_sep|>; an empty one is no edit.
    cut = fmt.parse("import pandas as pd\n<|file_sep|>current/x\n<|file_sep|>", ctx)
    assert cut == [{"cell_id": "c1", "source": "import pandas as pd"}]
    assert fmt.parse("<|file_sep|>current/x\n", ctx) == fmt.parse(" \n\n", ctx) == []
    assert fmt.parse(fmt.original(ctx), ctx) == []


@pytest.mark.parametrize("name", ["jupyter-cursor", "zeta", "sweep"])
def test_markers_that_the_code_itself_holds_are_not_leftovers(name):
    source = 'special = "<|endoftext|> <|file_sep|> <|end|> <|editable_region_end|>"\nx = 1\n'
    request = {
        "path": "tok.py",
        "cells": [{"id": "file", "cell_type": "code", "source": source}],
        "cursor": {"cell_id": "file", "offset": len(source)},
        "events": [],
    }
    ctx = build_context(request)
    new = source.replace("x = 1", "x = 2")
    fmt = get_format(name)
    # The format's own stop string inside the code would end generation early: not parseable,
    # but never a broken cell.
    edits = fmt.parse(fmt.target(ctx, {"file": new}), ctx)
    assert edits in ([{"cell_id": "file", "source": new}], [])
    assert fmt.parse("garbage <|file_sep|><|editable_region_start|><|cell|>zz\n", ctx) == []


@pytest.mark.parametrize("name", ["jupyter-cursor", "zeta", "sweep"])
@pytest.mark.parametrize("output", ["", "\n", "<|end|>", "x" * 300_000, "\ufffd\x00", "def f(:\n"])
def test_random_output_never_breaks_a_cell(ctx, name, output):
    for edit in get_format(name).parse(output, ctx):
        # Whatever comes back is a whole cell that still parses (the cursor's cell did before).
        from jupyter_cursor.apply.syntax import syntax_error

        assert edit["cell_id"] == "c1" and syntax_error(edit["source"]) is None
