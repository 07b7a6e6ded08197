"""A chat turn end to end against the fake LLM server: events, persistence, cancellation, errors,
and the websocket methods driven through the RPC session (no tornado)."""

from __future__ import annotations

import asyncio
import json

import pytest
from fake_llm_server import FakeLLMServer

from jupyter_cursor.chat import ChatService, ChatStore, ContextBuilder, ContextError, Selection
from jupyter_cursor.chat.protocol import chat_methods
from jupyter_cursor.chat.service import ChatError
from jupyter_cursor.providers import ProviderError, ProviderRegistry
from jupyter_cursor.rpc import RpcSession
from jupyter_cursor.services import Services

KEY = "sk-chat-test-5555aaaa"
CELLS = [
    {"id": "load", "cell_type": "code", "source": "import pandas as pd\ndf = pd.read_csv('d.csv')"},
    {"id": "plot", "cell_type": "code", "source": "df.plot()"},
]
FAST = {"retry_base": 0.01, "retry_cap": 0.05, "max_retries": 1, "timeout": 5}


@pytest.fixture
def server():
    with FakeLLMServer(api_key=KEY, models=["fake-model"]) as s:
        yield s


def make_service(server, tmp_path, **extra):
    providers = ProviderRegistry.from_config(
        [
            {
                "name": "gpt",
                "kind": "openai",
                "model": "fake-model",
                "base_url": server.openai_url,
                "api_key": KEY,
                **FAST,
                **extra,
            },
            {
                "name": "claude",
                "kind": "anthropic",
                "model": "fake-model",
                "base_url": server.url,
                "api_key": KEY,
                **FAST,
            },
            {
                "name": "nokey",
                "kind": "anthropic",
                "model": "fake-model",
                "api_key_env": "JC_TEST_UNSET_KEY",
            },
        ]
    )
    return ChatService(ChatStore(tmp_path / "chat.sqlite3"), providers, ContextBuilder(tmp_path))


async def run(service, message, session_id=None, provider=None, selection=None):
    """The turn's events; a failure it raises ends the list as {"type": "error", "code"}."""
    events = []
    try:
        async for event in service.ask(session_id, message, CELLS, selection, "nb.ipynb", provider):
            events.append(event)
    except (ProviderError, ChatError, ContextError) as err:
        events.append({"type": "error", "code": err.code, "message": err.message})
    return events


@pytest.mark.parametrize("provider", ["gpt", "claude"])
async def test_a_turn_streams_and_is_stored(server, tmp_path, provider):
    service = make_service(server, tmp_path)
    server.script({"chunks": ["```python\n# cell: plot\n", "df.plot(kind='bar')\n```"]})
    events = await run(
        service, "Make @cell:plot a bar chart", provider=provider, selection=Selection("plot", 0, 7)
    )
    assert [e["type"] for e in events] == ["context", "delta", "delta", "done"]
    context, done = events[0], events[-1]
    assert context["provider"] == provider and context["model"] == "fake-model"
    assert {"selection", "cell", "notebook"} <= {s["kind"] for s in context["sent"]}
    answer = "".join(e["text"] for e in events if e["type"] == "delta")

    # What reached the model: the system prompt, the cells with their ids, the request.
    body = server.requests[0]["json"]
    sent_text = json.dumps(body)
    assert 'cell id=\\"load\\"' in sent_text and "# cell: <id>" in sent_text
    assert "Make @cell:plot a bar chart" in sent_text

    stored = service.store.history(done["session_id"])
    assert [(m["role"], m["content"], m["status"]) for m in stored] == [
        ("user", "Make @cell:plot a bar chart", "complete"),
        ("assistant", answer, "complete"),
    ]
    assert stored[0]["meta"]["sent"] == context["sent"]
    assert done["message_id"] == stored[1]["id"]


async def test_the_next_turn_carries_the_history_and_survives_a_restart(server, tmp_path):
    service = make_service(server, tmp_path)
    server.script({"text": "First answer."})
    done = (await run(service, "First question"))[-1]
    service.store.close()

    restarted = make_service(server, tmp_path)  # a new server process on the same data dir
    (session,) = restarted.store.list_sessions("nb.ipynb")
    assert session["id"] == done["session_id"] and session["messages"] == 2
    server.script({"text": "Second answer."})
    events = await run(restarted, "Second question", session_id=done["session_id"])
    assert events[-1]["type"] == "done"
    roles = [(m["role"], m["content"][:20]) for m in server.requests[-1]["json"]["messages"]]
    assert roles[1:3] == [("user", "First question"), ("assistant", "First answer.")]
    assert [m["content"] for m in restarted.store.history(done["session_id"])][
        -1
    ] == "Second answer."


async def test_stopping_early_keeps_the_partial_answer_as_cancelled(server, tmp_path):
    service = make_service(server, tmp_path)
    server.script({"chunks": [f"w{i} " for i in range(40)], "delay": 0.05})
    stream = service.ask(None, "Long answer please", CELLS, None, "nb.ipynb")
    context = await anext(stream)
    first = await anext(stream)
    second = await anext(stream)
    await stream.aclose()
    assert await server.until(lambda: server.requests[0]["disconnected"], timeout=2)
    (_, answer) = service.store.history(context["session_id"])
    assert answer["status"] == "cancelled"
    assert answer["content"] == first["text"] + second["text"]


