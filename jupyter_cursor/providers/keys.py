"""Where a provider's key comes from, and whether it needs one.

Keys are looked up at each request, not at start-up: a mounted secret that rotates, or an
environment fixed after a mistake, is picked up without losing the server. On JupyterHub the
usual place is the spawner's environment (``c.Spawner.environment = {"OPENAI_API_KEY": ...}``) or a
Kubernetes secret mounted as a file (``api_key_file``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ..redaction import register_secret
from .config import ProviderSpec
from .errors import MISSING_KEY, ProviderError

DEFAULT_KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}
# Self-hosted OpenAI-compatible servers (vLLM, Ollama, llama.cpp, LM Studio) take any key, but the
# SDK refuses to send a request without one.
PLACEHOLDER_KEY = "not-needed"
_HOSTED = ("api.openai.com",)


def key_env(spec: ProviderSpec) -> str | None:
    return spec.api_key_env or DEFAULT_KEY_ENV.get(spec.kind)


def needs_key(spec: ProviderSpec) -> bool:
    """A hosted endpoint needs a key; a self-hosted OpenAI-compatible one only if configured so."""
    if spec.kind == "local":
        return False
    if spec.kind in ("anthropic", "azure") or spec.base_url is None:
        return True
    if spec.api_key or spec.api_key_file or spec.api_key_env:
        return True  # the admin said there is one: its absence is a mistake worth reporting
    return (urlsplit(spec.base_url).hostname or "") in _HOSTED


def key_source(spec: ProviderSpec) -> str:
    """Where the key is looked for, in words safe to show: a variable's name, never a value."""
    if spec.api_key:
        return "configuration"
    if spec.api_key_file:
        return "file"
    env = key_env(spec)
    return f"env:{env}" if env else "none"


def resolve_key(spec: ProviderSpec, environ: Mapping[str, str] | None = None) -> str | None:
    """The key to send, ``None`` for the local runtime; raises ``missing_key`` with what to set.

    The key is registered with the scrubber as it is read (rotated keys included), so that no
    status, error reply or log line can show it.
    """
    key = _read_key(spec, environ)
    if key != PLACEHOLDER_KEY:
        register_secret(key)
    return key


def _read_key(spec: ProviderSpec, environ: Mapping[str, str] | None = None) -> str | None:
    if spec.kind == "local":
        return None
    if spec.api_key:
        return spec.api_key
    if spec.api_key_file:
        try:
            key = Path(spec.api_key_file).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise ProviderError(
                MISSING_KEY,
                f"Provider '{spec.name}': cannot read its api_key_file ({type(err).__name__}).",
            ) from None
        if key:
            return key
        raise ProviderError(MISSING_KEY, f"Provider '{spec.name}': its api_key_file is empty.")
    environ = os.environ if environ is None else environ
    env = key_env(spec)
    key = (environ.get(env) or "").strip() if env else ""
    if key:
        return key
    if not needs_key(spec):
        return PLACEHOLDER_KEY
    raise ProviderError(
        MISSING_KEY,
        f"Provider '{spec.name}' has no API key: set the environment variable {env} for the "
        "Jupyter server (on JupyterHub: c.Spawner.environment), or set api_key_file in its "
        "configuration.",
    )


def key_status(spec: ProviderSpec, environ: Mapping[str, str] | None = None) -> str:
    """'set', 'missing' or 'not_needed', for the provider list shown in the browser."""
    try:
        key = resolve_key(spec, environ)
    except ProviderError:
        return "missing"
    return "not_needed" if key in (None, PLACEHOLDER_KEY) else "set"
