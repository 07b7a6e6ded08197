"""The one error type providers raise, with codes the UI can act on.

Every failure of a provider, whatever its SDK, becomes a :class:`ProviderError` whose ``message``
tells the user what to do, and which never contains a key: every message goes through
:func:`jupyter_cursor.redaction.redact` (messages built from a server's reply also with the secrets
the provider sends, such as its headers).
"""

from __future__ import annotations

from ..redaction import redact

# The codes, stable: the browser switches on them.
MISSING_KEY = "missing_key"  # no key configured where one is needed
AUTH = "auth"  # the endpoint refused the key (401/403)
BAD_MODEL = "bad_model"  # the endpoint does not know the model
NOT_FOUND = "not_found"  # 404 that is not about the model: usually a base_url without /v1
UNREACHABLE = "unreachable"  # connection refused, DNS failure, TLS failure
TIMEOUT = "timeout"  # no data from the endpoint for `timeout` seconds
RATE_LIMITED = "rate_limited"  # 429, still after the retries
OVERLOADED = "overloaded"  # 5xx / 529, still after the retries
CONTEXT_TOO_LONG = "context_too_long"  # the prompt is over the model's context window
BAD_REQUEST = "bad_request"  # any other 4xx
NOT_CONFIGURED = "not_configured"  # unknown provider name, or a local runtime that is not running
ENGINE = "engine"  # the local model runtime failed
PROTOCOL = "protocol"  # the endpoint answered something that is not the protocol


class ProviderError(Exception):
    """A provider failure. ``retryable`` marks the ones worth another attempt before any output;
    ``retry_after`` is the server's own hint in seconds, when it gave one."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        message = redact(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"ProviderError({self.code!r}, {self.message!r})"


def shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
