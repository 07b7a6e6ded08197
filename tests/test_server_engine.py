"""The model runtime inside the server: its state in the status, the remote backend, and the
local chat provider answering through it."""

import asyncio
import json

import pytest
from completions_server import KEY, CompletionsServer

from jupyter_cursor.engine.testing import build_random_model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_random_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="module")
def completions():
    server = CompletionsServer(["x = ", "1\n"])
    yield server
    server.close()


@pytest.fixture
def engine_config(request, tmp_path):
    """The CursorApp settings of the case named by the test's ``engine`` parameter."""
    case = request.param
    if case == "none":
        return {"engine_model": ""}
    if case == "local":
        model = request.getfixturevalue("tiny_model")
        return {
            "engine_model": str(model),
            "engine_quantization": "none",
            "engine_dtype": "float32",
            "engine_max_new_tokens": 8,
            "providers": [{"name": "mine", "kind": "local"}],
        }
    if case == "broken":
        (tmp_path / "broken").mkdir()
        (tmp_path / "broken" / "config.json").write_text("{not json")
        return {"engine_model": str(tmp_path / "broken")}
    if case == "remote":
        server = request.getfixturevalue("completions")
        return {
            "engine_backend": "remote",
            "engine_remote_url": server.url,
            "engine_remote_model": server.model,
            "engine_remote_api_key": KEY,
        }
    raise ValueError(case)


def case(name):
    return pytest.mark.parametrize("engine_config", [name], indirect=True)


@pytest.fixture
def jp_server_config(engine_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_cursor": True},
            "allow_unauthenticated_access": False,
        },
        "CursorApp": {"index_embeddings": False, "engine_cpu_threads": 1, **engine_config},
    }


async def model_status(jp_fetch, until=("ready", "error"), timeout=60.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        body = json.loads((await jp_fetch("jupyter-cursor", "status")).body)
        model = body["services"]["model"]
        if model["state"] in until or loop.time() > deadline:
            return model, body
        await asyncio.sleep(0.1)


async def exchange(ws, message):
    ws.write_message(json.dumps(message))
    replies = []
    while True:
        reply = json.loads(await ws.read_message())
        if reply.get("id") == message["id"]:
            replies.append(reply)
            if reply["type"] != "partial":
                return replies


@case("none")
async def test_no_model_configured_is_said_plainly(jp_fetch):
    model, _ = await model_status(jp_fetch, until=("not_configured",), timeout=5)
    assert model["state"] == "not_configured"


@case("local")
async def test_local_model_loads_and_reports_device_dtype_memory_and_load_time(
    jp_fetch, jp_ws_fetch
):
    model, _ = await model_status(jp_fetch)
    assert model["state"] == "ready", model
    assert model["device"] == "cpu" and model["dtype"] == "float32"
    assert model["memory_bytes"] > 0 and model["load_time_s"] > 0
    assert "cpu float32" in model["message"] and "loaded in" in model["message"]  # the tooltip

    # The chat provider of kind "local" streams from the same runtime.
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    replies = await exchange(
        ws,
        {
            "type": "chat",
            "id": "c",
            "path": "nb.ipynb",
            "message": "hello",
            "cells": [],
            "provider": "mine",
        },
    )
    ws.close()
    assert replies[-1]["type"] == "result", replies[-1]
    deltas = [r["data"] for r in replies if r["type"] == "partial" and r["data"]["type"] == "delta"]
    assert deltas, "the local model streamed nothing"


@case("broken")
async def test_a_model_that_cannot_load_is_an_error_state_not_a_dead_server(jp_fetch):
    model, body = await model_status(jp_fetch)
    assert model["state"] == "error" and model["message"]
    assert body["services"]["apply"]["state"] == "ready"  # the rest of the server still serves


@case("remote")
async def test_remote_backend_is_ready_and_its_key_never_shown(jp_fetch):
    model, body = await model_status(jp_fetch)
    assert model["state"] == "ready", model
    assert KEY not in json.dumps(body)


def test_a_real_jupyter_lab_reaches_the_remote_server(tmp_path, completions):
    """`jupyter lab` sets up its handlers before its event loop runs (pytest-jupyter does not):
    the runtime must still start, probe the server and become ready."""
    import time

    from lab_server import start_lab_server

    server = start_lab_server(
        tmp_path,
        config={
            "CursorApp": {
                "index_enabled": False,
                "engine_backend": "remote",
                "engine_remote_url": completions.url,
                "engine_remote_model": completions.model,
                "engine_remote_api_key": KEY,
            }
        },
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            model = server.api("jupyter-cursor/status")["services"]["model"]
            if model["state"] == "ready" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        server.stop()
    assert model["state"] == "ready", model


def test_the_shipped_model_is_the_default_only_once_it_beats_the_rules(monkeypatch):
    from jupyter_cursor import models
    from jupyter_cursor.app import CursorApp

    monkeypatch.setattr(models, "SHIPPED_MODEL_IS_DEFAULT", False)
    assert CursorApp().engine_config().model == ""
    monkeypatch.setattr(models, "SHIPPED_MODEL_IS_DEFAULT", True)
    assert CursorApp().engine_config().model == str(models.shipped_model_path())
    assert CursorApp(engine_model="").engine_config().model == ""  # '' still turns it off


@pytest.mark.parametrize("backend", ["local", "remote"])
def test_a_configured_runtime_not_started_yet_is_starting_not_unconfigured(backend):
    from jupyter_cursor import services as svc
    from jupyter_cursor.app import model_service_state
    from jupyter_cursor.engine import EngineConfig, create_runtime

    configured = create_runtime(
        EngineConfig(backend=backend, model="some/model", remote_url="http://127.0.0.1:9/v1")
    )
    assert configured.status()["state"] == "stopped"
    assert model_service_state(configured.status()) == svc.STARTING
    unconfigured = create_runtime(EngineConfig(backend=backend, model="", remote_url=""))
    assert model_service_state(unconfigured.status()) == svc.NOT_CONFIGURED
