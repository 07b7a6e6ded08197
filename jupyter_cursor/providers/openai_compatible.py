"""OpenAI's chat completions API through the official ``openai`` SDK: OpenAI itself, Azure OpenAI,
and every server that speaks it at a ``base_url`` (vLLM, Ollama, llama.cpp's server, LM Studio).

The SDK is imported on first use, so a server with no chat configured never pays for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .sdk_provider import SdkProvider


class OpenAICompatibleProvider(SdkProvider):
    SDK, SDK_ERROR = "openai", "OpenAIError"

    def _new_client(self, openai: Any, key: str) -> Any:
        return openai.AsyncOpenAI(
            api_key=key,
            base_url=self.spec.base_url,
            organization=self.spec.organization,
            project=self.spec.project,
            default_headers=self.spec.headers or None,
            max_retries=0,  # retries are ours: the SDK's would also retry after a 429 we must report
            timeout=self.spec.timeout,
        )

    def _token_limit(self, max_tokens: int) -> dict[str, int]:
        # OpenAI's newer models refuse `max_tokens`; self-hosted servers know only `max_tokens`.
        if self.spec.kind == "openai" and self.spec.base_url is None:
            return {"max_completion_tokens": max_tokens}
        return {"max_tokens": max_tokens}

    def _stream_once(self, messages, model, max_tokens, temperature, timeout) -> AsyncIterator[str]:
        extra: dict[str, Any] = self._token_limit(max_tokens)
        if temperature is not None:
            extra["temperature"] = temperature

        def texts(chunk) -> list[str]:
            # Azure sends chunks with no choices (content-filter results); reasoning servers
            # send deltas with no content: neither is text.
            text = chunk.choices[0].delta.content if chunk.choices else None
            return [text] if text else []

        return self._relay(
            model,
            timeout,
            lambda client: client.chat.completions.create(
                model=model, messages=messages, stream=True, timeout=timeout, **extra
            ),
            texts,
        )


class AzureOpenAIProvider(OpenAICompatibleProvider):
    """Azure OpenAI: ``base_url`` is the resource endpoint, ``model`` the deployment name."""

    def _new_client(self, openai: Any, key: str) -> Any:
        return openai.AsyncAzureOpenAI(
            api_key=key,
            azure_endpoint=self.spec.base_url,
            azure_deployment=self.spec.model,
            api_version=self.spec.api_version,
            default_headers=self.spec.headers or None,
            max_retries=0,
            timeout=self.spec.timeout,
        )

    def _token_limit(self, max_tokens: int) -> dict[str, int]:
        return {"max_completion_tokens": max_tokens}
