"""Providers against a local server that speaks OpenAI's and Anthropic's streaming protocols."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
import time

import pytest
from fake_llm_server import FakeLLMServer

from jupyter_cursor.providers import ProviderError, ProviderRegistry, RetryPolicy
from jupyter_cursor.providers import errors as E

KEY = "sk-test-0123456789abcdef"
HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]
# Fast retries: the behaviour is the same, the suite stays quick.
FAST = {"retry_base": 0.01, "retry_cap": 0.05, "max_retries": 2, "timeout": 5}


@pytest.fixture
def server():
    with FakeLLMServer(api_key=KEY, models=["fake-model"]) as s:
        yield s


def spec(server, kind, **extra):
    base = {
        "openai": {"base_url": server.openai_url},
        "anthropic": {"base_url": server.url},
        "azure": {"base_url": server.url, "api_version": "2024-10-21"},
    }[kind]
    return {
        "name": kind,
        "kind": kind,
        "model": "fake-model",
        "api_key": KEY,
        **base,
        **FAST,
        **extra,
    }


def provider(server, kind, **extra):
    return ProviderRegistry.from_config([spec(server, kind, **extra)]).get(kind)


async def collect(p, messages=HELLO, **kw):
    return [t async for t in p.stream_chat(messages, **kw)]


async def failure(p, messages=HELLO, **kw) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await collect(p, messages, **kw)
    return info.value


KINDS = ["openai", "anthropic", "azure"]


@pytest.mark.parametrize("kind", KINDS)
async def test_streams_the_scripted_deltas_in_order(server, kind):
    server.script({"chunks": ["def ", "f():", "\n    return 1"]})
    assert await collect(provider(server, kind)) == ["def ", "f():", "\n    return 1"]
    (req,) = server.requests
    body = req["json"]
    assert body["stream"] is True
    if kind == "anthropic":
        # Anthropic's way: the system prompt is a parameter, not a message.
        assert body["system"] == "Be brief."
        assert body["messages"] == [{"role": "user", "content": "Say hello"}]
    else:
        assert body["messages"] == HELLO
    # x-api-key (Anthropic, older SDKs), Bearer (OpenAI, newer Anthropic SDKs), api-key (Azure)
    sent = [req["headers"].get(h, "") for h in ("x-api-key", "authorization", "api-key")]
    assert KEY in " ".join(sent)
    if kind == "azure":
        assert req["path"] == "/openai/deployments/fake-model/chat/completions"
        assert "api-version=2024-10-21" in req["target"]


async def test_self_hosted_gets_max_tokens_and_temperature_only_when_set(server):
    p = provider(server, "openai", temperature=0.3, max_tokens=77)
    await collect(p)
    await collect(p, max_tokens=5, temperature=0.0)
    first, second = (r["json"] for r in server.requests)
    assert (first["max_tokens"], first["temperature"]) == (77, 0.3)
    assert (second["max_tokens"], second["temperature"]) == (5, 0.0)
    await collect(provider(server, "openai"))
    assert "temperature" not in server.requests[-1]["json"]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize("status", [429, 503, 529])
async def test_rate_limit_and_overload_are_retried_before_the_first_token(server, kind, status):
    server.script({"status": status}, {"text": "second time lucky"})
    assert "".join(await collect(provider(server, kind))) == "second time lucky"
    assert len(server.requests) == 2


async def test_retries_stop_after_max_retries_with_a_rate_limited_error(server):
    server.script(*[{"status": 429}] * 5)
    err = await failure(provider(server, "openai", max_retries=2))
    assert err.code == E.RATE_LIMITED
    assert len(server.requests) == 3  # one try and two retries


async def test_retry_after_header_is_honoured(server):
    server.script({"status": 429, "headers": {"retry-after": "0.4"}}, {"text": "ok"})
    started = time.monotonic()
    await collect(provider(server, "anthropic", retry_cap=5))
    assert time.monotonic() - started >= 0.35


async def test_quota_exhaustion_is_not_retried(server):
    server.script(
        {"status": 429, "code": "insufficient_quota", "message": "You exceeded your quota"}
    )
    err = await failure(provider(server, "openai"))
    assert err.code == E.RATE_LIMITED and "quota" in err.message
    assert len(server.requests) == 1


def test_backoff_grows_with_jitter_and_respects_hints_and_cap():
    policy = RetryPolicy(max_retries=5, base=1.0, cap=8.0)
    for attempt, high in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(high / 2 <= d <= high for d in delays)
        assert len(delays) > 1  # jitter: clients do not retry in step
    assert policy.delay(0, hint=3.0) == 3.0
    assert policy.delay(0, hint=100.0) == 8.0


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_failure_after_tokens_is_raised_not_retried(server, kind):
    server.script(
        {"chunks": ["one ", "two ", "three"], "error_after": 2, "code": "overloaded_error"}
    )
    got = []
    with pytest.raises(ProviderError) as info:
        async for text in provider(server, kind).stream_chat(HELLO):
            got.append(text)
    assert got == ["one ", "two "]
    assert info.value.code == E.OVERLOADED
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_stream_error_before_any_token_is_retried(server, kind):
    server.script({"chunks": ["lost"], "error_after": 0}, {"text": "found"})
    assert await collect(provider(server, kind)) == ["found"]
    assert len(server.requests) == 2


async def test_a_dropped_connection_mid_stream_is_an_error(server):
    server.script({"chunks": ["a ", "b ", "c"], "drop_after": 1})
    got = []
    with pytest.raises(ProviderError) as info:
        async for text in provider(server, "openai").stream_chat(HELLO):
            got.append(text)
    assert got == ["a "]
    assert info.value.code == E.UNREACHABLE
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_wrong_key_is_an_auth_error_that_does_not_quote_the_key(server, kind):
    wrong = "sk-wrong-key-that-must-not-leak-42"
    err = await failure(provider(server, kind, api_key=wrong))
    assert err.code == E.AUTH
    assert wrong not in err.message and wrong not in str(err) and wrong not in repr(err)
    assert len(server.requests) == 1  # a refused key is not retried


@pytest.mark.parametrize("kind", KINDS)
async def test_a_wrong_model_is_a_bad_model_error_naming_it(server, kind):
    err = await failure(provider(server, kind, model="no-such-model"))
    assert err.code == E.BAD_MODEL
    assert "no-such-model" in err.message


async def test_a_base_url_without_v1_says_so(server):
    err = await failure(provider(server, "openai", base_url=server.url))
    assert err.code == E.NOT_FOUND and "/v1" in err.message


async def test_server_text_is_redacted_of_the_key(server):
    server.script({"status": 400, "message": f"bad field in request with key {KEY}"})
    err = await failure(provider(server, "openai"))
    assert err.code == E.BAD_REQUEST
    assert "bad field" in err.message and KEY not in err.message


async def test_context_too_long_is_reported_as_such(server):
    server.script(
        {
            "status": 400,
            "code": "context_length_exceeded",
            "message": "maximum context length is 8192 tokens",
        }
    )
    assert (await failure(provider(server, "openai"))).code == E.CONTEXT_TOO_LONG


async def test_an_unreachable_endpoint_is_retried_then_reported():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {
        "name": "gone",
        "kind": "openai",
        "model": "m",
        "base_url": f"http://127.0.0.1:{port}/v1",
        **FAST,
    }
    err = await failure(ProviderRegistry.from_config([config]).get())
    assert err.code == E.UNREACHABLE
    assert f"127.0.0.1:{port}" in err.message


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_hanging_endpoint_times_out_without_retry(server, kind):
    server.script({"hang": True}, {"text": "too late"})
    started = time.monotonic()
    err = await failure(provider(server, kind), timeout=0.5)
    assert err.code == E.TIMEOUT
    assert 0.4 < time.monotonic() - started < 3
    assert len(server.requests) == 1


async def test_a_slow_stream_between_tokens_times_out(server):
    server.script({"chunks": ["a", "b"], "delay": 2})
    err = await failure(provider(server, "anthropic"), timeout=0.5)
    assert err.code == E.TIMEOUT


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_closing_the_stream_closes_the_connection(server, kind):
    server.script({"chunks": [f"t{i} " for i in range(50)], "delay": 0.05})
    stream = provider(server, kind).stream_chat(HELLO)
    got = [await anext(stream), await anext(stream)]
    await stream.aclose()
    assert got == ["t0 ", "t1 "]
    assert await server.until(lambda: server.requests[0]["disconnected"], timeout=2)
    assert server.requests[0]["chunks_sent"] < 10


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_cancelling_the_task_closes_the_connection(server, kind):
    server.script({"chunks": [f"t{i} " for i in range(50)], "delay": 0.05})
    got = []

    async def consume():
        async for text in provider(server, kind).stream_chat(HELLO):
            got.append(text)

    task = asyncio.ensure_future(consume())
    assert await server.until(lambda: len(got) >= 1, timeout=3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await server.until(lambda: server.requests[0]["disconnected"], timeout=2)
    assert server.requests[0]["chunks_sent"] < 10


# -- keys --------------------------------------------------------------------------------------


async def test_missing_key_names_the_variable_and_sends_nothing(server, monkeypatch):
    monkeypatch.delenv("JC_TEST_ANTHROPIC_KEY", raising=False)
    p = provider(server, "anthropic", api_key=None, api_key_env="JC_TEST_ANTHROPIC_KEY")
    err = await failure(p)
    assert err.code == E.MISSING_KEY and "JC_TEST_ANTHROPIC_KEY" in err.message
    assert server.requests == []
    assert p.public_info()["available"] is False


async def test_key_from_environment_then_from_a_rotated_file(server, monkeypatch, tmp_path):
    monkeypatch.setenv("JC_TEST_OPENAI_KEY", KEY)
    await collect(provider(server, "openai", api_key=None, api_key_env="JC_TEST_OPENAI_KEY"))
    assert server.requests[-1]["headers"]["authorization"] == f"Bearer {KEY}"

    key_file = tmp_path / "key"
    key_file.write_text("sk-old\n")
    p = provider(server, "openai", api_key=None, api_key_file=str(key_file))
    assert (await failure(p)).code == E.AUTH
    key_file.write_text(KEY + "\n")  # the secret was rotated: no restart needed
    assert await collect(p)
    assert server.requests[-1]["headers"]["authorization"] == f"Bearer {KEY}"


async def test_a_self_hosted_server_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeLLMServer() as s:
        p = ProviderRegistry.from_config(
            [{"name": "vllm", "kind": "openai", "model": "m", "base_url": s.openai_url, **FAST}]
        ).get("vllm")
        assert p.public_info()["key"] == "not_needed"
        assert await collect(p)


def test_public_info_never_contains_secrets(monkeypatch, tmp_path):
    env_key, file_key, header_secret, url_password = (
        "sk-env-aaaa1111",
        "sk-file-bbbb2222",
        "hdr-cccc3333",
        "pw-dddd4444",
    )
    monkeypatch.setenv("JC_TEST_KEY", env_key)
    (tmp_path / "k").write_text(file_key)
    registry = ProviderRegistry.from_config(
        [
            {"name": "a", "kind": "openai", "model": "gpt-x", "api_key": KEY},
            {
                "name": "b",
                "kind": "anthropic",
                "model": "claude-x",
                "api_key_env": "JC_TEST_KEY",
                "default": True,
            },
            {
                "name": "c",
                "kind": "openai",
                "model": "m",
                "api_key_file": str(tmp_path / "k"),
                "base_url": f"https://user:{url_password}@llm.internal:8000/v1?token={url_password}",
                "headers": {"X-Gateway-Token": header_secret},
            },
            {
                "name": "d",
                "kind": "anthropic",
                "model": "claude-y",
                "api_key_env": "JC_TEST_UNSET_KEY",
            },
            {"name": "e", "kind": "local", "label": "On this machine"},
        ]
    )
    info = registry.public_info()
    text = json.dumps(info)
    for secret in (KEY, env_key, file_key, header_secret, url_password, str(tmp_path)):
        assert secret not in text
    assert info["default"] == "b"
    rows = {p["name"]: p for p in info["providers"]}
    assert [rows[n]["key"] for n in "abcde"] == ["set", "set", "set", "missing", "not_needed"]
    assert rows["b"]["key_source"] == "env:JC_TEST_KEY" and rows["b"]["model"] == "claude-x"
    assert rows["e"]["label"] == "On this machine"
    assert KEY not in repr(registry.get("a").spec)


async def test_keys_never_reach_the_logs(server, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)  # everything, the SDKs' and httpx's debug logs included
    monkeypatch.setenv("OPENAI_LOG", "debug")
    wrong = "sk-wrong-key-for-the-log-test-99"
    server.script({"status": 429}, {"text": "ok"})
    for kind in KINDS:
        await collect(provider(server, kind))
        await failure(provider(server, kind, api_key=wrong))
    assert len(caplog.records) > 0
    for record in caplog.records:
        logged = record.getMessage() + repr(record.args) + repr(getattr(record, "__dict__", {}))
        assert KEY not in logged and wrong not in logged, record.name


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, words",
    [
        ([{"name": "a", "kind": "openai", "model": "m", "api_key_evn": "X"}], "api_key_evn"),
        ([{"name": "a", "kind": "gemini", "model": "m"}], "kind"),
        ([{"name": "a", "kind": "openai"}], "model"),
        ([{"name": "a", "kind": "azure", "model": "m", "base_url": "https://x"}], "api_version"),
        ([{"name": "a b", "kind": "local"}], "name"),
        ([{"name": "a", "kind": "local"}, {"name": "a", "kind": "local"}], "unique"),
        (
            [
                {"name": "a", "kind": "local", "default": True},
                {"name": "b", "kind": "local", "default": True},
            ],
            "default",
        ),
        ([{"name": "a", "kind": "local", "timeout": 0}], "timeout"),
        ({"name": "a"}, "list"),
    ],
)
def test_bad_configuration_is_refused_with_the_reason(config, words):
    with pytest.raises(ValueError, match=words):
        ProviderRegistry.from_config(config)


async def test_only_configured_providers_can_be_used():
    registry = ProviderRegistry.from_config([{"name": "only", "kind": "local"}])
    assert registry.get().name == "only"
    with pytest.raises(ProviderError) as info:
        registry.get("gpt-4")
    assert info.value.code == E.NOT_CONFIGURED and "only" in info.value.message
    with pytest.raises(ProviderError, match="c.CursorApp.providers"):
        ProviderRegistry.from_config([]).get()


async def test_malformed_messages_are_refused_before_any_request(server):
    err = await failure(provider(server, "openai"), [{"role": "tool", "content": "x"}])
    assert err.code == E.BAD_REQUEST
    assert server.requests == []


async def test_a_missing_sdk_says_what_to_install(server, monkeypatch):
    monkeypatch.setitem(sys.modules, "anthropic", None)  # makes `import anthropic` fail
    err = await failure(provider(server, "anthropic"))
    assert err.code == E.NOT_CONFIGURED and "pip install anthropic" in err.message
