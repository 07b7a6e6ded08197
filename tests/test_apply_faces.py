"""Apply through its faces: the CLI (single and batch, --write keeps ids, outputs, metadata), the
server (REST and websocket), and the model fallback through the model runtime."""

import asyncio
import json

import nbformat
import pytest
import tornado.httpclient
from notebook_support import make_notebook

from jupyter_cursor.apply.fallback import ModelFallback, parse_rewrite
from jupyter_cursor.apply.protocol import run_apply_async
from jupyter_cursor.cli import main
from jupyter_cursor.engine import GenerationChunk, Priority, create_runtime
from jupyter_cursor.engine.testing import build_random_model, cpu_config

SUGGESTION = (
    "```python\n<<<<<<< SEARCH\ntotal = 1\n=======\ntotal = 2\n>>>>>>> REPLACE\n```\n\n"
    "Add a new cell after the cell that starts with `total = 1`:\n\n```python\nprint(total)\n```\n"
)


@pytest.fixture
def notebook(tmp_path):
    (tmp_path / "s.md").write_text(SUGGESTION)
    return make_notebook(tmp_path / "nb.ipynb")


def test_cli_apply_prints_without_writing(notebook, capsys):
    before = notebook.read_text()
    assert (
        main(["apply", str(notebook), "--suggestion", str(notebook.parent / "s.md"), "--json"]) == 0
    )
    diff = json.loads(capsys.readouterr().out)
    assert [c["source"] for c in diff["cells"]] == ["total = 2", "print(total)", "untouched = True"]
    assert notebook.read_text() == before


def test_cli_apply_write_keeps_ids_outputs_and_metadata(notebook, capsys):
    assert (
        main(["apply", str(notebook), "--suggestion", str(notebook.parent / "s.md"), "--write"])
        == 0
    )
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
        {
            "id": "one",
            "cells": [{"id": "a", "cell_type": "code", "source": "total = 1"}],
            "suggestion": SUGGESTION,
            "style": "ignored",
        },
        {"id": "two", "cells": "not a list", "suggestion": ""},
        {"id": "three", "cells": [], "suggestion": "```python\nx = 1\n```"},
        {"id": "four", "cells": [], "suggestion": "s" * 1_000_001},
        {
            "id": "five",
            "cells": [{"id": "a", "cell_type": "code", "source": "\ud800"}],
            "suggestion": "",
        },
    ]
    src = tmp_path / "in.jsonl"
    text = [json.dumps(line) for line in lines]
    text[1:1] = ['{"id": "broken", "cells": [', "[1, 2]"]  # lines 2 and 3: no JSON object
    src.write_text("\n".join(text))
    out = tmp_path / "out.jsonl"
    assert main(["apply", "--batch", str(src), "--out", str(out)]) == 0
    first, bad_json, not_object, second, third, fourth, fifth = [
        json.loads(line) for line in out.read_text().splitlines()
    ]
    assert first["id"] == "one" and set(first) == {"id", "cells", "ops", "warnings"}
    assert first["cells"][0]["source"] == "total = 2"
    # a line that is no JSON object is an error for that line (by its number), and the batch goes on
    assert bad_json["id"] == 2 and "not valid JSON" in bad_json["error"]
    assert not_object["id"] == 3 and "must be a JSON object" in not_object["error"]
    assert second["id"] == "two" and "error" in second
    # no cells: a request built wrong (a notebook always has a cell, a file is one)
    assert third["id"] == "three" and "cells is empty" in third["error"]
    # the websocket's and REST's limits, field by field; the batch goes on after each
    assert "line.suggestion is longer than 1000000 characters" in fourth["error"]
    assert "line.cells[0].source is not valid Unicode" in fifth["error"]


def test_cli_apply_bad_input(tmp_path, capsys):
    assert main(["apply", str(tmp_path / "missing.ipynb"), "--suggestion", "x.md"]) == 2
    assert main(["apply"]) == 2
    assert "give NOTEBOOK" in capsys.readouterr().err


