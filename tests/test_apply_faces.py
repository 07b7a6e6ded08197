"""Apply through its faces: the CLI (single and batch, --write keeps ids, outputs, metadata) and the
server (REST and websocket)."""

import json

import nbformat
import pytest
import tornado.httpclient

from jupyter_cursor.cli import main

SUGGESTION = (
    "```python\n<<<<<<< SEARCH\ntotal = 1\n=======\ntotal = 2\n>>>>>>> REPLACE\n```\n\n"
    "Add a new cell after the cell that starts with `total = 1`:\n\n```python\nprint(total)\n```\n"
)


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook(metadata={"custom": {"keep": True}})
    first = nbformat.v4.new_code_cell("total = 1", id="first")
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old\n")]
    other = nbformat.v4.new_code_cell("untouched = True", id="other")
    other.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=3)]
    other.execution_count = 3
    nb.cells = [first, other]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    (tmp_path / "s.md").write_text(SUGGESTION)
    return path


def test_cli_apply_prints_without_writing(notebook, capsys):
    before = notebook.read_text()
    assert main(["apply", str(notebook), "--suggestion", str(notebook.parent / "s.md"), "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert [c["source"] for c in diff["cells"]] == ["total = 2", "print(total)", "untouched = True"]
    assert notebook.read_text() == before


def test_cli_apply_write_keeps_ids_outputs_and_metadata(notebook, capsys):
    assert main(["apply", str(notebook), "--suggestion", str(notebook.parent / "s.md"), "--write"]) == 0
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    assert [c.source for c in nb.cells] == ["total = 2", "print(total)", "untouched = True"]
    assert nb.cells[0].id == "first" and nb.cells[2].id == "other"
    assert nb.cells[2].outputs[0]["data"]["text/plain"] == "42"
    assert nb.cells[2].execution_count == 3
    assert nb.metadata["custom"] == {"keep": True}
    assert [p.name for p in notebook.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_cli_apply_batch(tmp_path):
    lines = [
        {"id": "one", "cells": [{"id": "a", "cell_type": "code", "source": "total = 1"}],
         "suggestion": SUGGESTION, "style": "ignored"},
        {"id": "two", "cells": "not a list", "suggestion": ""},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(line) for line in lines))
    out = tmp_path / "out.jsonl"
    assert main(["apply", "--batch", str(src), "--out", str(out)]) == 0
    first, second = [json.loads(line) for line in out.read_text().splitlines()]
    assert first["id"] == "one" and set(first) == {"id", "cells", "ops", "warnings"}
    assert first["cells"][0]["source"] == "total = 2"
    assert second["id"] == "two" and "error" in second


def test_cli_apply_bad_input(tmp_path, capsys):
    assert main(["apply", str(tmp_path / "missing.ipynb"), "--suggestion", "x.md"]) == 2
    assert main(["apply"]) == 2
    assert "give NOTEBOOK" in capsys.readouterr().err


async def test_rest_apply(jp_fetch):
    body = {"cells": [{"id": "a", "cell_type": "code", "source": "total = 1"}], "suggestion": SUGGESTION}
    response = await jp_fetch("jupyter-cursor", "apply", method="POST", body=json.dumps(body))
    diff = json.loads(response.body)
    assert [op["op"] for op in diff["ops"]] == ["modify", "insert"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"cells": [], "suggestion": 3}, "suggestion must be a string"),
        ({"suggestion": "x"}, "cells is required"),
        ({"cells": [{"id": "a", "cell_type": "sql", "source": ""}], "suggestion": ""}, "cell_type"),
        ({"cells": [{"id": "a", "cell_type": "code", "source": ""}] * 2, "suggestion": ""}, "unique"),
    ],
)
async def test_rest_apply_rejects_bad_bodies(jp_fetch, body, message):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("jupyter-cursor", "apply", method="POST", body=json.dumps(body))
    assert info.value.code == 400
    assert message in json.loads(info.value.response.body)["message"]


async def test_websocket_apply(jp_ws_fetch):
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    ws.write_message(json.dumps({
        "type": "apply", "id": "ap", "suggestion": SUGGESTION,
        "cells": [{"id": "a", "cell_type": "code", "source": "total = 1"}],
    }))
    while True:
        reply = json.loads(await ws.read_message())
        if reply.get("id") == "ap":
            break
    assert reply["type"] == "result"
    assert reply["result"]["cells"][0]["source"] == "total = 2"
    ws.close()
