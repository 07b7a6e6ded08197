"""The local model runtime as a provider.

The runtime is injected as an async streaming callable, so this module knows nothing of how the
model is loaded or where it runs::

    generate(prompt, max_tokens, stop) -> AsyncIterator[str]   # text deltas

``prompt`` is what ``render`` makes of the messages: by default the plain format of
:func:`render_plain_prompt`; pass the tokenizer's chat template for an instruction-tuned model
(``lambda m: tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True)``), or
``lambda m: m`` for a runtime that takes the messages themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from .base import Provider
from .config import ProviderSpec
from .errors import ENGINE, NOT_CONFIGURED, TIMEOUT, ProviderError

LocalGenerate = Callable[[Any, int, list[str]], AsyncIterator[str]]
Render = Callable[[list[dict[str, str]]], Any]

# Role markers of the plain format; the model is stopped when it starts a turn of its own.
PLAIN_STOP = ["<|user|>", "<|system|>"]


def render_plain_prompt(messages: list[dict[str, str]]) -> str:
    """Each message as ``<|role|>\\n<content>\\n``, then ``<|assistant|>\\n`` for the answer::

    <|system|>
    You are a helpful assistant.
    <|user|>
    Hello
    <|assistant|>
    """
    parts = [f"<|{m['role']}|>\n{m['content']}\n" for m in messages]
    return "".join(parts) + "<|assistant|>\n"


class LocalProvider(Provider):
    def __init__(
        self, spec: ProviderSpec, generate: LocalGenerate | None, render: Render | None = None
    ):
        super().__init__(spec)
        self._generate = generate
        self._render = render or render_plain_prompt
        # Only the plain format's markers are known to end a turn; a chat template ends its turns
        # with tokens the runtime stops on by itself.
        self._stop = list(PLAIN_STOP) if render is None else []

    def available(self) -> tuple[bool, str]:
        if self._generate is None:
            return False, "the local model runtime is not running"
        return True, ""

    async def _stream_once(
        self, messages, model, max_tokens, temperature, timeout
    ) -> AsyncIterator[str]:
        if self._generate is None:
            raise ProviderError(
                NOT_CONFIGURED,
                f"Provider '{self.name}': the local model runtime is not running; configure and "
                "start the model, or choose another provider.",
            )
        stream = self._generate(self._render(messages), max_tokens, list(self._stop))
        try:
            while True:
                # The runtime has no timeout of its own to honour: a stalled worker must not hang
                # the chat.
                try:
                    text = await asyncio.wait_for(anext(stream), timeout)
                except StopAsyncIteration:
                    return
                except asyncio.TimeoutError:
                    raise ProviderError(
                        TIMEOUT,
                        f"Provider '{self.name}': the local model produced nothing for {timeout:g}s.",
                    ) from None
                except ProviderError:
                    raise
                except Exception as err:  # the runtime's own failures (out of memory, a crash)
                    raise ProviderError(
                        ENGINE,
                        f"Provider '{self.name}': the local model failed: {type(err).__name__}: {err}",
                    ) from None
                yield text
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
