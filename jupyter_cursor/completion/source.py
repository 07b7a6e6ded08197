"""Which source completes at the cursor, and asking it: the answer is an insertion at the cursor,
which the frontend shows as ghost text through JupyterLab's inline completer.

Sources (``CursorApp.completion_source``):

- ``default``: the embedded completer (continuation.py), no model: the continuation of an earlier
  line that starts the same way; shown only when the notebook agrees on one.
- ``fim``: the configured model (``engine_model``, local or served) as a fill-in-the-middle code
  model: its family's prompt (fim.py) from the local tokenizer's special tokens, or for a served
  model from ``completion_fim_format`` or its name; the notebook as prefix and suffix (prompt.py);
  the middle trimmed (trim.py). The model then completes instead of predicting next edits. A
  served model is asked through the OpenAI completions API with the prompt rendered here, or
  (``completion_endpoint``) through its server's native infill endpoint, llama.cpp's ``/infill``
  or Ollama's ``/api/generate``, given the prefix and the suffix apart: the server applies the
  model's own FIM tokens (engine/remote.py).
- ``chat``: a configured chat provider (``completion_chat_provider``, default the chat's default
  one), asked for the text at a cursor marker (chat.py); opt-in, as each pause in typing sends
  the notebook around the cursor to the provider. The next-edit model still predicts.
- ``off``: no completion.

A completion that fails (a server gone, a 404, a timeout, a provider's error) is no completion: a
warning in the log, never an error to the user, who is typing, not asking.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING

from ..engine import GenerationRequest, Priority, Runtime, RuntimeState
from ..engine.remote import ENDPOINTS, InfillRequest
from ..providers.errors import ProviderError
from ..redaction import redact
from ..workers import run_cpu, text_size
from . import chat, continuation
from .fim import FimFormat, fim_for_model, fim_from_tokenizer, get_fim
from .prompt import completion_prompt, line_comment
from .trim import trim_completion

if TYPE_CHECKING:
    from ..providers.registry import ProviderRegistry

SOURCES = ("default", "fim", "chat", "off")
FIM_MAX_NEW_TOKENS = 64  # a line or a short block: the user is typing
FIM_PROMPT_TOKENS = 1536
# How a served model's native endpoint is named in the status.
ENDPOINT_NAMES = {"llama-infill": "llama.cpp /infill", "ollama": "Ollama /api/generate"}

logger = logging.getLogger(__name__)


def native_stop(language: str | None) -> list[str]:
    """Stop strings for a native infill endpoint, which stops at the model's own end of the
    middle: the next cell's ``# %%`` line, which a model that runs past the middle writes."""
    comment = line_comment(language)
    return [f"\n{comment} %%"] if comment else []


def insertion(cells: Sequence[dict], cell_id: str, offset: int, text: str) -> list[dict]:
    """The edit that inserts ``text`` at ``offset`` of the cell ``cell_id``."""
    cell = next(c for c in cells if c["id"] == cell_id)
    source = cell["source"]
    return [{"cell_id": cell_id, "source": source[:offset] + text + source[offset:]}]


