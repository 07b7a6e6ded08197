"""Which source completes at the cursor: the embedded default, a fill-in-the-middle model (served
or local), or nothing; and the next-edit ensemble asking it."""

import asyncio

import pytest
import test_engine_remote
from completions_server import KEY

from jupyter_cursor.completion.source import Completer
from jupyter_cursor.engine import EngineConfig, RuntimeState, create_runtime
from jupyter_cursor.engine.testing import build_random_model, cpu_config
from jupyter_cursor.nextedit.service import NextEditService

serve = test_engine_remote.serve  # the fixture: a completions server per test

LOAD = "df = pd.read_csv('sales.csv')"
REQUEST = {
    "path": "report.ipynb",
    "cells": [
        {"id": "a", "cell_type": "code", "source": f"import pandas as pd\n{LOAD}\n"},
        {"id": "b", "cell_type": "markdown", "source": "Again, for the other year:"},
        {"id": "c", "cell_type": "code", "source": "df = pd.re"},
    ],
    "cursor": {"cell_id": "c", "offset": len("df = pd.re")},
    "events": [{"cell_id": "c", "before": "df = pd.r", "after": "df = pd.re"}],
}


def test_the_default_completes_a_line_an_earlier_cell_began():
    answer = asyncio.run(Completer("default").complete(REQUEST))
    assert answer["predictor"] == "complete"
    assert answer["edits"] == [{"cell_id": "c", "source": LOAD}]
    assert Completer("default").describe()[0] == "ready"


def test_off_completes_nothing_and_says_so():
    assert asyncio.run(Completer("off").complete(REQUEST)) is None
    assert Completer("off").describe() == ("not_configured", "off")


def test_an_unknown_fim_family_is_a_clear_error():
    with pytest.raises(ValueError, match="completion_fim_format.*known: qwen2.5-coder"):
        Completer("fim", fim_format="gpt-99")


def remote(server):
    return create_runtime(
        EngineConfig(
            backend="remote", remote_url=server.url, remote_model=server.model, remote_api_key=KEY
        )
    )


async def ready(runtime):
    """The runtime started on this loop and ready (a served one is, once the loop turns)."""
    runtime.start()
    while runtime.status()["state"] != RuntimeState.READY:
        assert runtime.status()["state"] != RuntimeState.ERROR, runtime.status()
        await asyncio.sleep(0.02)
    return runtime


def test_a_served_fim_model_gets_its_familys_prompt_and_its_middle_is_trimmed(serve):
    # the model writes the rest of the line, then a line of the next cell (the suffix): cut there
    server = serve(["ad_csv('sales", "_2025.csv')\n", "print(df)\n"])
    completer = Completer("fim", remote(server), fim_format="qwen2.5-coder")

    async def main():
        await ready(completer.runtime)
        return await completer.complete(REQUEST)

    answer = asyncio.run(main())
    assert answer["predictor"] == "fim"
    assert answer["edits"] == [{"cell_id": "c", "source": "df = pd.read_csv('sales_2025.csv')"}]
    prompt = server.requests[-1]["json"]["prompt"]
    assert prompt.startswith("<|fim_prefix|># %%\nimport pandas as pd\n")
    assert prompt.endswith("df = pd.re<|fim_suffix|>\n\n<|fim_middle|>")  # the cell's end
    assert "<|endoftext|>" in server.requests[-1]["json"]["stop"]
    assert completer.describe()[1] == "fill-in-the-middle: tiny (qwen2.5-coder)"


def test_nothing_is_asked_in_a_markdown_cell(serve):
    """Prose is not completed as code: no source answers there, a served model is not asked."""
    server = serve(["ad_csv('x.csv')"])
    runtime = remote(server)
    in_markdown = {**REQUEST, "cursor": {"cell_id": "b", "offset": len("Again, for")}}
    completers = [Completer("default"), Completer("fim", runtime, "qwen2.5-coder")]

    async def main():
        await ready(runtime)
        answers = [await completer.complete(in_markdown) for completer in completers]
        return answers, await completers[1].complete(REQUEST)

    answers, in_code = asyncio.run(main())
    runtime.close()
    assert answers == [None, None]
    assert in_code["predictor"] == "fim"  # the same completer, in a code cell
    assert [r["path"] for r in server.requests] == ["/v1/completions"]


def test_a_model_that_completes_predicts_no_next_edits(serve):
    server = serve(["ad_csv('x.csv')"])
    runtime = remote(server)

    class NoNextEdits:
        def available(self):
            raise AssertionError("the next-edit model is not asked when the model completes")

    service = NextEditService(NoNextEdits(), completer=Completer("fim", runtime, "qwen2.5-coder"))

    async def main():
        await ready(runtime)
        return await service.predict(REQUEST)

    answer = asyncio.run(main())
    assert answer["predictor"] == "fim"
    assert answer["edits"][0]["source"] == "df = pd.read_csv('x.csv')"


def test_a_local_model_s_fim_family_is_read_from_its_tokenizer(tmp_path):
    qwen = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>")
    path = build_random_model(tmp_path / "fim", special_tokens=qwen)
    runtime = create_runtime(cpu_config(path, max_new_tokens=16))

    async def main():
        await ready(runtime)
        completer = Completer("fim", runtime)
        return completer, await completer.complete(REQUEST)

    try:
        completer, answer = asyncio.run(main())
    finally:
        runtime.close()
    assert completer.fim().name == "qwen2.5-coder"
    # random weights write anything; what is shown is an insertion at the cursor, or nothing
    if answer is not None:
        (edit,) = answer["edits"]
        assert edit["cell_id"] == "c" and edit["source"].startswith("df = pd.re")
