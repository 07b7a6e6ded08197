"""The provider interface: stream a chat answer as text deltas, with retries and clear errors.

Cancellation is the consumer's: stop iterating (``aclose`` the generator, or use
``contextlib.aclosing``) or cancel the task, and the implementation closes its HTTP stream at once,
so the endpoint stops generating (and billing) too.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import logging
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

from .config import ProviderSpec
from .errors import BAD_REQUEST, ProviderError
from .keys import key_source, key_status

log = logging.getLogger("jupyter_cursor.providers")

ROLES = ("system", "user", "assistant")


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    base: float = 1.0
    cap: float = 30.0

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Seconds before retry number ``attempt`` (0-based): the server's hint when it gave one,
        else exponential backoff with jitter, so that many clients do not retry in step."""
        if hint is not None:
            return min(max(hint, 0.0), self.cap)
        return random.uniform(0.5, 1.0) * min(self.cap, self.base * 2**attempt)


class Provider(abc.ABC):
    """One configured model endpoint. Subclasses implement :meth:`_stream_once`, one attempt that
    raises :class:`ProviderError` for every failure; this class adds validation and retries."""

    def __init__(self, spec: ProviderSpec):
        self.spec = spec
        self.retry = RetryPolicy(spec.max_retries, spec.retry_base, spec.retry_cap)

    @property
    def name(self) -> str:
        return self.spec.name

    async def stream_chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        """Yield the answer's text deltas. Unset arguments take the provider's configured values.

        Rate limits, overload and connection failures are retried with backoff while nothing has
        been yielded; once text has reached the consumer a failure is raised, never retried, since
        a second answer would not continue the first.
        """
        checked = check_messages(messages)
        model = model or self.spec.model
        max_tokens = max_tokens or self.spec.max_tokens
        temperature = self.spec.temperature if temperature is None else temperature
        timeout = timeout or self.spec.timeout
        attempt = 0
        while True:
            produced = False
            try:
                log.info(
                    "provider %s: request to model %s (attempt %d)", self.name, model, attempt + 1
                )
                stream = self._stream_once(checked, model, max_tokens, temperature, timeout)
                async with aclosing(stream) as deltas:
                    async for text in deltas:
                        if text:
                            produced = True
                            yield text
                return
            except ProviderError as err:
                if produced or not err.retryable or attempt >= self.retry.max_retries:
                    log.info("provider %s: %s", self.name, err.code)
                    raise
                wait = self.retry.delay(attempt, err.retry_after)
                log.warning(
                    "provider %s: %s, retry %d of %d in %.2fs",
                    self.name,
                    err.code,
                    attempt + 1,
                    self.retry.max_retries,
                    wait,
                )
                attempt += 1
                await asyncio.sleep(wait)

    @abc.abstractmethod
    def _stream_once(
        self,
        messages: list[dict[str, str]],
        model: str,
        max_tokens: int,
        temperature: float | None,
        timeout: float,
    ) -> AsyncIterator[str]:
        """One attempt: an async generator of text deltas that closes its stream when closed."""

    def preload(self) -> None:
        """Import now what the first request would (an SDK takes a second to import, which on
        the event loop would stall every socket): called once when the server starts."""

    def available(self) -> tuple[bool, str]:
        """Whether a request could be tried now, and if not, why (shown in the browser)."""
        if key_status(self.spec) == "missing":
            return False, f"no API key ({key_source(self.spec)})"
        return True, ""

    def public_info(self) -> dict[str, Any]:
        """What the browser may know: never a key, a header, a file path or a URL (URLs can carry
        credentials and internal host names)."""
        ok, why = self.available()
        return {
            "name": self.spec.name,
            "label": self.spec.display_name,
            "kind": self.spec.kind,
            "model": self.spec.model,
            "key": key_status(self.spec),
            "key_source": key_source(self.spec),
            "available": ok,
            "reason": why,
        }

    async def aclose(self) -> None:  # noqa: B027 - a provider without connections has none to close
        """Release connections; the provider may be used again afterwards."""


def check_messages(messages: Sequence[Any]) -> list[dict[str, str]]:
    if not messages:
        raise ProviderError(BAD_REQUEST, "No messages to send.")
    checked = []
    for i, m in enumerate(messages):
        if (
            not isinstance(m, dict)
            or m.get("role") not in ROLES
            or not isinstance(m.get("content"), str)
        ):
            raise ProviderError(
                BAD_REQUEST, f"Message {i} must be {{'role': one of {ROLES}, 'content': str}}."
            )
        checked.append({"role": m["role"], "content": m["content"]})
    return checked
