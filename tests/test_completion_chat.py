"""A chat provider as the completion source (opt-in): the question it gets (the notebook around a
cursor marker, few tokens, temperature 0), its answer made an insertion (fences and echoes cut,
then trimmed), and a slow, failing or replaced request as no completion; and in the server, the
option wired to the configured providers."""

import asyncio
import json
import logging

import pytest
from server_support import server_config
from test_completion_source import REQUEST
from test_server import next_message

from jupyter_cursor.completion import chat
from jupyter_cursor.completion.chat import CURSOR, insertion_of
from jupyter_cursor.completion.source import Completer
from jupyter_cursor.providers import ProviderRegistry

LLM_API_KEY = "sk-chat-completion-secret-0123456789"  # the conftest's llm server asks for it
FENCED = "Here it is:\n```python\ndf = pd.read_csv('sales_2025.csv')\n```\n"
COMPLETED = "df = pd.read_csv('sales_2025.csv')"


def registry(llm, **fields):
    return ProviderRegistry.from_config([llm.provider(api_key=LLM_API_KEY, **fields)])


def complete(completer, request=REQUEST):
    return asyncio.run(completer.complete(request))


def test_the_chat_model_s_fenced_answer_is_the_insertion_at_the_cursor(llm):
    llm.script({"text": FENCED})
    completer = Completer("chat", providers=registry(llm))
    answer = complete(completer)
    assert answer["predictor"] == "chat"
    assert answer["edits"] == [{"cell_id": "c", "source": COMPLETED}]
    body = llm.requests[-1]["json"]
    assert body["max_tokens"] == chat.CHAT_MAX_TOKENS and body["temperature"] == 0
    system, user = body["messages"]
    assert system["role"] == "system" and CURSOR in system["content"]
    # The notebook as one file, the cells above as context, the marker at the cursor once.
    assert user["content"].count(CURSOR) == 1
    assert "import pandas as pd\ndf = pd.read_csv('sales.csv')" in user["content"]
    assert f"df = pd.re{CURSOR}" in user["content"]
    assert completer.describe() == (
        "ready",
        "chat model fake (fake-model) (costs tokens at each typing pause)",
    )


@pytest.mark.parametrize(
    ("answer", "prefix", "insertion"),
    [
        ("```python\nad_csv('x.csv')\n```", "df = pd.re", "ad_csv('x.csv')"),
        ("`ad_csv('x.csv')`", "df = pd.re", "ad_csv('x.csv')"),
        ("df = pd.read_csv('x.csv')", "df = pd.re", "ad_csv('x.csv')"),  # the line echoed
        ("read_csv('x.csv')", "df = pd.re", "ad_csv('x.csv')"),  # the word echoed
        ("pd.re<CURSOR>ad_csv('x.csv')", "df = pd.re", "ad_csv('x.csv')"),
        ("df = load()\n    df.head()", "def f():\n    df = lo", "ad()\n    df.head()"),
        ("x = 1\nprint(x)", "# %%\nx = 1\n", "print(x)"),  # the lines above echoed
        ("range(3):", "for i in ", "range(3):"),  # nothing echoed
    ],
)
def test_fences_markers_and_echoes_are_cut_from_the_answer(answer, prefix, insertion):
    assert insertion_of(answer, prefix) == insertion


def test_the_user_s_own_marker_does_not_move_the_cursor():
    (_, user) = chat.chat_messages(f"s = '{CURSOR}'\nx = ", "\n", "python")
    assert user["content"] == f"```python\ns = ''\nx = {CURSOR}\n\n```"


def test_a_slow_provider_is_no_completion_and_a_warning(llm, monkeypatch, caplog):
    monkeypatch.setattr(chat, "CHAT_TIMEOUT_S", 0.3)
    llm.script({"hang": True})
    with caplog.at_level(logging.WARNING):
        assert complete(Completer("chat", providers=registry(llm))) is None
    assert "chat completion by fake failed: no answer within 0.3 s" in caplog.text


