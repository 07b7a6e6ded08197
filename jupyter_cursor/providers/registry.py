"""The configured providers by name: the only ones a chat may use."""

from __future__ import annotations

from typing import Any

from ..traits import config_error
from .anthropic_provider import AnthropicProvider
from .base import Provider
from .config import ProviderSpec, parse_specs
from .errors import NOT_CONFIGURED, ProviderError
from .local import LocalGenerate, LocalProvider, Render
from .openai_compatible import AzureOpenAIProvider, OpenAICompatibleProvider


def make_provider(
    spec: ProviderSpec,
    *,
    local_generate: LocalGenerate | None = None,
    local_render: Render | None = None,
) -> Provider:
    if spec.kind == "openai":
        return OpenAICompatibleProvider(spec)
    if spec.kind == "azure":
        return AzureOpenAIProvider(spec)
    if spec.kind == "anthropic":
        return AnthropicProvider(spec)
    return LocalProvider(spec, local_generate, local_render)


class ProviderRegistry:
    def __init__(self, providers: list[Provider], config_error: str | None = None):
        self._providers = {p.name: p for p in providers}
        self.config_error = config_error  # why the configured providers could not be used
        chosen = [p.name for p in providers if p.spec.default]
        self.default_name: str | None = (
            chosen[0] if chosen else (providers[0].name if providers else None)
        )

    @classmethod
    def from_config(
        cls,
        config: Any,
        *,
        local_generate: LocalGenerate | None = None,
        local_render: Render | None = None,
    ) -> ProviderRegistry:
        """From the list of dicts of ``c.CursorApp.providers``; raises ``ValueError`` when wrong.
        ``local_generate`` is the model runtime's streaming call, for providers of kind "local"."""
        error = config_error(config) if isinstance(config, list) else None
        if error:
            raise ValueError(error)
        specs = parse_specs(config)
        return cls(
            [
                make_provider(s, local_generate=local_generate, local_render=local_render)
                for s in specs
            ]
        )

    def get(self, name: str | None = None) -> Provider:
        """The provider called ``name``, or the default one; ``not_configured`` otherwise."""
        name = name or self.default_name
        if name is None:
            raise ProviderError(
                NOT_CONFIGURED,
                "No chat provider is configured: an administrator sets c.CursorApp.providers.",
            )
        provider = self._providers.get(name)
        if provider is None:
            raise ProviderError(
                NOT_CONFIGURED,
                f"No provider named '{name}'; configured: {sorted(self._providers)}.",
            )
        return provider

    def require(self, name: str | None = None) -> Provider:
        """The provider called ``name`` (or the default one), when it can be used now: else a
        ``not_configured`` ProviderError that says why (no key, unknown name, none configured)."""
        provider = self.get(name)
        ok, why = provider.available()
        if not ok:
            raise ProviderError(
                NOT_CONFIGURED, f"Provider '{provider.name}' cannot be used: {why}."
            )
        return provider

    def preload(self) -> None:
        for provider in self._providers.values():
            provider.preload()

    def __contains__(self, name: str) -> bool:
        return name in self._providers

    def __len__(self) -> int:
        return len(self._providers)

    def public_info(self) -> dict[str, Any]:
        """The provider list for the browser: names, kinds, models, key status; never a secret."""
        info: dict[str, Any] = {
            "default": self.default_name,
            "providers": [p.public_info() for p in self._providers.values()],
        }
        if self.config_error:
            info["error"] = self.config_error
        return info

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