async def test_a_provider_error_is_raised_after_it_is_stored(server, tmp_path):
    service = make_service(server, tmp_path, api_key="sk-wrong-key-123456")
    events = await run(service, "Hello")
    assert [e["type"] for e in events] == ["context", "error"]
    assert events[-1]["code"] == "auth"
    (_, answer) = service.store.history(events[0]["session_id"])
    assert answer["status"] == "error" and answer["meta"]["error"]["code"] == "auth"


async def test_a_failure_mid_answer_keeps_the_text_that_arrived(server, tmp_path):
    service = make_service(server, tmp_path)
    server.script({"chunks": ["partial ", "answer ", "never"], "error_after": 2})
    events = await run(service, "Hello")
    assert [e["type"] for e in events] == ["context", "delta", "delta", "error"]
    (_, answer) = service.store.history(events[0]["session_id"])
    assert (answer["status"], answer["content"]) == ("error", "partial answer ")


@pytest.mark.parametrize(
    "provider, session_id, code",
    [
        ("nokey", None, "not_configured"),
        ("gemini", None, "not_configured"),
        ("gpt", "no-such", "no_session"),
    ],
)
async def test_refusals_come_before_anything_is_stored(
    server, tmp_path, provider, session_id, code, monkeypatch
):
    monkeypatch.delenv("JC_TEST_UNSET_KEY", raising=False)
    service = make_service(server, tmp_path)
    events = await run(service, "Hello", session_id=session_id, provider=provider)
    assert [(e["type"], e["code"]) for e in events] == [("error", code)]
    assert service.store.list_sessions("nb.ipynb") == []
    assert server.requests == []


async def test_no_key_reaches_events_or_the_database(server, tmp_path):
    service = make_service(server, tmp_path)
    events = await run(service, "Hello")
    events += await run(service, "Hello", provider="claude")
    assert KEY not in json.dumps(events)
    assert KEY not in json.dumps(service.providers.public_info())
    service.store.close()
    for file in tmp_path.glob("chat.sqlite3*"):
        assert KEY.encode() not in file.read_bytes()


# -- through the websocket's RPC session -----------------------------------------------------------


class Client:
    def __init__(self, service):
        services = Services()
        for name, method in chat_methods(service).items():
            services.register_method(name, method)
        self.replies: list[dict] = []
        self.session = RpcSession(services, self.replies.append, max_message_bytes=1 << 20)

    def send(self, **message):
        self.session.receive(json.dumps(message))

    async def terminal(self, request_id, timeout=5.0):
        async def wait():
            while True:
                for r in self.replies:
                    if r.get("id") == request_id and r["type"] in ("result", "error", "cancelled"):
                        return r
                await asyncio.sleep(0.01)

        return await asyncio.wait_for(wait(), timeout)

    def partials(self, request_id):
        return [r["data"] for r in self.replies if r["type"] == "partial" and r["id"] == request_id]


async def test_chat_over_rpc_streams_partials_then_a_result(server, tmp_path):
    client = Client(make_service(server, tmp_path))
    client.send(type="chat_providers", id="p")
    providers = (await client.terminal("p"))["result"]
    assert [p["name"] for p in providers["providers"]] == ["gpt", "claude", "nokey"]

    server.script({"text": "Hi there"})
    client.send(
        type="chat",
        id="c1",
        path="nb.ipynb",
        message="Hello",
        cells=CELLS,
        selection={"cell_id": "plot", "text": "df"},
        provider="claude",
    )
    result = await client.terminal("c1")
    assert result["type"] == "result" and result["result"]["type"] == "done"
    partials = client.partials("c1")
    assert partials[0]["type"] == "context"
    assert "".join(p["text"] for p in partials if p["type"] == "delta") == "Hi there"

    session_id = result["result"]["session_id"]
    client.send(type="chat_sessions", id="s", path="nb.ipynb")
    assert [s["id"] for s in (await client.terminal("s"))["result"]["sessions"]] == [session_id]
    client.send(type="chat_history", id="h", session_id=session_id)
    history = (await client.terminal("h"))["result"]
    assert [m["content"] for m in history["messages"]] == ["Hello", "Hi there"]
    client.send(type="chat_delete", id="d", session_id=session_id)
    assert (await client.terminal("d"))["result"] == {"deleted": True}
    client.send(type="chat_history", id="h2", session_id=session_id)
    assert (await client.terminal("h2"))["error"]["code"] == "no_session"


async def test_cancel_over_rpc_closes_the_stream_and_keeps_the_partial(server, tmp_path):
    service = make_service(server, tmp_path)
    client = Client(service)
    server.script({"chunks": [f"w{i} " for i in range(60)], "delay": 0.05})
    client.send(type="chat", id="c", path="nb.ipynb", message="Talk", cells=CELLS)

    async def some_deltas():
        while len([p for p in client.partials("c") if p["type"] == "delta"]) < 2:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(some_deltas(), 5)
    client.send(type="cancel", id="x", target="c")
    assert (await client.terminal("c"))["type"] == "cancelled"
    assert await server.until(lambda: server.requests[0]["disconnected"], timeout=2)
    session_id = client.partials("c")[0]["session_id"]
    answer = service.store.history(session_id)[-1]
    assert answer["status"] == "cancelled" and answer["content"].startswith("w0 w1 ")


async def test_provider_errors_become_error_replies_with_their_code(server, tmp_path):
    client = Client(make_service(server, tmp_path, model="not-a-model"))
    client.send(type="chat", id="c", path="nb.ipynb", message="Hello", cells=CELLS)
    reply = await client.terminal("c")
    assert reply["type"] == "error" and reply["error"]["code"] == "bad_model"
    assert "not-a-model" in reply["error"]["message"]
