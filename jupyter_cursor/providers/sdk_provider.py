"""What the providers on an official SDK (openai, anthropic) share: one client per key, and the
stream relayed as text with the SDK's errors turned into ours."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from .base import Provider
from .errors import ProviderError
from .keys import resolve_key
from .sdk_errors import import_sdk, translate, transport_errors


class SdkProvider(Provider):
    SDK: str  # the module: "openai", "anthropic"
    SDK_ERROR: str  # the base class of its errors

    def __init__(self, spec):
        super().__init__(spec)
        self._client: Any = None
        self._client_key: str | None = None

    def preload(self) -> None:
        try:
            import_sdk(self.SDK)
        except ProviderError:
            pass  # not installed: each request says so

    @abc.abstractmethod
    def _new_client(self, sdk: Any, key: str) -> Any:
        """A client of the SDK for ``key`` (its own retries off: the retries are ours)."""

    def _client_for(self, key: str) -> Any:
        # A new key (rotated file, fixed environment) needs a new client; otherwise keep the
        # connection pool.
        if self._client is None or self._client_key != key:
            self._client = self._new_client(import_sdk(self.SDK), key)
            self._client_key = key
        return self._client

    async def _relay(
        self,
        model: str,
        timeout: float,
        open_stream: Callable[[Any], Awaitable[Any]],
        texts: Callable[[Any], Iterable[str]],
    ) -> AsyncIterator[str]:
        """Open the stream with ``open_stream(client)`` and yield the text ``texts(event)`` finds
        in each event; the SDK's errors become ProviderErrors with the secrets scrubbed."""
        sdk = import_sdk(self.SDK)
        key = resolve_key(self.spec)
        client = self._client_for(key)
        secrets = [key, *self.spec.headers.values()]
        errors = (getattr(sdk, self.SDK_ERROR), *transport_errors())
        try:
            stream = await open_stream(client)
        except errors as err:
            raise translate(
                err, sdk, self.spec, model=model, timeout=timeout, secrets=secrets
            ) from None
        try:
            async for event in stream:
                for text in texts(event):
                    yield text
        except errors as err:
            raise translate(
                err, sdk, self.spec, model=model, timeout=timeout, secrets=secrets
            ) from None
        finally:
            await stream.close()

    async def aclose(self) -> None:
        client, self._client, self._client_key = self._client, None, None
        if client is not None:
            await client.close()
