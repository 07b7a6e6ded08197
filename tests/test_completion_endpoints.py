"""A served FIM model asked through its server's native infill endpoint (llama.cpp's /infill,
Ollama's /api/generate): the prefix and the suffix apart, no FIM tokens of ours, the key sent and
never shown; a server gone, a 404 or a timeout is no completion and a warning, not an error."""

import asyncio
import json
import logging

import pytest
from completions_server import KEY, CompletionsServer
from test_completion_source import REQUEST, ready

from jupyter_cursor.completion.fim import FIM_FORMATS
from jupyter_cursor.completion.prompt import completion_prompt
from jupyter_cursor.completion.source import FIM_MAX_NEW_TOKENS, FIM_PROMPT_TOKENS, Completer
from jupyter_cursor.engine import EngineConfig, RuntimeState, create_runtime
from jupyter_cursor.nextedit.service import NextEditService

# The model writes the rest of the line, then a line of the next cell (the suffix): cut there.
PIECES = ["ad_csv('sales", "_2025.csv')\n", "print(df)\n"]
COMPLETED = "df = pd.read_csv('sales_2025.csv')"
SENTINELS = {token for fim in FIM_FORMATS.values() for token in fim.sentinels}


@pytest.fixture
def serve():
    servers = []

    def make(pieces=PIECES, **kw):
        servers.append(CompletionsServer(pieces, **kw))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def remote(url, model="tiny", **kw):
    config = EngineConfig(
        backend="remote", remote_url=url, remote_model=model, remote_api_key=KEY, **kw
    )
    return create_runtime(config)


def complete(completer, request=REQUEST):
    """The completer's answer once its runtime is ready, through the next-edit service (which the
    websocket asks), with the runtime closed after."""
    service = NextEditService(None, completer=completer)

    async def main():
        await ready(completer.runtime)
        try:
            return await service.predict(request)
        finally:
            completer.runtime.close()

    return asyncio.run(main())


def expected_prompt():
    cursor = REQUEST["cursor"]
    return completion_prompt(
        REQUEST["cells"], cursor["cell_id"], cursor["offset"], budget_tokens=FIM_PROMPT_TOKENS
    )


@pytest.mark.parametrize("url_end", ["", "/v1"])
def test_llama_cpp_infill_gets_the_prefix_and_suffix_apart_and_its_middle_is_trimmed(
    serve, url_end
):
    server = serve()
    # A model whose name tells no FIM family, and no completion_fim_format: the server knows.
    completer = Completer("fim", remote(server.url + url_end), endpoint="llama-infill")
    answer = complete(completer)
    assert answer["predictor"] == "fim"
    assert answer["edits"] == [{"cell_id": "c", "source": COMPLETED}]
    (sent,) = server.requests  # the server's root, whether the URL ends in /v1 or not
    assert sent["path"] == "/infill"
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    body = sent["json"]
    prefix, suffix = expected_prompt()
    assert (body["input_prefix"], body["input_suffix"]) == (prefix, suffix)
    assert body["input_prefix"].startswith("# %%\nimport pandas as pd\n")
    assert body["input_prefix"].endswith("df = pd.re")
    assert body["n_predict"] == FIM_MAX_NEW_TOKENS and body["stream"] is True
    assert body["stop"] == ["\n# %%"]  # the next cell; the model's own end is the server's
    assert not any(token in json.dumps(body) for token in SENTINELS)  # the server's FIM tokens
    assert completer.describe() == ("ready", "fill-in-the-middle: tiny via llama.cpp /infill")