class Completer:
    """The completion source. ``endpoint`` (one of engine/remote.py's ``ENDPOINTS``) is how a
    served FIM model is asked; ``providers`` and ``chat_provider`` (a name, or "" for the
    registry's default) serve the ``chat`` source. A value that cannot be used is a ValueError
    that names the option."""

    def __init__(
        self,
        source: str = "default",
        runtime: Runtime | None = None,
        fim_format: str = "",
        endpoint: str = "completions",
        providers: ProviderRegistry | None = None,
        chat_provider: str = "",
    ):
        if source not in SOURCES:
            raise ValueError(f"unknown completion source {source!r} (known: {', '.join(SOURCES)})")
        if endpoint not in ENDPOINTS:
            known = ", ".join(ENDPOINTS)
            raise ValueError(f"completion_endpoint: unknown endpoint {endpoint!r} (known: {known})")
        local = runtime is not None and runtime.config.backend != "remote"
        if source == "fim" and endpoint != "completions" and local:
            raise ValueError(
                f"completion_endpoint {endpoint!r} is a model server's: it needs "
                "engine_backend = 'remote' (a local model completes with its tokenizer's tokens)"
            )
        if source == "chat" and chat_provider and providers is not None:
            if chat_provider not in providers:
                known = ", ".join(p["name"] for p in providers.public_info()["providers"])
                raise ValueError(
                    f"completion_chat_provider: no provider named {chat_provider!r} "
                    f"(configured: {known or 'none'})"
                )
        self.source = source
        self.runtime = runtime
        self.endpoint = endpoint
        self.providers = providers
        self.chat_provider = chat_provider
        # The chat request in flight per notebook: a newer one cancels it (it costs tokens).
        self._asking: dict[str, asyncio.Task] = {}
        try:
            self._fim: FimFormat | None = get_fim(fim_format) if fim_format else None
        except KeyError as err:
            raise ValueError(f"completion_fim_format: {err.args[0]}") from None

    @property
    def native(self) -> bool:
        """A served model asked through its server's own infill endpoint (no FIM format here)."""
        return self.source == "fim" and self.endpoint != "completions"

    @property
    def uses_model(self) -> bool:
        """The model completes (and so does not predict next edits)."""
        return self.source == "fim"

    def fim(self) -> FimFormat | None:
        """The model's FIM format: named, or read from the local tokenizer or the served model's
        name once known; None while it cannot be told (the model loading, or no FIM family)."""
        if self._fim is None and self.runtime is not None:
            tokenizer = self.runtime.tokenizer()
            if tokenizer is not None:
                self._fim = fim_from_tokenizer(tokenizer)
            elif self.runtime.config.backend == "remote":
                self._fim = fim_for_model(self.runtime.config.remote_model)
        return self._fim

    def describe(self) -> tuple[str, str]:
        """(service state, message) for the status item: which source completes, or none."""
        if self.source == "off":
            return "not_configured", "off"
        if self.source == "default":
            return "ready", "continuations from the notebook (no model)"
        if self.source == "chat":
            return self._describe_chat()
        state = (self.runtime.status().get("state") if self.runtime else None) or "not_configured"
        name = self.runtime.config.remote_model or self.runtime.config.model if self.runtime else ""
        if self.native:
            served = f"{name} " if name else ""
            return str(state), f"fill-in-the-middle: {served}via {ENDPOINT_NAMES[self.endpoint]}"
        fim = self.fim()
        if state == RuntimeState.READY and fim is None:
            return "error", "the model has no fill-in-the-middle tokens: set completion_fim_format"
        how = f"{name} ({fim.name})" if fim else name
        return str(state), f"fill-in-the-middle: {how}"

    def _describe_chat(self) -> tuple[str, str]:
        if self.providers is not None and self.providers.config_error:
            return "error", f"chat model: {self.providers.config_error}"
        if self.providers is None or not len(self.providers):
            return "not_configured", "chat model: no chat provider is configured (providers)"
        try:
            provider = self.providers.require(self.chat_provider or None)
        except ProviderError as err:
            return "error", f"chat model: {err}"
        model = f" ({provider.spec.model})" if provider.spec.model else ""
        return "ready", f"chat model {provider.name}{model} (costs tokens at each typing pause)"

    async def complete(self, request: dict) -> dict | None:
        """``{"edits", "predictor", "timings"}`` of the completion at the cursor, or None; None
        in a markdown or raw cell too (prose: no code model, and no tokens, is asked there)."""
        if self.source == "off":
            return None
        started = time.perf_counter()
        cells, cursor = request["cells"], request["cursor"]
        cell = next((c for c in cells if c.get("id") == cursor["cell_id"]), None)
        if cell is None or cell.get("cell_type", "code") != "code":
            return None
        if self.source == "default":
            text = await run_cpu(
                text_size(cells),
                continuation.complete,
                cells,
                cursor["cell_id"],
                cursor["offset"],
                language=request.get("language") or "python",
            )
            predictor = "complete"
        elif self.source == "chat":
            text = await self._ask_chat(request)
            predictor = "chat"
        else:
            text = await self._fill(request)
            predictor = "fim"
        if not text:
            return None
        return {
            "edits": insertion(cells, cursor["cell_id"], cursor["offset"], text),
            "predictor": predictor,
            "returns_cursor": False,
            "timings": {"total_ms": round((time.perf_counter() - started) * 1000, 3)},
        }

    async def _fill(self, request: dict) -> str:
        runtime = self.runtime
        fim = None if self.native else self.fim()
        ready = runtime is not None and runtime.status().get("state") == RuntimeState.READY
        if not ready or (fim is None and not self.native):
            return ""
        language = request.get("language") or "python"
        prefix, suffix = _prompt(request, FIM_PROMPT_TOKENS)
        key = str(request.get("path") or "") or None
        if fim is None:  # the server renders its model's FIM prompt
            generation: GenerationRequest = InfillRequest(
                prompt=prefix,
                suffix=suffix,
                endpoint=self.endpoint,
                stop=native_stop(language),
                max_new_tokens=FIM_MAX_NEW_TOKENS,
                priority=Priority.NEXT_EDIT,
                key=key,
                prompt_lookup=False,
            )
        else:
            generation = GenerationRequest(
                prompt=fim.render(prefix, suffix),
                stop=list(fim.stop),
                max_new_tokens=FIM_MAX_NEW_TOKENS,
                priority=Priority.NEXT_EDIT,
                key=key,
                prompt_lookup=True,
            )
        text = ""
        async for chunk in runtime.generate(generation):
            if chunk.done:
                if chunk.finish_reason in ("cancelled", "replaced"):
                    return ""
                text = chunk.text
        return trim_completion(text, prefix, suffix)

    async def _ask_chat(self, request: dict) -> str:
        """The chat provider's insertion at the cursor, trimmed; "" when it fails or is slow (a
        warning in the log), or when a newer request for the same notebook replaced it."""
        if self.providers is None:
            return ""
        try:
            provider = self.providers.require(self.chat_provider or None)
        except ProviderError as err:
            logger.warning("jupyter_cursor: chat completion not asked: %s", err)
            return ""
        prefix, suffix = _prompt(request, chat.CHAT_PROMPT_TOKENS)
        messages = chat.chat_messages(prefix, suffix, request.get("language") or "python")

        async def ask() -> str:
            # The deadline is the whole answer's (wait_for below), retries included.
            stream = provider.stream_chat(
                messages, max_tokens=chat.CHAT_MAX_TOKENS, temperature=0.0
            )
            async with aclosing(stream) as deltas:
                return "".join([delta async for delta in deltas])

        key = str(request.get("path") or "")
        older = self._asking.get(key)
        if older is not None:
            older.cancel()  # its answer would be shown at a cursor that has moved on
        task = self._asking[key] = asyncio.ensure_future(
            asyncio.wait_for(ask(), chat.CHAT_TIMEOUT_S)
        )
        try:
            await asyncio.wait({task})
        finally:
            if self._asking.get(key) is task:
                del self._asking[key]
            if not task.done():  # this request was cancelled itself
                task.cancel()
        if task.cancelled():
            return ""
        error = task.exception()
        if error is not None:
            # A provider's own error, a timeout, or anything else: no completion, not an error
            # for the user, who is typing (ProviderError messages are scrubbed of keys).
            if isinstance(error, asyncio.TimeoutError):
                why = f"no answer within {chat.CHAT_TIMEOUT_S:g} s"
            elif isinstance(error, ProviderError):
                why = str(error)
            else:
                why = redact(f"{type(error).__name__}: {error}")
            logger.warning("jupyter_cursor: chat completion by %s failed: %s", provider.name, why)
            return ""
        return trim_completion(chat.insertion_of(task.result(), prefix), prefix, suffix)


def _prompt(request: dict, budget_tokens: int) -> tuple[str, str]:
    """The notebook around the request's cursor as (prefix, suffix), within ``budget_tokens``."""
    cursor = request["cursor"]
    return completion_prompt(
        request["cells"],
        cursor["cell_id"],
        cursor["offset"],
        request.get("language") or "python",
        budget_tokens=budget_tokens,
    )
