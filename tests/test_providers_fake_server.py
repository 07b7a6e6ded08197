"""The fake LLM server as a process, the way a real JupyterLab (and the browser tests) use it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from jupyter_cursor.providers import ProviderRegistry

SCRIPT = Path(__file__).with_name("fake_llm_server.py")


@pytest.fixture
def process(tmp_path):
    replies = tmp_path / "replies.json"
    replies.write_text(
        json.dumps({"default": {"text": "Fixed answer."}, "queue": [{"text": "First."}]})
    )
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", "0", "--script", str(replies), "--models", "m1,m2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_a_server_process_answers_from_its_script_then_its_default(process):
    registry = ProviderRegistry.from_config(
        [
            {"name": "o", "kind": "openai", "model": "m1", "base_url": process + "/v1"},
            {
                "name": "a",
                "kind": "anthropic",
                "model": "m2",
                "base_url": process,
                "api_key": "any",
            },
        ]
    )
    hello = [{"role": "user", "content": "hi"}]
    assert "".join([t async for t in registry.get("o").stream_chat(hello)]) == "First."
    assert "".join([t async for t in registry.get("a").stream_chat(hello)]) == "Fixed answer."

    # Scripting at run time, and the log of what arrived.
    request = urllib.request.Request(
        process + "/_script",
        data=json.dumps([{"text": "Later."}]).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert json.load(reply) == {"queued": 1}
    assert "".join([t async for t in registry.get("o").stream_chat(hello)]) == "Later."
    with urllib.request.urlopen(process + "/_requests", timeout=5) as reply:
        seen = json.load(reply)
    assert [r["path"] for r in seen] == [
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/chat/completions",
    ]
    with urllib.request.urlopen(process + "/v1/models", timeout=5) as reply:
        assert [m["id"] for m in json.load(reply)["data"]] == ["m1", "m2"]
