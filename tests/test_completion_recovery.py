"""A served FIM model that fails (gone, a 5xx, a timeout) and comes back completes again without a
restart of Jupyter: the runtime probes it again after a backoff, the status goes back to ready,
and while it fails no keystroke waits for it. Real HTTP against the fake completions server."""

import asyncio
import time

import pytest
from completions_server import CompletionsServer
from test_completion_endpoints import COMPLETED, PIECES, no_completion, remote
from test_completion_source import REQUEST, ready

from jupyter_cursor.completion.source import Completer
from jupyter_cursor.engine import RuntimeState
from jupyter_cursor.nextedit.service import NextEditService

# Backoffs short enough for a test; the defaults are seconds.
FAST = {"retry_first_s": 0.1, "retry_max_s": 0.4}


@pytest.fixture
def servers():
    made = []

    def make(**kw):
        made.append(CompletionsServer(PIECES, **kw))
        return made[-1]

    yield make
    for server in made:
        server.close()


def completer_of(url, states, **backoff):
    """A completer on a served model, whose status changes are recorded in ``states`` as the app
    records them: the completion service's state from ``describe()``."""
    runtime = remote(url)
    completer = Completer("fim", runtime, endpoint="llama-infill")
    runtime.on_status = lambda _status: states.append(completer.describe()[0])
    for name, value in backoff.items():
        setattr(runtime, name, value)
    return completer


async def until(check, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_a_server_restarted_is_asked_again_and_the_status_is_ready_again(servers):
    server = servers()
    states: list[str] = []
    completer = completer_of(server.url, states, **FAST)
    runtime = completer.runtime
    service = NextEditService(None, completer=completer)

    async def main():
        await ready(runtime)
        assert (await service.predict(REQUEST))["edits"][0]["source"] == COMPLETED
        port = int(server.url.rsplit(":", 1)[1])
        server.close()  # the model server stops ...
        assert no_completion(await service.predict(REQUEST))
        assert completer.describe()[0] == "error"
        back = servers(port=port)  # ... and starts again where it was
        await until(lambda: runtime.status()["state"] == RuntimeState.READY)
        answer = await service.predict(REQUEST)
        runtime.close()
        return back, answer

    back, answer = asyncio.run(main())
    assert answer["edits"] == [{"cell_id": "c", "source": COMPLETED}]
    assert back.requests[-1]["path"] == "/infill"
    assert completer.describe()[0] == "ready"
    assert states[-2:] == ["error", "ready"]


def test_a_server_down_at_start_is_used_once_it_is_up(servers):
    server = servers()
    port = int(server.url.rsplit(":", 1)[1])
    server.close()
    states: list[str] = []
    completer = completer_of(server.url, states, **FAST)
    runtime = completer.runtime
    service = NextEditService(None, completer=completer)

    async def main():
        runtime.start()
        await until(lambda: runtime.status()["state"] == RuntimeState.ERROR)
        assert no_completion(await service.predict(REQUEST))
        servers(port=port)
        await until(lambda: runtime.status()["state"] == RuntimeState.READY)
        try:
            return await service.predict(REQUEST)
        finally:
            runtime.close()

    assert asyncio.run(main())["edits"] == [{"cell_id": "c", "source": COMPLETED}]
    assert states[-1] == "ready" and "error" in states


def test_while_the_server_errs_keystrokes_do_not_ask_it_and_probes_back_off(servers):
    server = servers()
    completer = completer_of(server.url, [], retry_first_s=0.2, retry_max_s=0.8)
    runtime = completer.runtime
    service = NextEditService(None, completer=completer)

    async def main():
        await ready(runtime)
        server.failing = 503  # overloaded, or loading the model again
        assert no_completion(await service.predict(REQUEST))
        assert runtime.status()["state"] == RuntimeState.ERROR
        assert "503" in runtime.status()["last_error"]
        asked = len(server.requests)
        probes = server.gets
        # A second of typing: no keystroke waits for the failing server, none asks it.
        started = time.monotonic()
        for _ in range(50):
            assert no_completion(await service.predict(REQUEST))
            await asyncio.sleep(0.02)
        typing_s = time.monotonic() - started
        assert len(server.requests) == asked
        # Probes after 0.2, 0.4, then every 0.8 s: a few, not one per keystroke.
        assert 1 <= server.gets - probes <= 4
        server.failing = None
        await until(lambda: runtime.status()["state"] == RuntimeState.READY)
        try:
            return typing_s, await service.predict(REQUEST)
        finally:
            runtime.close()

    typing_s, answer = asyncio.run(main())
    assert typing_s < 3.0
    assert answer["edits"] == [{"cell_id": "c", "source": COMPLETED}]


def test_the_default_backoff_is_seconds_not_keystrokes():
    runtime = remote("http://127.0.0.1:9")
    assert 1.0 <= runtime.retry_first_s <= 5.0 and runtime.retry_first_s < runtime.retry_max_s
    assert runtime.retry_max_s <= 60.0
