"""One scrubber for every text that leaves the server or reaches the log.

Model servers quote keys back in their error bodies ("Incorrect API key provided: sk-..."), proxies
echo whole requests, and HTTP libraries put URLs, with their userinfo, in their errors. So every
status, error reply and log line goes through :func:`redact`, which removes

- the secrets configured in this process, registered by whoever reads them
  (:func:`register_secret`, :func:`register_url`): the remote engine's key, the providers' keys as
  they are read from api_key / api_key_file / api_key_env, passwords in configured URLs;
- by pattern, secrets nobody registered: userinfo in any URL, ``Bearer``/``Basic`` credentials,
  OpenAI/Anthropic-style keys (``sk-...``, ``sk-ant-...``) and key-like query parameters.

No jupyter_cursor import here: every layer (engines, providers, services, protocol) may use it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "***"
# A shorter value is not treated as a secret: masking every "test" or "1234" in every log line would
# hide more than it protects. Short passwords in URLs are still caught by the userinfo pattern.
MIN_SECRET_CHARS = 8

_PATTERNS = (
    # scheme://user:pass@host -> scheme://***@host (userinfo holds no '/', '?', '#' or whitespace)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]*(?:@[^\s/?#@]*)*@"), r"\1" + MASK + "@"),
    (re.compile(r"(?i)\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MASK),
    # Authorization: <anything>, as a header line or in a dict's repr ('authorization': 'Basic ...')
    (
        re.compile(
            r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)(?:(?:Basic|Bearer|Token)\s+)?[^\s\"',;}]+"
        ),
        r"\1" + MASK,
    ),
    # OpenAI (sk-..., sk-proj-...) and Anthropic (sk-ant-...) keys, also half-masked by the server.
    (re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_*-]{16,}"), MASK),
    (
        re.compile(r"(?i)([?&](?:api[_-]?key|key|secret|password|sig)=)[^&\s#'\"]+"),
        r"\1" + MASK,
    ),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern | None = None


def _usable(secret: str | None) -> bool:
    return bool(secret) and len(secret.strip()) >= MIN_SECRET_CHARS


def register_secret(secret: str | None) -> None:
    """Remember a secret of this process (a key as configured or read), to scrub it everywhere."""
    global _secret_pattern
    if not _usable(secret):
        return
    secret = secret.strip()
    with _lock:
        if secret in _secrets:
            return
        _secrets.add(secret)
        # Longest first, so that a secret containing another is masked whole.
        alternatives = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(map(re.escape, alternatives)))


def register_url(url: str | None) -> None:
    """Remember the password (and a token-like user name) of a URL's userinfo."""
    if not url:
        return
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    for value in (parts.username, parts.password):
        if value:
            register_secret(value)
            register_secret(unquote(value))


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the registered secrets, the given ``secrets``, and anything that looks like
    a credential (see the module's docstring)."""
    if not text:
        return text
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for secret in sorted((s for s in secrets if _usable(s)), key=len, reverse=True):
        text = text.replace(secret, MASK)
    for regex, replacement in _PATTERNS:
        text = regex.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """A JSON-like value with every string in it redacted (dict keys are left as they are)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value


def safe_url(url: str) -> str:
    """A URL fit to show: without userinfo, query string or fragment (any may hold a secret)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a malformed port, say: the patterns still take the userinfo out
        return redact(url.split("?", 1)[0].split("#", 1)[0])
    if ":" in host:
        host = f"[{host}]"  # IPv6
    netloc = f"{host}{port}"
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else redact(netloc + parts.path)


class RedactingFilter(logging.Filter):
    """Scrubs a record's message (``msg % args``), exception and stack text in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_jupyter_cursor_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it itself
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # What the formatter would write; it keeps a precomputed exc_text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._jupyter_cursor_redacted = True
        return True


_FILTER = RedactingFilter()


def install_log_filter(*loggers: logging.Logger | str) -> None:
    """Scrub what the ``jupyter_cursor`` loggers and ``loggers`` write. Idempotent.

    A logger's filter sees only the records logged to that very logger, not those of its children,
    so the filter goes on every ``jupyter_cursor.*`` logger that exists, and on the handlers the
    records reach (which also covers children created later).
    """
    targets = [logging.getLogger("jupyter_cursor")]
    targets += [logging.getLogger(name) if isinstance(name, str) else name for name in loggers]
    manager = logging.Logger.manager
    targets += [
        logger
        for name, logger in list(manager.loggerDict.items())
        if name.startswith("jupyter_cursor.") and isinstance(logger, logging.Logger)
    ]
    for logger in targets:
        _add(logger)
        current: logging.Logger | None = logger
        while current is not None:
            for handler in current.handlers:
                _add(handler)
            current = current.parent if current.propagate else None
    if logging.lastResort is not None:  # what writes when no logger on the way has a handler
        _add(logging.lastResort)


def _add(filterer: logging.Filterer) -> None:
    if _FILTER not in filterer.filters:
        filterer.addFilter(_FILTER)
