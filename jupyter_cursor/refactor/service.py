"""Notebook-wide refactor: instruction → prompt → streamed answer → NotebookDiff → checks.

Events::

    {"type": "delta", "text"}                                   while the answer streams
    {"type": "diff", "cells", "ops", "warnings", "answer"}      the reviewed proposal (last)

Errors raise :class:`ProviderError` (from the provider) or ``ValueError`` (bad input).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from ..kernel.probe import render_variables
from ..providers import ProviderRegistry
from ..workers import run_cpu, text_size
from .checks import check_change
from .prompt import build_messages

Retrieve = Callable[[str, int], list[dict]]
RETRIEVE_K = 6


class RefactorService:
    def __init__(self, providers: ProviderRegistry, retrieve: Retrieve | None = None, kernel=None):
        self.providers = providers
        self.retrieve = retrieve
        # The notebooks' live kernels (kernel/service.KernelContext): their names go into the
        # prompt, and a name the kernel defines is not "undefined" in the checks.
        self.kernel = kernel

    async def run(
        self,
        path: str,
        cells: Sequence[dict],
        instruction: str,
        *,
        outputs: dict[str, str] | None = None,
        provider_name: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        if not instruction.strip():
            raise ValueError("the instruction is empty")
        provider = self.providers.require(provider_name)
        snippets = (
            await asyncio.to_thread(self.retrieve, instruction, RETRIEVE_K) if self.retrieve else []
        )
        # Retrieved cells of this very notebook are already in the prompt.
        snippets = [hit for hit in snippets if hit.get("path") != path]
        snapshot = await self.kernel.snapshot(path) if self.kernel is not None else None
        variables = render_variables(snapshot)
        messages = build_messages(path, cells, instruction, outputs, snippets, variables)
        answer = []
        async for delta in provider.stream_chat(messages):
            answer.append(delta)
            yield {"type": "delta", "text": delta}
        text = "".join(answer)
        known = frozenset(snapshot.names()) if snapshot is not None else frozenset()
        diff = await run_cpu(text_size(cells, text), review, list(cells), text, path, known)
        yield {"type": "diff", **diff, "answer": text}


def review(
    cells: list[dict], answer: str, path: str = "", known: frozenset[str] = frozenset()
) -> dict:
    """The NotebookDiff of ``answer``, with the warnings of the checks on its result (in a
    worker process for a large notebook: both are linear in it, and it can be 10,000 cells);
    ``known``: names the live kernel defines."""
    from ..apply import apply_suggestion

    diff = apply_suggestion(cells, answer, path=path).to_json()
    diff["warnings"] = list(diff["warnings"]) + [
        w.to_json() for w in check_change(cells, diff["cells"], known)
    ]
    return diff
