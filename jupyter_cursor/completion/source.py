"""Which source completes at the cursor, and asking it: the answer is an insertion at the cursor,
which the frontend shows as ghost text through JupyterLab's inline completer.

Sources (``CursorApp.completion_source``):

- ``default``: the embedded completer (continuation.py), no model: the continuation of an earlier
  line that starts the same way; shown only when the notebook agrees on one.
- ``fim``: the configured model (``engine_model``, local or served) as a fill-in-the-middle code
  model: its family's prompt (fim.py) from the local tokenizer's special tokens, or for a served
  model from ``completion_fim_format`` or its name; the notebook as prefix and suffix (prompt.py);
  the middle trimmed (trim.py). The model then completes instead of predicting next edits.
- ``off``: no completion.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..engine import GenerationRequest, Priority, Runtime, RuntimeState
from ..workers import run_cpu, text_size
from . import continuation
from .fim import FimFormat, fim_for_model, fim_from_tokenizer, get_fim
from .prompt import completion_prompt
from .trim import trim_completion

SOURCES = ("default", "fim", "off")
FIM_MAX_NEW_TOKENS = 64  # a line or a short block: the user is typing
FIM_PROMPT_TOKENS = 1536


def insertion(cells: Sequence[dict], cell_id: str, offset: int, text: str) -> list[dict]:
    """The edit that inserts ``text`` at ``offset`` of the cell ``cell_id``."""
    cell = next(c for c in cells if c["id"] == cell_id)
    source = cell["source"]
    return [{"cell_id": cell_id, "source": source[:offset] + text + source[offset:]}]


class Completer:
    def __init__(
        self, source: str = "default", runtime: Runtime | None = None, fim_format: str = ""
    ):
        if source not in SOURCES:
            raise ValueError(f"unknown completion source {source!r} (known: {', '.join(SOURCES)})")
        self.source = source
        self.runtime = runtime
        try:
            self._fim: FimFormat | None = get_fim(fim_format) if fim_format else None
        except KeyError as err:
            raise ValueError(f"completion_fim_format: {err.args[0]}") from None

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
        state = (self.runtime.status().get("state") if self.runtime else None) or "not_configured"
        fim = self.fim()
        if state == RuntimeState.READY and fim is None:
            return "error", "the model has no fill-in-the-middle tokens: set completion_fim_format"
        name = self.runtime.config.remote_model or self.runtime.config.model if self.runtime else ""
        how = f"{name} ({fim.name})" if fim else name
        return str(state), f"fill-in-the-middle: {how}"

    async def complete(self, request: dict) -> dict | None:
        """``{"edits", "predictor", "timings"}`` of the completion at the cursor, or None."""
        if self.source == "off":
            return None
        started = time.perf_counter()
        cells, cursor = request["cells"], request["cursor"]
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
        runtime, fim = self.runtime, self.fim()
        if runtime is None or fim is None or runtime.status().get("state") != RuntimeState.READY:
            return ""
        cursor = request["cursor"]
        prefix, suffix = completion_prompt(
            request["cells"],
            cursor["cell_id"],
            cursor["offset"],
            request.get("language") or "python",
            budget_tokens=FIM_PROMPT_TOKENS,
        )
        generation = GenerationRequest(
            prompt=fim.render(prefix, suffix),
            stop=list(fim.stop),
            max_new_tokens=FIM_MAX_NEW_TOKENS,
            priority=Priority.NEXT_EDIT,
            key=str(request.get("path") or "") or None,
            prompt_lookup=True,
        )
        text = ""
        async for chunk in runtime.generate(generation):
            if chunk.done:
                if chunk.finish_reason in ("cancelled", "replaced"):
                    return ""
                text = chunk.text
        return trim_completion(text, prefix, suffix)
