"""Turn the official SDKs' exceptions into :class:`ProviderError` with a message a user can act on.

The ``openai`` and ``anthropic`` SDKs share one exception shape (APIStatusError with
``status_code``/``body``/``response``, APIConnectionError, APITimeoutError), so one translation
serves both; the SDK module is passed in so neither is imported here. Both run on ``httpx2``, whose
own errors can escape a stream unwrapped (the anthropic SDK lets a read timeout through), so those
are translated too.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ..redaction import redact, safe_url
from . import errors as E
from .config import ProviderSpec
from .errors import ProviderError, shorten
from .keys import key_source

# Anthropic names its errors by type, also inside a stream that already answered 200.
_ANTHROPIC_TYPES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def describe_endpoint(spec: ProviderSpec) -> str:
    """The endpoint in words, without userinfo or query string (either may hold a secret)."""
    if not spec.base_url:
        return {"anthropic": "the Anthropic API"}.get(spec.kind, "the OpenAI API")
    return safe_url(spec.base_url)


def import_sdk(name: str) -> ModuleType:
    """The SDK module, or a ``not_configured`` error that says what to install."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise ProviderError(
            E.NOT_CONFIGURED,
            f"The '{name}' package is not installed in the Jupyter server's environment: "
            f"pip install {name}",
        ) from None


def transport_errors() -> tuple[type[Exception], ...]:
    """The HTTP library's errors, to be caught alongside the SDK's."""
    import httpx2

    return (httpx2.TransportError,)


def translate(
    err: Exception,
    sdk: ModuleType,
    spec: ProviderSpec,
    *,
    model: str,
    timeout: float,
    secrets: list[str | None],
) -> ProviderError:
    where = describe_endpoint(spec)
    who = f"Provider '{spec.name}'"
    import httpx2

    if isinstance(err, (sdk.APITimeoutError, httpx2.TimeoutException)):
        return ProviderError(E.TIMEOUT, f"{who}: no data from {where} for {timeout:g}s.")
    if isinstance(err, (sdk.APIConnectionError, httpx2.TransportError)):
        cause = err if isinstance(err, httpx2.TransportError) else err.__cause__ or err.__context__
        detail = f" ({type(cause).__name__})" if cause else ""
        return ProviderError(
            E.UNREACHABLE,
            f"{who}: cannot reach {where}{detail}. Is the server running and the base_url right?",
            retryable=True,
        )
    if not isinstance(err, sdk.APIError):
        return ProviderError(E.PROTOCOL, f"{who}: unexpected {type(err).__name__} from the SDK.")
    status = getattr(err, "status_code", None)
    code, message = _error_details(getattr(err, "body", None), err)
    if code in _ANTHROPIC_TYPES:
        status = _ANTHROPIC_TYPES[code] if status in (None, 200) else status
    message = shorten(redact(message, secrets))
    headers = getattr(getattr(err, "response", None), "headers", None)
    return classify(status, code, message, headers, spec, model, who, where)


def classify(
    status: int | None,
    code: str,
    message: str,
    headers: Any,
    spec: ProviderSpec,
    model: str,
    who: str,
    where: str,
) -> ProviderError:
    said = f" The server said: {message}" if message else ""
    lowered = f"{code} {message}".lower()
    if status in (401, 403):
        # The server's text is left out: it often quotes the key back.
        return ProviderError(
            E.AUTH,
            f"{who}: {where} refused the API key (HTTP {status}). Check the key in {key_source(spec)}.",
        )
    if status == 404:
        if "model" in lowered or "deployment" in lowered:
            return ProviderError(
                E.BAD_MODEL, f"{who}: model '{model}' is not available at {where}.{said}"
            )
        return ProviderError(
            E.NOT_FOUND,
            f"{who}: {where} has no chat endpoint (HTTP 404). OpenAI-compatible servers usually "
            f"need a base_url ending in /v1.{said}",
        )
    if status == 429:
        if "quota" in lowered or "billing" in lowered:
            return ProviderError(E.RATE_LIMITED, f"{who}: the account is out of quota.{said}")
        return ProviderError(
            E.RATE_LIMITED,
            f"{who}: rate limited by {where}; try again in a moment.{said}",
            retryable=True,
            retry_after=retry_after(headers),
        )
    if status is not None and (status >= 500 or status in (408, 409)):
        return ProviderError(
            E.OVERLOADED,
            f"{who}: {where} is overloaded or failing (HTTP {status}); try again later.{said}",
            retryable=True,
            retry_after=retry_after(headers),
        )
    if (
        status == 413
        or "context_length" in lowered
        or "too long" in lowered
        or "maximum context" in lowered
    ):
        return ProviderError(
            E.CONTEXT_TOO_LONG, f"{who}: the conversation is too long for model '{model}'.{said}"
        )
    if status is not None and 400 <= status < 500:
        return ProviderError(
            E.BAD_REQUEST, f"{who}: {where} refused the request (HTTP {status}).{said}"
        )
    # An error event inside a stream with no status of its own: worth a retry before any output.
    return ProviderError(
        E.OVERLOADED, f"{who}: the stream from {where} failed.{said}", retryable=True
    )


def _error_details(body: Any, err: Exception) -> tuple[str, str]:
    """(code or type, message) from an OpenAI ``{"error": {...}}`` or Anthropic
    ``{"type": "error", "error": {...}}`` body, or from the exception text."""
    inner = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(inner, dict):
        code = inner.get("code") or inner.get("type") or ""
        message = inner.get("message") or ""
        return str(code), str(message)
    if isinstance(body, str):
        return "", body
    return "", getattr(err, "message", "") or ""


def retry_after(headers: Any) -> float | None:
    """The server's wait hint: ``retry-after-ms`` or ``retry-after`` in seconds (dates ignored)."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None