def test_ollama_generate_gets_the_prompt_and_the_suffix_and_applies_its_template(serve):
    server = serve(model="qwen2.5-coder:1.5b")
    runtime = remote(server.url + "/v1", model="qwen2.5-coder:1.5b")
    completer = Completer("fim", runtime, fim_format="starcoder", endpoint="ollama")
    answer = complete(completer)
    assert answer["edits"] == [{"cell_id": "c", "source": COMPLETED}]
    (sent,) = server.requests
    assert sent["path"] == "/api/generate"
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    body = sent["json"]
    prefix, suffix = expected_prompt()
    assert body["model"] == "qwen2.5-coder:1.5b"
    assert (body["prompt"], body["suffix"]) == (prefix, suffix)
    assert body["raw"] is False and body["stream"] is True  # Ollama applies the model's template
    assert body["options"]["num_predict"] == FIM_MAX_NEW_TOKENS
    assert body["options"]["stop"] == ["\n# %%"]
    # Not the named format's tokens, nor the model family's: the server renders the prompt.
    assert not any(token in json.dumps(body) for token in SENTINELS)
    assert (
        completer.describe()[1] == "fill-in-the-middle: qwen2.5-coder:1.5b via Ollama /api/generate"
    )


def no_completion(answer):
    return answer["edits"] == [] and answer["predictor"] is None


def test_a_server_without_the_endpoint_is_no_completion_and_a_warning(serve, caplog):
    server = serve(native=False)  # vLLM: the completions API only
    completer = Completer("fim", remote(server.url), endpoint="llama-infill")
    with caplog.at_level(logging.WARNING):
        assert no_completion(complete(completer))
    assert server.requests[-1]["path"] == "/infill"
    warning = caplog.text
    assert "completion failed" in warning and "404" in warning and "POST /infill" in warning
    assert KEY not in warning


def test_an_unknown_ollama_model_is_no_completion_and_a_warning(serve, caplog):
    server = serve()
    completer = Completer("fim", remote(server.url, model="nope"), endpoint="ollama")
    with caplog.at_level(logging.WARNING):
        assert no_completion(complete(completer))
    assert "model 'nope' not found" in caplog.text and KEY not in caplog.text


def test_a_dead_server_is_no_completion_and_no_exception(serve, caplog):
    server = serve()
    runtime = remote(server.url)
    completer = Completer("fim", runtime, endpoint="llama-infill")
    service = NextEditService(None, completer=completer)

    async def main():
        await ready(runtime)
        server.close()  # it dies once the runtime has found it
        try:
            return await service.predict(REQUEST)
        finally:
            runtime.close()

    with caplog.at_level(logging.WARNING):
        assert no_completion(asyncio.run(main()))
    assert "completion failed" in caplog.text and KEY not in caplog.text
    state, message = completer.describe()
    assert state == "error" and KEY not in message

    # Dead from the start: the probe says so, and nothing is asked.
    dead = remote(server.url)
    completer = Completer("fim", dead, endpoint="ollama")

    async def start_dead():
        dead.start()
        while dead.status()["state"] != RuntimeState.ERROR:
            await asyncio.sleep(0.02)
        try:
            return await NextEditService(None, completer=completer).predict(REQUEST)
        finally:
            dead.close()

    assert no_completion(asyncio.run(start_dead()))
    assert completer.describe()[0] == "error"


def test_a_server_slower_than_the_timeout_is_no_completion(serve, caplog):
    server = serve(delay=2.0)  # the first piece, then nothing for 2 s
    completer = Completer("fim", remote(server.url, remote_timeout_s=0.3), endpoint="ollama")
    with caplog.at_level(logging.WARNING):
        assert no_completion(complete(completer))
    assert "completion failed" in caplog.text and "Timeout" in caplog.text


def test_bad_endpoint_values_are_clear_errors(serve):
    with pytest.raises(
        ValueError,
        match=r"completion_endpoint: unknown endpoint 'infill' \(known: "
        r"completions, llama-infill, ollama\)",
    ):
        Completer("fim", endpoint="infill")
    local = create_runtime(EngineConfig(model="some/model"))  # not started
    with pytest.raises(ValueError, match="completion_endpoint 'ollama'.*engine_backend = 'remote'"):
        Completer("fim", local, endpoint="ollama")
    Completer("default", local, endpoint="ollama")  # not used by that source: no error

    from traitlets import TraitError

    from jupyter_cursor.app import CursorApp

    assert set(CursorApp.completion_endpoint.values) == {"completions", "llama-infill", "ollama"}
    assert set(CursorApp.completion_source.values) == {"default", "fim", "chat", "off"}
    with pytest.raises(TraitError, match="completion_endpoint"):
        CursorApp(completion_endpoint="infill")
