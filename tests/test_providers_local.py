"""The local runtime provider (an injected streaming callable) and Anthropic's message shaping."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_cursor.providers import ProviderError, ProviderRegistry, render_plain_prompt
from jupyter_cursor.providers import errors as E
from jupyter_cursor.providers.anthropic_provider import to_anthropic

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
]


class FakeRuntime:
    """Records its calls; streams ``deltas`` with an optional pause, or fails after some."""

    def __init__(self, deltas=("a", "b", "c"), pause=0.0, fail_after=None):
        self.deltas, self.pause, self.fail_after = deltas, pause, fail_after
        self.calls = []
        self.closed = False

    async def __call__(self, prompt, max_tokens, stop):
        self.calls.append((prompt, max_tokens, stop))
        try:
            for i, text in enumerate(self.deltas):
                if i == self.fail_after:
                    raise MemoryError("CUDA out of memory")
                if self.pause:
                    await asyncio.sleep(self.pause)
                yield text
        finally:
            self.closed = True


def local(runtime, render=None, **extra):
    config = [{"name": "local", "kind": "local", "max_tokens": 64, **extra}]
    return ProviderRegistry.from_config(config, local_generate=runtime, local_render=render).get()


def test_the_plain_prompt_format():
    assert render_plain_prompt(MESSAGES) == "<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\n"


async def test_streams_from_the_runtime_with_the_plain_prompt_and_its_stops():
    runtime = FakeRuntime()
    assert [t async for t in local(runtime).stream_chat(MESSAGES, max_tokens=9)] == ["a", "b", "c"]
    assert runtime.calls == [(render_plain_prompt(MESSAGES), 9, ["<|user|>", "<|system|>"])]


async def test_a_chat_template_replaces_the_plain_format():
    runtime = FakeRuntime()
    template = lambda messages: "|".join(m["content"] for m in messages)  # noqa: E731
    await asyncio.wait_for(local(runtime, render=template).stream_chat(MESSAGES).__anext__(), 5)
    assert runtime.calls[0] == ("Be brief.|Hi", 64, [])


async def test_closing_the_stream_closes_the_runtimes_generator():
    runtime = FakeRuntime(deltas=[str(i) for i in range(100)], pause=0.01)
    stream = local(runtime).stream_chat(MESSAGES)
    assert await anext(stream) == "0"
    await stream.aclose()
    assert runtime.closed


async def test_a_stalled_runtime_times_out():
    runtime = FakeRuntime(pause=5)
    with pytest.raises(ProviderError) as info:
        [t async for t in local(runtime).stream_chat(MESSAGES, timeout=0.2)]
    assert info.value.code == E.TIMEOUT
    assert runtime.closed


async def test_a_runtime_failure_is_an_engine_error_after_the_text_so_far():
    got = []
    with pytest.raises(ProviderError) as info:
        async for text in local(FakeRuntime(fail_after=2)).stream_chat(MESSAGES):
            got.append(text)
    assert got == ["a", "b"]
    assert info.value.code == E.ENGINE and "out of memory" in info.value.message


async def test_without_a_runtime_the_provider_says_it_is_not_running():
    provider = local(None)
    assert provider.public_info()["available"] is False
    with pytest.raises(ProviderError) as info:
        [t async for t in provider.stream_chat(MESSAGES)]
    assert info.value.code == E.NOT_CONFIGURED


def test_anthropic_gets_the_system_apart_and_alternating_turns():
    system, turns = to_anthropic(
        [
            {"role": "system", "content": "S1"},
            {"role": "user", "content": "Q1"},
            {"role": "user", "content": "Q1 again, after a failed answer"},
            {"role": "assistant", "content": "A1"},
            {"role": "system", "content": "S2"},
            {"role": "user", "content": "Q2"},
        ]
    )
    assert system == "S1\n\nS2"
    assert turns == [
        {"role": "user", "content": "Q1\n\nQ1 again, after a failed answer"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
    ]
