"""Anthropic's Messages API through the official ``anthropic`` SDK (imported on first use).

Anthropic takes the system prompt as a parameter of its own, not as a message, and wants user and
assistant turns to alternate: a cancelled or failed turn can leave two user messages in a row in
our history, so consecutive turns of one role are joined.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .sdk_provider import SdkProvider


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


class AnthropicProvider(SdkProvider):
    SDK, SDK_ERROR = "anthropic", "AnthropicError"

    def _new_client(self, anthropic: Any, key: str) -> Any:
        return anthropic.AsyncAnthropic(
            api_key=key,
            base_url=self.spec.base_url,
            default_headers=self.spec.headers or None,
            max_retries=0,  # ours, so that nothing is retried once text has streamed
            timeout=self.spec.timeout,
            open_telemetry=False,  # spans could carry prompts somewhere we did not choose
        )

    def _stream_once(self, messages, model, max_tokens, temperature, timeout) -> AsyncIterator[str]:
        system, turns = to_anthropic(messages)
        extra: dict[str, Any] = {}
        if system:
            extra["system"] = system
        if temperature is not None:
            extra["extra_body"] = {"temperature": temperature}

        def texts(event) -> list[str]:
            is_text = (
                event.type == "content_block_delta"
                and getattr(event.delta, "type", "") == "text_delta"
            )
            return [event.delta.text] if is_text else []

        return self._relay(
            model,
            timeout,
            lambda client: client.messages.create(
                model=model,
                max_tokens=max_tokens,
                messages=turns,
                stream=True,
                timeout=timeout,
                **extra,
            ),
            texts,
        )
