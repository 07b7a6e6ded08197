"""Provider settings from a plain dict, as an admin writes them in ``jupyter_server_config.py``::

    c.CursorApp.providers = [
        {"name": "gpt", "kind": "openai", "model": "gpt-4o-mini", "api_key_env": "OPENAI_API_KEY"},
        {"name": "vllm", "kind": "openai", "model": "Qwen/Qwen2.5-Coder-7B-Instruct",
         "base_url": "http://gpu-box:8000/v1"},
        {"name": "claude", "kind": "anthropic", "model": "claude-sonnet-4-5"},
        {"name": "local", "kind": "local"},
    ]

Unknown keys are refused rather than ignored, so that a typo (``api_key_evn``) is an error at
start-up and not a silent fallback. Only the providers listed here exist: the browser picks one by
name and can never supply a model, a URL or a key of its own.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ..redaction import register_secret, register_url

KINDS = ("openai", "azure", "anthropic", "local")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Headers whose values are credentials (Azure's api-key, a gateway's X-Auth-Token, ...).
_SECRET_HEADER = re.compile(r"(?i)auth|key|token|secret|password|cookie")


@dataclasses.dataclass(frozen=True)
class ProviderSpec:
    name: str
    kind: str
    model: str = ""
    label: str = ""
    # Where: None means the SDK's default endpoint (api.openai.com, api.anthropic.com). For
    # vLLM, Ollama, llama.cpp's server or LM Studio, their OpenAI-compatible URL ending in /v1.
    base_url: str | None = None
    # The key, first found wins: api_key (literal; discouraged, it sits in a config file), then
    # api_key_file (a mounted secret, read at each request so a rotated key is picked up), then
    # the environment variable api_key_env (default: the SDK's usual variable for the kind).
    api_key: str | None = None
    api_key_file: str | None = None
    api_key_env: str | None = None
    organization: str | None = None
    project: str | None = None
    api_version: str | None = None  # Azure only
    headers: dict[str, str] = dataclasses.field(default_factory=dict)  # may carry secrets too
    max_tokens: int = 4096
    # None: not sent, the model's own default. Reasoning models refuse any other value, and the
    # anthropic SDK no longer names the parameter (it is sent as an extra body field).
    temperature: float | None = None
    timeout: float = 60.0  # seconds without any data from the endpoint
    max_retries: int = 3
    retry_base: float = 1.0  # seconds; the backoff doubles from here
    retry_cap: float = 30.0
    context_chars: int = 48_000  # budget for the context sent with a chat message
    default: bool = False

    @property
    def display_name(self) -> str:
        return self.label or self.name

    def __repr__(self) -> str:
        # The dataclass repr would print the key and headers into tracebacks and logs.
        return f"ProviderSpec(name={self.name!r}, kind={self.kind!r}, model={self.model!r})"


_FIELDS = {f.name: f for f in dataclasses.fields(ProviderSpec)}
_STR_OR_NONE = {
    "base_url",
    "api_key",
    "api_key_file",
    "api_key_env",
    "organization",
    "project",
    "api_version",
}


def parse_spec(raw: Any, where: str = "provider") -> ProviderSpec:
    """One provider's settings, validated; raises ``ValueError`` naming the bad key."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a dict, not {type(raw).__name__}")
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise ValueError(f"{where} has unknown keys {unknown}; known: {sorted(_FIELDS)}")
    for required in ("name", "kind"):
        if required not in raw:
            raise ValueError(f"{where} needs {required!r}")
    name, kind = raw["name"], raw["kind"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{where}.name must be 1-64 letters, digits, '_', '.' or '-'")
    where = f"provider {name!r}"
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {KINDS}, not {kind!r}")
    values = dict(raw)
    for key, value in raw.items():
        if key in ("name", "kind"):
            continue
        values[key] = _check(key, value, where)
    if kind != "local" and not values.get("model"):
        raise ValueError(f"{where} needs 'model' (for Azure: the deployment name)")
    if kind == "azure" and not (values.get("base_url") and values.get("api_version")):
        raise ValueError(
            f"{where}: Azure needs 'base_url' (the resource endpoint) and 'api_version'"
        )
    spec = ProviderSpec(**values)
    # The secrets written in the configuration are known to the scrubber from the start; keys
    # from a file or the environment are registered as they are read (keys.resolve_key).
    register_secret(spec.api_key)
    register_url(spec.base_url)
    for header, value in spec.headers.items():
        if _SECRET_HEADER.search(header):
            register_secret(value)
    return spec


def _check(key: str, value: Any, where: str) -> Any:
    if key in _STR_OR_NONE:
        if value is not None and not (isinstance(value, str) and value):
            raise ValueError(f"{where}: {key} must be a non-empty string or None")
        return value
    if key in ("model", "label"):
        if not isinstance(value, str):
            raise ValueError(f"{where}: {key} must be a string")
        return value
    if key == "headers":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError(f"{where}: headers must map strings to strings")
        return dict(value)
    if key == "default":
        if not isinstance(value, bool):
            raise ValueError(f"{where}: default must be true or false")
        return value
    if key in ("max_tokens", "max_retries", "context_chars"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{where}: {key} must be a non-negative integer")
        if key != "max_retries" and value == 0:
            raise ValueError(f"{where}: {key} must be positive")
        return value
    # the floats: temperature (may be None), timeout, retry_base, retry_cap
    if value is None and key == "temperature":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{where}: {key} must be a non-negative number")
    if key == "timeout" and value == 0:
        raise ValueError(f"{where}: timeout must be positive")
    return float(value)


def parse_specs(raw: Any) -> list[ProviderSpec]:
    """The whole list; names must be unique and at most one may say ``default``."""
    if not isinstance(raw, (list, tuple)):
        raise ValueError("providers must be a list of dicts")
    specs = [parse_spec(item, f"providers[{i}]") for i, item in enumerate(raw)]
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"provider names must be unique; repeated: {duplicates}")
    if sum(s.default for s in specs) > 1:
        raise ValueError("at most one provider may set default=True")
    return specs
