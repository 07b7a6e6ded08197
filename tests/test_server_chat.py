"""Chat through the real server: providers from configuration, streaming, history, no key leaks."""

import json

import pytest
from server_support import provider_config

SECRET = "sk-test-0123456789-must-never-leak"
LLM_API_KEY = SECRET  # what the fake LLM server (conftest's `llm`) asks for


@pytest.fixture
def jp_server_config(llm, monkeypatch):
    monkeypatch.setenv("FAKE_LLM_KEY", SECRET)
    return provider_config(llm, api_key_env="FAKE_LLM_KEY")


async def exchange(ws, message, until_id):
    ws.write_message(json.dumps(message))
    replies = []
    while True:
        reply = json.loads(await ws.read_message())
        if reply.get("id") == until_id:
            replies.append(reply)
            if reply["type"] != "partial":
                return replies


CELLS = [{"id": "a1", "cell_type": "code", "source": "df = load()"}]


async def test_chat_streams_and_is_remembered(jp_ws_fetch, jp_fetch, llm):
    llm.script({"text": "Use df.describe() to summarise it."})
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    replies = await exchange(
        ws,
        {
            "type": "chat",
            "id": "q1",
            "path": "nb.ipynb",
            "message": "How do I summarise df?",
            "cells": CELLS,
        },
        "q1",
    )
    partials = [r["data"] for r in replies if r["type"] == "partial"]
    assert partials[0]["type"] == "context"
    assert any(item["kind"] == "notebook" for item in partials[0]["sent"])
    text = "".join(p["text"] for p in partials if p["type"] == "delta")
    assert text == "Use df.describe() to summarise it."
    done = replies[-1]
    assert done["type"] == "result"
    session = done["result"]["session_id"]

    # the model saw the notebook cell with its id
    sent = json.dumps(llm.requests[-1]["json"]["messages"])
    assert "a1" in sent and "df = load()" in sent

    history = (await exchange(ws, {"type": "chat_history", "id": "h", "session_id": session}, "h"))[
        -1
    ]
    assert [m["role"] for m in history["result"]["messages"]] == ["user", "assistant"]
    ws.close()


async def test_provider_list_and_status_never_carry_the_key(jp_ws_fetch, jp_fetch):
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    info = (await exchange(ws, {"type": "chat_providers", "id": "p"}, "p"))[-1]["result"]
    assert info["providers"][0]["name"] == "fake"
    assert info["providers"][0]["key"] == "set"
    status = (await jp_fetch("jupyter-cursor", "status")).body.decode()
    assert SECRET not in json.dumps(info) and SECRET not in status
    assert json.loads(status)["services"]["chat"]["state"] == "ready"
    ws.close()


async def test_provider_errors_reach_the_client_as_error_replies(jp_ws_fetch, llm):
    llm.script({"status": 404, "code": "model_not_found", "message": "no such model"})
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    reply = (
        await exchange(
            ws,
            {"type": "chat", "id": "e", "path": "nb.ipynb", "message": "hi", "cells": CELLS},
            "e",
        )
    )[-1]
    assert reply["type"] == "error" and reply["error"]["code"] == "bad_model"
    assert SECRET not in json.dumps(reply)
    ws.close()