async def test_rest_apply(jp_fetch):
    body = {
        "cells": [{"id": "a", "cell_type": "code", "source": "total = 1"}],
        "suggestion": SUGGESTION,
    }
    response = await jp_fetch("jupyter-cursor", "apply", method="POST", body=json.dumps(body))
    diff = json.loads(response.body)
    assert [op["op"] for op in diff["ops"]] == ["modify", "insert"]


async def test_rest_apply_refuses_a_block_for_another_file_than_its_path(jp_fetch):
    body = {
        "cells": [{"id": "a", "cell_type": "code", "source": "total = 1"}],
        "suggestion": "Here is the updated `setup.py`:\n\n```python\ntotal = 2\n```",
        "path": "work/analysis.ipynb",
    }
    response = await jp_fetch("jupyter-cursor", "apply", method="POST", body=json.dumps(body))
    diff = json.loads(response.body)
    assert diff["ops"] == [] and [w["code"] for w in diff["warnings"]] == ["other_file"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"cells": [], "suggestion": 3}, "suggestion must be a string"),
        ({"suggestion": "x"}, "cells is required"),
        ({"cells": [{"id": "a", "cell_type": "sql", "source": ""}], "suggestion": ""}, "cell_type"),
        (
            {"cells": [{"id": "a", "cell_type": "code", "source": ""}] * 2, "suggestion": ""},
            "unique",
        ),
        (
            {"cells": [{"id": "a", "cell_type": "code", "source": "\udfff"}], "suggestion": ""},
            "not valid Unicode",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested more than"),
    ],
)
async def test_rest_apply_rejects_bad_bodies(jp_fetch, body, message):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch(
            "jupyter-cursor",
            "apply",
            method="POST",
            body=body if isinstance(body, str) else json.dumps(body),
        )
    assert info.value.code == 400
    assert message in json.loads(info.value.response.body)["message"]


async def test_websocket_apply(jp_ws_fetch):
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    ws.write_message(
        json.dumps(
            {
                "type": "apply",
                "id": "ap",
                "suggestion": SUGGESTION,
                "cells": [{"id": "a", "cell_type": "code", "source": "total = 1"}],
            }
        )
    )
    while True:
        reply = json.loads(await ws.read_message())
        if reply.get("id") == "ap":
            break
    assert reply["type"] == "result"
    assert reply["result"]["cells"][0]["source"] == "total = 2"
    ws.close()


# -- the model fallback ------------------------------------------------------------------------------

# One cell, so the target is known; `zzz = ...` matches no line of it, so the merge refuses.
FALLBACK_CELLS = [{"id": "a", "cell_type": "code", "source": "x = 1\ny = 2\nprint(x + y)"}]
REFUSED = "```python\n# ... existing code ...\nzzz = totally_new(x)\n# ... existing code ...\n```"


class RecordingRuntime:
    """A runtime that records each request and the final chunk of the runtime it wraps."""

    def __init__(self, inner):
        self.inner = inner
        self.requests = []
        self.finals = []

    async def generate(self, request):
        self.requests.append(request)
        async for chunk in self.inner.generate(request):
            if chunk.done:
                self.finals.append(chunk)
            yield chunk


class ScriptedRuntime:
    def __init__(self, text, reason):
        self.text, self.reason = text, reason

    async def generate(self, request):
        yield GenerationChunk(text=self.text, delta=self.text, done=True, finish_reason=self.reason)


def run_with_fallback(runtime):
    return asyncio.run(run_apply_async(FALLBACK_CELLS, REFUSED, ModelFallback(runtime)))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_random_model(tmp_path_factory.mktemp("models") / "tiny")


