"""Foundation-model clients for chat: OpenAI-compatible endpoints, Anthropic, the local runtime.

Plain asyncio, no web code. Every provider streams text deltas from
:meth:`Provider.stream_chat` and raises :class:`ProviderError` with a code from :mod:`.errors`.
"""

from .base import Provider, RetryPolicy
from .config import KINDS, ProviderSpec, parse_spec, parse_specs
from .errors import ProviderError
from .local import LocalProvider, render_plain_prompt
from .registry import ProviderRegistry, make_provider

__all__ = [
    "KINDS",
    "LocalProvider",
    "Provider",
    "ProviderError",
    "ProviderRegistry",
    "ProviderSpec",
    "RetryPolicy",
    "make_provider",
    "parse_spec",
    "parse_specs",
    "render_plain_prompt",
]
