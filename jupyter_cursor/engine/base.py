"""The runtime's face, whatever serves it: start, status, generate, close (local.py: a model in this
process; remote.py: an OpenAI-compatible completions server).

``generate`` is an async iterator of chunks. Stopping the iteration (``break`` with
``contextlib.aclosing``, or cancelling the task) cancels the request; a newer request with the same
``key`` replaces an older one, whose stream then ends with ``finish_reason == "replaced"``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncIterator, Callable

from .config import EngineConfig, GenerationChunk, GenerationRequest, Priority
from .jobs import Job

log = logging.getLogger(__name__)

StatusCallback = Callable[[dict], None]


class RuntimeState(str, enum.Enum):
    """``status()["state"]``: a str, so the status stays plain JSON for the browser."""

    NOT_CONFIGURED = "not_configured"  # no model named
    STOPPED = "stopped"  # configured, not started yet (it starts on the loop's first turn)
    LOADING = "loading"  # loading weights, or probing a remote server
    READY = "ready"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class Runtime:
    def __init__(self, config: EngineConfig, on_status: StatusCallback | None = None):
        self.config = config
        self.on_status = on_status
        self._loop: asyncio.AbstractEventLoop | None = None
        self._by_key: dict[str, Job] = {}

    # -- for subclasses -------------------------------------------------------------------------

    def _submit(self, job: Job) -> None:
        raise NotImplementedError

    def _state(self) -> dict:
        raise NotImplementedError

    def _notify(self) -> None:
        """Push the status to ``on_status`` on the event loop that started the runtime."""
        if self.on_status is None:
            return
        loop = self._loop
        try:
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._call_status)
            else:
                self._call_status()
        except RuntimeError:  # the loop closed in between
            pass

    def _call_status(self) -> None:
        try:
            self.on_status(self.status())
        except Exception:
            log.exception("model runtime: status callback failed")

    # -- public ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin loading (or connecting) in the background; ``status()`` tells how it went."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    def tokenizer(self):
        """The loaded model's tokenizer (a local model once loaded), else None."""
        return None

    def status(self) -> dict:
        status = {
            "backend": self.config.backend,
            "model": self.config.model or self.config.remote_model,
        }
        status.update(self._state())
        return status

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        """Stream the answer; raises EngineError when the request cannot be served."""
        job = Job(request, asyncio.get_running_loop())
        if request.key is not None:
            older = self._by_key.get(request.key)
            if older is not None:
                older.cancel("replaced")
            self._by_key[request.key] = job
        try:
            self._submit(job)
            while True:
                item = await job.queue.get()
                if isinstance(item, Exception):
                    raise item
                yield item
                if item.done:
                    return
        finally:
            if not job.finished:
                job.cancel("cancelled")
            if request.key is not None and self._by_key.get(request.key) is job:
                del self._by_key[request.key]

    def close(self) -> None:
        raise NotImplementedError


def text_stream(runtime: Runtime, priority: Priority = Priority.CHAT):
    """The ``generate(prompt, max_tokens, stop) -> AsyncIterator[str]`` of providers/local.py."""

    async def generate(prompt: str, max_tokens: int, stop: list[str]) -> AsyncIterator[str]:
        request = GenerationRequest(
            prompt=prompt,
            max_new_tokens=max_tokens,
            stop=list(stop),
            priority=priority,
            prompt_lookup=False,
        )
        async for chunk in runtime.generate(request):
            if chunk.delta:
                yield chunk.delta

    return generate
