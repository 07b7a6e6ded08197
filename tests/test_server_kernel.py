"""The live kernel through the server (issue 20): a notebook's session kernel is found from the
request's path; its DataFrame's columns complete, its names count, a failed cell gets a fix, and
the chat sends its variables as a context item the user can remove. The user's namespace is the
same after as before."""

import asyncio
import json

import pytest
from jupyter_client.asynchronous import AsyncKernelClient
from server_support import provider_config
from test_nextedit_faces import ask
from test_server_chat import exchange

pytest.importorskip("pandas")

SALES = "import pandas as pd\nsales = pd.DataFrame({'revenue': [1.0, 2.0], 'region': ['n', 's']})"


@pytest.fixture
def jp_server_config(llm):
    return provider_config(llm)


async def start_notebook_kernel(serverapp, path: str):
    session = await serverapp.session_manager.create_session(
        path=path, kernel_name="python3", type="notebook"
    )
    kernel = serverapp.kernel_manager.get_kernel(session["kernel"]["id"])
    client = AsyncKernelClient()
    client.load_connection_info({**kernel.get_connection_info(), "key": kernel.session.key})
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    return client


async def user_names(client) -> list[str]:
    reply = await client.execute_interactive(
        "", silent=True, store_history=False, user_expressions={"n": "sorted(dir())"}, timeout=30
    )
    return reply["content"]["user_expressions"]["n"]["data"]["text/plain"]


def request(source: str, offset: int | None = None, **extra) -> dict:
    return {
        "path": "sales.ipynb",
        "cells": [{"id": "c1", "cell_type": "code", "source": source}],
        "cursor": {"cell_id": "c1", "offset": len(source) if offset is None else offset},
        "language": "python",
        **extra,
    }


async def test_the_kernel_completes_columns_and_fixes_a_failed_cell(jp_serverapp, jp_ws_fetch):
    client = await start_notebook_kernel(jp_serverapp, "sales.ipynb")
    try:
        await client.execute_interactive(SALES, timeout=60)
        before = await user_names(client)
        ws = await jp_ws_fetch("jupyter-cursor", "ws")
        result = None
        for attempt in range(40):  # the first request starts watching the kernel
            _, reply = await ask(ws, f"k{attempt}", request('total = sales["rev'))
            result = reply["result"]
            if result["edits"]:
                break
            await asyncio.sleep(0.1)
        assert result["predictor"] == "kernel"
        assert result["edits"] == [{"cell_id": "c1", "source": 'total = sales["revenue"]'}]

        # The import of a conventional name the cell lacks, as the fix of its NameError.
        error = {
            "ename": "NameError",
            "evalue": "name 'np' is not defined",
            "traceback": ["\x1b[0;31mNameError\x1b[0m: name 'np' is not defined"],
        }
        _, reply = await ask(ws, "f1", request("x = np.log(sales.revenue)", 0, error=error))
        assert reply["result"]["predictor"] == "fix"
        assert reply["result"]["edits"][0]["source"] == (
            "import numpy as np\nx = np.log(sales.revenue)"
        )
        # A KeyError of a near-miss column: the column the kernel's frame has.
        error = {"ename": "KeyError", "evalue": "'regoin'", "traceback": []}
        _, reply = await ask(ws, "f2", request("sales['regoin'].unique()", 0, error=error))
        assert reply["result"]["edits"][0]["source"] == "sales['region'].unique()"
        # An oversized traceback is refused as a bad message, not served.
        huge = {"ename": "E", "evalue": "x", "traceback": ["x"] * 201}
        _, reply = await ask(ws, "f3", request("x", 0, error=huge))
        assert reply["type"] == "error"
        ws.close()
        assert await user_names(client) == before
    finally:
        client.stop_channels()


async def chat(ws, llm, qid: str, **fields) -> tuple[dict, str]:
    """One chat turn about sales.ipynb: its context event, and the prompt the fake model got."""
    message = {
        "type": "chat",
        "id": qid,
        "path": "sales.ipynb",
        "message": "Plot revenue by region",
        "cells": [{"id": "c1", "cell_type": "code", "source": "sales.head()"}],
        **fields,
    }
    replies = await exchange(ws, message, qid)
    assert replies[-1]["type"] == "result", replies[-1]
    (context,) = [r["data"] for r in replies if r.get("data", {}).get("type") == "context"]
    return context, json.dumps(llm.requests[-1]["json"]["messages"])


async def test_the_chat_sends_the_kernel_variables_unless_removed(jp_serverapp, jp_ws_fetch, llm):
    client = await start_notebook_kernel(jp_serverapp, "sales.ipynb")
    try:
        await client.execute_interactive(SALES, timeout=60)
        before = await user_names(client)
        ws = await jp_ws_fetch("jupyter-cursor", "ws")
        for attempt in range(40):  # the first turn starts watching the kernel: no wait for it
            context, prompt = await chat(ws, llm, f"q{attempt}")
            if "variables" in [item["kind"] for item in context["sent"]]:
                break
            await asyncio.sleep(0.1)
        item = next(i for i in context["sent"] if i["kind"] == "variables")
        assert item["label"] == "Kernel variables"
        assert "sales: DataFrame (2, 2) columns: revenue float64, region " in prompt  # str, object
        assert "<kernel_variables>" in prompt

        # Removed by the user: not sent, listed as removed; the rest of the context is sent.
        context, prompt = await chat(ws, llm, "r1", exclude=["variables"])
        assert "variables" not in [i["kind"] for i in context["sent"]]
        assert {"kind": "variables", "label": "Kernel variables", "reason": "removed"} in context[
            "dropped"
        ]
        assert "<kernel_variables>" not in prompt and "sales.head()" in prompt
        # A kind the user cannot remove is refused.
        reply = (
            await exchange(
                ws,
                {
                    "type": "chat",
                    "id": "r2",
                    "path": "sales.ipynb",
                    "message": "hi",
                    "cells": [],
                    "exclude": ["selection"],
                },
                "r2",
            )
        )[-1]
        assert reply["type"] == "error"
        ws.close()
        assert await user_names(client) == before
    finally:
        client.stop_channels()


async def test_kernel_context_off_never_asks_the_kernel(jp_serverapp, jp_ws_fetch, llm):
    # CursorApp.kernel_context=False, as the app reads it into its KernelContext
    jp_serverapp.web_app.settings["jupyter_cursor"].kernel.enabled = False
    client = await start_notebook_kernel(jp_serverapp, "sales.ipynb")
    try:
        await client.execute_interactive(
            "import pandas as pd\nsales = pd.DataFrame({'revenue': [1.0]})", timeout=60
        )
        ws = await jp_ws_fetch("jupyter-cursor", "ws")
        for attempt in range(20):
            _, reply = await ask(ws, f"k{attempt}", request('total = sales["rev'))
            assert reply["result"]["edits"] == []
            await asyncio.sleep(0.1)
        context, prompt = await chat(ws, llm, "q")
        assert "variables" not in [i["kind"] for i in context["sent"] + context["dropped"]]
        assert "<kernel_variables>" not in prompt
        ws.close()
    finally:
        client.stop_channels()