def test_a_failing_provider_is_no_completion_and_the_key_is_never_logged(llm, caplog):
    # The server refuses the key and quotes it back, as OpenAI does.
    wrong = "sk-wrong-key-for-the-completion-0123"
    providers = ProviderRegistry.from_config([llm.provider(api_key=wrong)])
    with caplog.at_level(logging.WARNING):
        assert complete(Completer("chat", providers=providers)) is None
    assert "chat completion by fake failed" in caplog.text
    assert wrong not in caplog.text and LLM_API_KEY not in caplog.text


def test_a_newer_request_for_the_notebook_cancels_the_older_one(llm):
    llm.script({"chunks": ["read_csv", "('old.csv')"], "delay": 1.0}, {"text": "ad_csv('new.csv')"})
    completer = Completer("chat", providers=registry(llm))

    before = len(llm.requests)

    async def main():
        older = asyncio.ensure_future(completer.complete(REQUEST))
        await llm.until(lambda: len(llm.requests) > before)
        newer = await completer.complete(REQUEST)
        return await older, newer

    older, newer = asyncio.run(main())
    assert older is None  # its answer would show at a cursor that moved on
    assert newer["edits"] == [{"cell_id": "c", "source": "df = pd.read_csv('new.csv')"}]
    first = llm.requests[before]
    assert asyncio.run(llm.until(lambda: first["disconnected"]))  # its stream closed: no tokens


def test_unusable_chat_options_are_clear_errors(llm):
    with pytest.raises(ValueError, match=r"completion_chat_provider: no provider named 'gtp' "):
        Completer("chat", providers=registry(llm), chat_provider="gtp")
    with pytest.raises(ValueError, match="unknown completion source 'chats'"):
        Completer("chats")
    state, message = Completer("chat", providers=ProviderRegistry([])).describe()
    assert state == "not_configured" and "no chat provider is configured" in message
    assert complete(Completer("chat", providers=ProviderRegistry([]))) is None


# -- in the server -----------------------------------------------------------------------------


@pytest.fixture
def jp_server_config(request, llm):
    provider = llm.provider(api_key=LLM_API_KEY)
    other = llm.provider(name="other", api_key=LLM_API_KEY, model="other-model")
    return server_config(
        index_enabled=False,
        providers=[provider, other],
        completion_source="chat",
        **getattr(request, "param", {}),
    )


async def status_of(jp_fetch) -> dict:
    return json.loads((await jp_fetch("jupyter-cursor", "status")).body)["services"]["completion"]


async def test_the_server_completes_with_the_first_provider_by_default(jp_fetch, jp_ws_fetch, llm):
    assert (await status_of(jp_fetch))["message"].startswith("chat model fake (fake-model)")
    llm.script({"text": FENCED})
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    ws.write_message(json.dumps({"type": "nextedit", "id": "n1", **REQUEST}))
    reply = await next_message(ws, timeout=20)
    while reply.get("id") != "n1" or reply["type"] == "partial":
        reply = await next_message(ws, timeout=20)
    ws.close()
    assert reply["result"]["predictor"] == "chat"
    assert reply["result"]["edits"] == [{"cell_id": "c", "source": COMPLETED}]
    assert llm.requests[-1]["json"]["model"] == "fake-model"


@pytest.mark.parametrize(
    "jp_server_config",
    [{"completion_chat_provider": "other"}, {"completion_chat_provider": "gtp"}],
    indirect=True,
)
async def test_the_server_says_which_provider_completes_or_why_none(jp_fetch, jp_server_config):
    status = await status_of(jp_fetch)
    if jp_server_config["CursorApp"]["completion_chat_provider"] == "other":
        assert status["state"] == "ready"
        assert status["message"].startswith("chat model other (other-model)")
    else:
        assert status["state"] == "error"
        assert "no provider named 'gtp' (configured: fake, other)" in status["message"]
