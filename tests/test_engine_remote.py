"""The remote backend against a small local server that speaks the OpenAI completions protocol."""

import asyncio
import contextlib
import json
import socket
import time

import pytest
from completions_server import KEY, CompletionsServer

from jupyter_cursor.engine import EngineConfig, EngineError, GenerationRequest, create_runtime


@pytest.fixture
def serve():
    servers = []

    def make(pieces, delay=0.0):
        servers.append(CompletionsServer(pieces, delay))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def config(url, **kw):
    return EngineConfig(
        backend="remote", remote_url=url, remote_model="tiny", remote_api_key=KEY, **kw
    )


async def ready(runtime):
    runtime.start()
    while runtime.status()["state"] == "loading":
        await asyncio.sleep(0.01)
    return runtime.status()


async def collect(runtime, request):
    return [chunk async for chunk in runtime.generate(request)]


def test_streams_completions_and_keeps_the_key_out_of_the_status(serve):
    server = serve(["def ", "f(x", "):\n", "    return x\n"])

    async def main():
        runtime = create_runtime(config(server.url))
        status = await ready(runtime)
        chunks = await collect(
            runtime, GenerationRequest("# f\n", max_new_tokens=50, stop=["\n\n"])
        )
        runtime.close()
        return status, chunks

    status, chunks = asyncio.run(main())
    assert (
        status["state"] == "ready"
        and KEY not in json.dumps(status)
        and KEY not in repr(config(server.url))
    )
    assert chunks[-1].text == "def f(x):\n    return x\n" and chunks[-1].finish_reason == "length"
    assert "".join(c.delta for c in chunks) == chunks[-1].text and len(chunks) > 2
    sent = server.requests[-1]
    assert sent["path"] == "/v1/completions" and sent["headers"]["Authorization"] == f"Bearer {KEY}"
    assert sent["json"] == {
        "model": "tiny",
        "prompt": "# f\n",
        "max_tokens": 50,
        "temperature": 0.0,
        "stream": True,
        "stop": ["\n\n"],
    }


def test_stop_strings_apply_here_too_beyond_the_four_the_api_takes(serve):
    server = serve(["a = 1\n", "b = 2\n", "STOP", "c = 3\n"])
    stops = ["#1", "#2", "#3", "#4", "STOP"]

    async def main():
        runtime = create_runtime(config(server.url))
        return await collect(runtime, GenerationRequest("x", stop=stops))

    chunks = asyncio.run(main())
    assert chunks[-1].text == "a = 1\nb = 2\n" and chunks[-1].finish_reason == "stop"
    assert server.requests[-1]["json"]["stop"] == stops[:4]


def test_rejoining_the_original_stops_the_stream_early(serve):
    original = "a = 1\nb = 2\nc = 3\nd = 4\n"
    server = serve(["a = 1\n", "b = 20\n", "c = 3\n", "d = 4\n", "e = 5\n", "f = 6\n"], delay=0.05)

    async def main():
        runtime = create_runtime(config(server.url))
        request = GenerationRequest("x", original=original, rejoin_chars=6)
        return await collect(runtime, request)

    final = asyncio.run(main())[-1]
    assert final.finish_reason == "rejoined" and final.text == "a = 1\nb = 20\nc = 3\nd = 4\n"
    assert server.disconnected.wait(2) and server.sent[-1] < 6


def test_cancelling_closes_the_connection_and_a_newer_key_replaces_the_older(serve):
    server = serve([f"{i}\n" for i in range(200)], delay=0.02)

    async def main():
        runtime = create_runtime(config(server.url))
        older = asyncio.create_task(collect(runtime, GenerationRequest("x", key="doc")))
        await asyncio.sleep(0.2)
        newer = asyncio.create_task(collect(runtime, GenerationRequest("y", key="doc")))
        replaced = await asyncio.wait_for(older, 2)
        await asyncio.sleep(0.1)
        newer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await newer
        return replaced

    replaced = asyncio.run(main())
    assert replaced[-1].finish_reason == "replaced" and replaced[-1].text
    assert server.disconnected.wait(2)
    time.sleep(0.3)
    assert max(server.sent) < 100  # neither stream was read to its end


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case", ["unreachable", "wrong key", "unknown model"])
def test_errors_are_reported_with_a_code(serve, case):
    server = serve(["x"])
    url = f"http://127.0.0.1:{_free_port()}" if case == "unreachable" else server.url
    cfg = config(url)
    if case == "wrong key":
        cfg.remote_api_key = "sk-wrong"
    if case == "unknown model":
        cfg.remote_model = "nope"

    async def main():
        runtime = create_runtime(cfg)
        status = await ready(runtime)
        with pytest.raises(EngineError) as failed:
            await collect(runtime, GenerationRequest("x"))
        return status, failed.value

    status, error = asyncio.run(main())
    expected = {
        "unreachable": "unreachable",
        "wrong key": "unauthorized",
        "unknown model": "not_found",
    }[case]
    assert error.code == expected
    if case == "unknown model":
        assert (
            status["state"] == "ready"
            and "nope" in status["warning"]
            and "does not exist" in str(error)
        )
    else:
        assert status["state"] == "error" and status["last_error"]
