"""OpenAI's chat completions API through the official ``openai`` SDK: OpenAI itself, Azure OpenAI,
and every server that speaks it at a ``base_url`` (vLLM, Ollama, llama.cpp's server, LM Studio).

The SDK is imported on first use, so a server with no chat configured never pays for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .base import Provider
from .keys import resolve_key
from .sdk_errors import import_sdk, translate, transport_errors


class OpenAICompatibleProvider(Provider):
    def __init__(self, spec):
        super().__init__(spec)
        self._client: Any = None
        self._client_key: str | None = None

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

    def _client_for(self, key: str) -> Any:
        openai = import_sdk("openai")

        # A new key (rotated file, fixed environment) needs a new client; otherwise keep the
        # connection pool.
        if self._client is None or self._client_key != key:
            self._client = self._new_client(openai, key)
            self._client_key = key
        return self._client

    def _token_limit(self, max_tokens: int) -> dict[str, int]:
        # OpenAI's newer models refuse `max_tokens`; self-hosted servers know only `max_tokens`.
        if self.spec.kind == "openai" and self.spec.base_url is None:
            return {"max_completion_tokens": max_tokens}
        return {"max_tokens": max_tokens}

    async def _stream_once(
        self, messages, model, max_tokens, temperature, timeout
    ) -> AsyncIterator[str]:
        openai = import_sdk("openai")

        key = resolve_key(self.spec)
        client = self._client_for(key)
        secrets = [key, *self.spec.headers.values()]
        extra: dict[str, Any] = self._token_limit(max_tokens)
        if temperature is not None:
            extra["temperature"] = temperature
        try:
            stream = await client.chat.completions.create(
                model=model, messages=messages, stream=True, timeout=timeout, **extra
            )
        except (openai.OpenAIError, *transport_errors()) as err:
            raise translate(
                err, openai, self.spec, model=model, timeout=timeout, secrets=secrets
            ) from None
        try:
            async for chunk in stream:
                # Azure sends chunks with no choices (content-filter results); reasoning servers
                # send deltas with no content: neither is text.
                if chunk.choices:
                    text = chunk.choices[0].delta.content
                    if text:
                        yield text
        except (openai.OpenAIError, *transport_errors()) as err:
            raise translate(
                err, openai, self.spec, model=model, timeout=timeout, secrets=secrets
            ) from None
        finally:
            await stream.close()

    async def aclose(self) -> None:
        client, self._client, self._client_key = self._client, None, None
        if client is not None:
            await client.close()


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
