"""The Refactor command's faces: the websocket request and the CLI, against a local OpenAI-protocol
server that returns a scripted multi-cell answer."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from server_support import provider_config

ANSWER = (
    "```python\n# cell: load\nsales = load()\n```\n\n"
    "```python\n# cell: use\nprint(sales.head())\n```\n\n"
    "```python\n# cell: new after use\nprint(sales.shape)\n```\n\n"
    "```python\n# cell: delete scratch\n```\n\nRenamed df to sales everywhere."
)
CELLS = [
    {"id": "load", "cell_type": "code", "source": "df = load()"},
    {"id": "use", "cell_type": "code", "source": "print(df.head())"},
    {"id": "later", "cell_type": "code", "source": "df.describe()"},
    {"id": "scratch", "cell_type": "code", "source": "1 + 1"},
]


@pytest.fixture
def jp_server_config(llm):
    return provider_config(llm, model="m")


async def test_refactor_over_the_websocket(jp_ws_fetch, llm):
    llm.script({"text": ANSWER})
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    ws.write_message(
        json.dumps(
            {
                "type": "refactor",
                "id": "r",
                "path": "nb.ipynb",
                "cells": CELLS,
                "instruction": "rename df to sales",
                "outputs": {"use": "   a  b\n0  1  2"},
            }
        )
    )
    partials, result = [], None
    while result is None:
        reply = json.loads(await ws.read_message())
        if reply.get("id") != "r":
            continue
        if reply["type"] == "partial":
            partials.append(reply["data"])
        else:
            result = reply
    assert result["type"] == "result", result
    diff = result["result"]
    assert "".join(p["text"] for p in partials) == ANSWER
    assert [c["id"] for c in diff["cells"]][:2] == ["load", "use"]
    assert [c["source"] for c in diff["cells"]] == [
        "sales = load()",
        "print(sales.head())",
        "print(sales.shape)",
        "df.describe()",
    ]
    assert sorted(op["op"] for op in diff["ops"]) == ["delete", "insert", "modify", "modify"]
    # the check sees that `later` still uses df, which no cell defines any more
    assert [(w["code"], w["cell_id"]) for w in diff["warnings"]] == [("undefined_name", "later")]
    # the model saw every cell with its id, and the bounded output
    prompt = json.dumps(llm.requests[-1]["json"]["messages"])
    assert all(f'id=\\"{c["id"]}\\"' in prompt for c in CELLS) and "0  1  2" in prompt
    ws.close()


def test_refactor_cli_writes_the_result(tmp_path, llm):
    llm.script({"text": ANSWER})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c["source"], id=c["id"]) for c in CELLS]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter"),
            "cursor",
            "refactor",
            str(path),
            "--instruction",
            "rename df to sales",
            "--model",
            "m",
            "--base-url",
            llm.openai_url,
            "--write",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    assert "warning [later]" in done.stdout and "written" in done.stdout
    result = nbformat.read(path, as_version=4)
    assert [c.source for c in result.cells] == [
        "sales = load()",
        "print(sales.head())",
        "print(sales.shape)",
        "df.describe()",
    ]


def test_refactor_cli_needs_a_provider(tmp_path):
    done = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "cursor", "refactor", "x.ipynb", "-i", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "no such notebook" in done.stderr


async def test_the_server_answers_while_a_large_refactor_is_checked(jp_ws_fetch, llm):
    """3,000 cells that each read a name defined nowhere: merging and checking them takes seconds
    of CPU, which used to hold the event loop (a status request waited for all of it)."""
    cells = [
        {"id": f"c{i}", "cell_type": "code", "source": f"v{i} = undefined_{i} + 1\nprint(v{i})"}
        for i in range(3000)
    ]
    llm.script({"text": "```python\n# cell: c0\nv0 = defined_nowhere + 2\nprint(v0)\n```"})
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    ws.write_message(
        json.dumps(
            {
                "type": "refactor",
                "id": "big",
                "path": "nb.ipynb",
                "cells": cells,
                "instruction": "use defined_nowhere in the first cell",
            }
        )
    )
    order, diff, asked = [], None, False
    while diff is None:
        reply = json.loads(await ws.read_message())
        if reply.get("id") == "big" and reply["type"] == "partial" and not asked:
            # the answer streams; the merge and the checks come next: ask for the status now
            ws.write_message(json.dumps({"type": "status", "id": "st"}))
            asked = True
        if reply.get("id") in ("big", "st") and reply["type"] != "partial":
            order.append(reply["id"])
            if reply["id"] == "big":
                assert reply["type"] == "result", reply
                diff = reply["result"]
    assert order == ["st", "big"]
    assert diff["cells"][0]["source"] == "v0 = defined_nowhere + 2\nprint(v0)"
    assert [(w["code"], w["cell_id"], w["message"]) for w in diff["warnings"]] == [
        (
            "undefined_name",
            "c0",
            "Cell 1, line 1: 'defined_nowhere' is used but no longer defined above it",
        )
    ]
    ws.close()
