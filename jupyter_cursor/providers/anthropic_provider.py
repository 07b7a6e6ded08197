"""Anthropic's Messages API through the official ``anthropic`` SDK (imported on first use).

Anthropic takes the system prompt as a parameter of its own, not as a message, and wants user and
assistant turns to alternate: a cancelled or failed turn can leave two user messages in a row in
our history, so consecutive turns of one role are joined.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .base import Provider
from .keys import resolve_key
from .sdk_errors import import_sdk, translate, transport_errors


def to_anthropic(messages: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    """(system prompt, alternating turns) from our role/content messages."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns: list[dict[str, str]] = []
    for m in messages:
        if m["role"] == "system":
            continue
        if turns and turns[-1]["role"] == m["role"]:
            turns[-1] = {"role": m["role"], "content": turns[-1]["content"] + "\n\n" + m["content"]}
        else:
            turns.append({"role": m["role"], "content": m["content"]})
    return system, turns


class AnthropicProvider(Provider):
    def __init__(self, spec):
        super().__init__(spec)
        self._client: Any = None
        self._client_key: str | None = None

    def _client_for(self, key: str) -> Any:
        anthropic = import_sdk("anthropic")

        if self._client is None or self._client_key != key:
            self._client = anthropic.AsyncAnthropic(
                api_key=key,
                base_url=self.spec.base_url,
                default_headers=self.spec.headers or None,
                max_retries=0,  # ours, so that nothing is retried once text has streamed
                timeout=self.spec.timeout,
                open_telemetry=False,  # spans could carry prompts somewhere we did not choose
            )
            self._client_key = key
        return self._client

    async def _stream_once(
        self, messages, model, max_tokens, temperature, timeout
    ) -> AsyncIterator[str]:
        anthropic = import_sdk("anthropic")

        key = resolve_key(self.spec)
        client = self._client_for(key)
        secrets = [key, *self.spec.headers.values()]
        system, turns = to_anthropic(messages)
        extra: dict[str, Any] = {}
        if system:
            extra["system"] = system
        if temperature is not None:
            extra["extra_body"] = {"temperature": temperature}
        try:
            stream = await client.messages.create(
                model=model,
                max_tokens=max_tokens,
                messages=turns,
                stream=True,
                timeout=timeout,
                **extra,
            )
        except (anthropic.AnthropicError, *transport_errors()) as err:
            raise translate(
                err, anthropic, self.spec, model=model, timeout=timeout, secrets=secrets
            ) from None
        try:
            async for event in stream:
                if (
                    event.type == "content_block_delta"
                    and getattr(event.delta, "type", "") == "text_delta"
                ):
                    yield event.delta.text
        except (anthropic.AnthropicError, *transport_errors()) as err:
            raise translate(
                err, anthropic, self.spec, model=model, timeout=timeout, secrets=secrets
            ) from None
        finally:
            await stream.close()

    async def aclose(self) -> None:
        client, self._client, self._client_key = self._client, None, None
        if client is not None:
            await client.close()
