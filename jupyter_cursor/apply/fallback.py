"""The model fallback: a snippet the deterministic merge refused, rewritten into its cell by a model.

Only for a snippet whose target cell is known (the merge found the cell, not the place in it):
the model gets that one cell and the snippet, and answers with the whole new cell in a fence.
An answer that is cut off, empty, still holds an elision marker, or does not arrive in time
leaves the refusal standing and the cell untouched. Off by default (``apply_model_fallback``):
no model here has been evaluated as good enough at it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures

from ..engine import GenerationRequest, Priority
from .markers import has_markers

FENCE_END = "\n```"
TIMEOUT_S = 60.0

PROMPT = """Apply the edit to the notebook cell. Lines of the edit such as "# ... existing code ..." stand for lines of the cell that stay as they are. Answer with the whole new cell and nothing else.

Cell:
```{language}
{cell}
```

Edit:
```{language}
{snippet}
```

New cell:
```{language}
"""


def rewrite_prompt(cell: str, snippet: str, language: str = "python") -> str:
    return PROMPT.format(cell=cell, snippet=snippet, language=language)


def parse_rewrite(text: str, finish_reason: str | None) -> str | None:
    """The new cell in the model's answer, or None when the answer is not one whole cell."""
    # Only an answer that closed its fence (or rejoined the cell's own end) is whole: one cut
    # off by the token limit would silently truncate the cell.
    if finish_reason not in ("stop", "rejoined"):
        return None
    # A stop string is cut from the text, the newline before it is not; a rejoined answer ends
    # with the cell's own end, closing fence included.
    new = text.removesuffix(FENCE_END) if finish_reason == "rejoined" else text.removesuffix("\n")
    if not new.strip() or has_markers(new.split("\n")):
        return None
    return new


class ModelFallback:
    """Rewrites through the model runtime; callable from the worker thread the merge runs in."""

    def __init__(self, runtime, timeout_s: float = TIMEOUT_S):
        self.runtime = runtime
        self.timeout_s = timeout_s

    async def rewrite_async(self, cell: str, snippet: str) -> str | None:
        request = GenerationRequest(
            prompt=rewrite_prompt(cell, snippet),
            stop=["```"],
            # Most of the answer copies the cell: once the model is back on the cell's own text
            # after the edit, the rest is taken from the cell.
            original=cell + FENCE_END,
            priority=Priority.APPLY,
        )
        text, reason = "", None
        async for chunk in self.runtime.generate(request):
            text, reason = chunk.text, chunk.finish_reason
        return parse_rewrite(text, reason)

    def rewrite_on(self, loop: asyncio.AbstractEventLoop):
        """The engine's ``rewrite(cell, snippet)`` for a thread other than `loop`'s, which runs the
        generation; None (refusal stands) on any error or after the timeout."""

        def rewrite(cell: str, snippet: str) -> str | None:
            future = asyncio.run_coroutine_threadsafe(self.rewrite_async(cell, snippet), loop)
            try:
                return future.result(self.timeout_s)
            except concurrent.futures.TimeoutError:
                future.cancel()
                return None
            except (
                Exception
            ):  # an engine error (not loaded, out of memory): the merge's refusal stands
                return None

        return rewrite