def test_fallback_asks_a_tiny_random_model_and_parses_its_answer(tiny_model):
    config = cpu_config(tiny_model, max_new_tokens=24)

    async def main():
        runtime = RecordingRuntime(create_runtime(config))
        runtime.inner.start()
        try:
            return runtime, await run_apply_async(FALLBACK_CELLS, REFUSED, ModelFallback(runtime))
        finally:
            runtime.inner.close()

    runtime, diff = asyncio.run(main())
    (request,) = runtime.requests
    assert (
        FALLBACK_CELLS[0]["source"] in request.prompt and "zzz = totally_new(x)" in request.prompt
    )
    assert request.priority == Priority.APPLY and "```" in request.stop
    (final,) = runtime.finals
    parsed = parse_rewrite(final.text, final.finish_reason)
    if parsed is None:  # random weights: almost surely no closed fence, so the refusal stands
        assert diff["cells"] == FALLBACK_CELLS and diff["ops"] == []
        assert [w["code"] for w in diff["warnings"]] == ["not_merged"]
    else:
        assert diff["cells"][0]["source"] == parsed


def test_fallback_rewrite_replaces_the_refused_cell_and_is_flagged():
    diff = run_with_fallback(
        ScriptedRuntime("x = 1\nzzz = totally_new(x)\ny = 2\nprint(x + y)\n", "stop")
    )
    assert diff["cells"][0]["source"] == "x = 1\nzzz = totally_new(x)\ny = 2\nprint(x + y)"
    assert [(w["code"], w["cell_id"]) for w in diff["warnings"]] == [("model_rewrite", "a")]


@pytest.mark.parametrize(
    "text, reason",
    [
        ("x = 1\nzzz = totally_new(x)\ny = 2", "length"),  # cut off by the token limit
        ("x = 1\nzzz = totally_new(x)\n# ... existing code ...\n", "stop"),  # kept a marker
        ("\n", "stop"),  # nothing
    ],
)
def test_malformed_fallback_answer_leaves_the_refusal_and_the_cell(text, reason):
    diff = run_with_fallback(ScriptedRuntime(text, reason))
    assert diff["cells"] == FALLBACK_CELLS and diff["ops"] == []
    assert [w["code"] for w in diff["warnings"]] == ["not_merged"]
    assert "nor did the model fallback" in diff["warnings"][0]["message"]


def test_parse_rewrite_takes_a_rejoined_answer_without_its_fence():
    assert parse_rewrite("x = 2\ny = 2\n```", "rejoined") == "x = 2\ny = 2"


@pytest.fixture
def fallback_server_config(jp_server_config):
    # No model configured: the fallback is asked, the runtime cannot answer, the refusal stands.
    jp_server_config["CursorApp"]["apply_model_fallback"] = True
    return jp_server_config


async def test_rest_apply_with_the_fallback_on_and_no_model(fallback_server_config, jp_fetch):
    body = {"cells": FALLBACK_CELLS, "suggestion": REFUSED}
    response = await jp_fetch("jupyter-cursor", "apply", method="POST", body=json.dumps(body))
    diff = json.loads(response.body)
    assert diff["cells"] == FALLBACK_CELLS
    assert "nor did the model fallback" in diff["warnings"][0]["message"]


def test_an_answer_that_deletes_every_cell_gets_its_block_as_the_first_cell():
    from jupyter_cursor.apply.protocol import run_apply

    cells = [{"id": "a", "cell_type": "code", "source": "x = 1"}]
    answer = "Delete the cell that starts with `x = 1`.\n\n```python\nimport pandas as pd\n```\n"
    diff = run_apply(cells, answer)
    assert [(c["cell_type"], c["source"]) for c in diff["cells"]] == [
        ("code", "import pandas as pd")
    ]
    assert sorted(op["op"] for op in diff["ops"]) == ["delete", "insert"]
    lazy = run_apply(cells, answer.replace("import", "# ... existing code ...\nimport"))
    assert lazy["cells"] == [] and [w["code"] for w in lazy["warnings"]] == ["not_found"]
