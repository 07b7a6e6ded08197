"""``jupyter cursor predict`` completes as the server does: a served FIM model through the endpoint
the server would use (--remote-url, --completion-endpoint, the key from --remote-api-key-env), or
a chat provider of --providers (--completion chat, --completion-chat-provider); options that
cannot work together are usage errors before anything loads. Real HTTP against the fake servers."""

import json

import pytest
from completions_server import KEY
from test_completion_endpoints import COMPLETED, SENTINELS, expected_prompt, serve
from test_completion_source import REQUEST

from jupyter_cursor.cli import main

LLM_API_KEY = "sk-cli-completion-secret-0123456789"  # the conftest's llm server asks for it
KEY_ENV = "JUPYTER_CURSOR_TEST_REMOTE_KEY"

__all__ = ["serve"]  # the fixture


@pytest.fixture
def request_file(tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(REQUEST))
    return str(path)


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    return ["--remote-api-key-env", KEY_ENV]


def predict(capsys, *argv):
    """(exit status, the answer printed as JSON or None, stderr)."""
    status = main(["predict", *argv])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if status == 0 else None, captured.err


@pytest.mark.parametrize("endpoint", ["llama-infill", "ollama"])
def test_a_served_model_completes_through_the_native_endpoint_named(
    serve, request_file, key, capsys, endpoint
):
    server = serve(model="qwen2.5-coder:1.5b")
    status, answer, err = predict(
        capsys,
        "--request",
        request_file,
        "--json",
        "--completion",
        "fim",
        "--remote-url",
        server.url,
        "--model",
        "qwen2.5-coder:1.5b",
        "--completion-endpoint",
        endpoint,
        *key,
    )
    assert status == 0, err
    assert answer["predictor"] == "fim"
    assert answer["edits"] == [{"cell_id": "c", "source": COMPLETED}]
    (sent,) = server.requests
    assert sent["path"] == {"llama-infill": "/infill", "ollama": "/api/generate"}[endpoint]
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    body = sent["json"]
    prefix, suffix = expected_prompt()
    if endpoint == "ollama":
        assert (body["model"], body["prompt"], body["suffix"]) == (
            "qwen2.5-coder:1.5b",
            prefix,
            suffix,
        )
    else:
        assert (body["input_prefix"], body["input_suffix"]) == (prefix, suffix)
    assert not any(token in json.dumps(body) for token in SENTINELS)


def test_the_completions_api_gets_the_fim_prompt_of_the_format_named_in_a_batch(
    serve, tmp_path, key
):
    server = serve()
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": "one", **REQUEST}) + "\n")
    argv = ["--batch", str(src), "--out", str(out), "--completion", "fim"]
    argv += ["--remote-url", server.url + "/v1", "--model", "tiny", "--fim-format", "starcoder"]
    assert main(["predict", *argv, *key]) == 0
    (line,) = [json.loads(text) for text in out.read_text().splitlines()]
    assert line["id"] == "one" and line["predictor"] == "fim"
    assert line["edits"] == [{"cell_id": "c", "source": COMPLETED}]
    (sent,) = [r for r in server.requests if r["path"] == "/v1/completions"]
    prefix, suffix = expected_prompt()
    assert sent["json"]["prompt"] == f"<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>"
    assert sent["json"]["model"] == "tiny"


def test_the_chat_source_asks_the_provider_named(llm, tmp_path, request_file, capsys):
    llm.script({"text": f"```python\n{COMPLETED}\n```"})
    providers = tmp_path / "providers.json"
    other = {"name": "other", "kind": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1"}
    providers.write_text(json.dumps([other, llm.provider(api_key=LLM_API_KEY)]))
    argv = ["--request", request_file, "--json", "--completion", "chat"]
    argv += ["--providers", str(providers)]
    status, answer, err = predict(capsys, *argv, "--completion-chat-provider", "fake")
    assert status == 0, err
    assert answer["predictor"] == "chat"
    assert answer["edits"] == [{"cell_id": "c", "source": COMPLETED}]
    assert llm.requests[-1]["json"]["model"] == "fake-model"
    status, _, err = predict(capsys, *argv, "--completion-chat-provider", "nope")
    assert status == 2
    assert "completion_chat_provider: no provider named 'nope' (configured: other, fake)" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--completion", "fim"], "--completion fim completes with the --model or --remote-url"),
        (
            ["--completion", "fim", "--model", "some/model", "--completion-endpoint", "ollama"],
            "--completion-endpoint ollama is a model server's: give --remote-url",
        ),
        (["--completion", "chat"], "--completion chat asks a chat provider: give --providers"),
        (["--completion", "chat", "--providers", "/nonexistent.json"], "cannot use --providers"),
        (
            ["--remote-url", "http://127.0.0.1:9", "--remote-api-key-env", "NO_SUCH_VARIABLE_X"],
            "--remote-api-key-env: NO_SUCH_VARIABLE_X is not set",
        ),
    ],
)
def test_options_that_cannot_work_are_usage_errors(request_file, capsys, argv, message):
    status, _, err = predict(capsys, "--request", request_file, *argv)
    assert status == 2 and message in err


def test_a_dead_server_is_a_usage_error_that_keeps_the_key_out(serve, request_file, key, capsys):
    server = serve()
    url = server.url
    server.close()
    argv = ["--completion", "fim", "--remote-url", url, "--completion-endpoint", "llama-infill"]
    status, _, err = predict(capsys, "--request", request_file, *argv, *key)
    assert status == 2 and "the model did not load" in err and KEY not in err


def test_the_evaluation_takes_the_same_options(serve, tmp_path, key, capsys):
    """benchmarks/eval_completion.py: the completer of the options is measured next to the
    baselines, on a data folder of one notebook."""
    import gzip
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import eval_completion

    server = serve(pieces=["0"])
    cells = [
        {"id": "a", "cell_type": "code", "source": "ROWS = 10\nCOLS = 20\n"},
        {"id": "b", "cell_type": "markdown", "source": "# Title"},
    ]
    row = {"kind": "ipynb", "origin": "repo@abc:nb.ipynb", "cells": cells}
    for name in ("apply_dev.jsonl.gz", "nes_dev.jsonl.gz"):
        with gzip.open(tmp_path / name, "wt", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
    out = tmp_path / "results.json"
    argv = ["--data", str(tmp_path), "--json", str(out), "--completion", "fim"]
    argv += ["--remote-url", server.url, "--completion-endpoint", "llama-infill", *key]
    assert eval_completion.main(argv) == 0
    results = json.loads(out.read_text())
    assert set(results) == {"nothing", "copy-earlier-line", "default", "fim"}
    fim = results["fim"]
    assert fim["positions"] == results["default"]["positions"] > 0
    assert len(server.requests) == fim["positions"]  # each position asked the served model
    assert all(r["path"] == "/infill" for r in server.requests)
