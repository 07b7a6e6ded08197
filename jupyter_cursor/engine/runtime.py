"""The face the server, the CLI and the predictors use: start, status, generate, close.

``generate`` is an async iterator of chunks. Stopping the iteration (``break`` with
``contextlib.aclosing``, or cancelling the task) cancels the request; a newer request with the same
``key`` replaces an older one, whose stream then ends with ``finish_reason == "replaced"``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from .config import EngineConfig, EngineError, GenerationChunk, GenerationRequest, Priority
from .jobs import Job

log = logging.getLogger(__name__)

StatusCallback = Callable[[dict], None]


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

    def status(self) -> dict:
        status = {"backend": self.config.backend, "model": self.config.model or self.config.remote_model}
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


class LocalRuntime(Runtime):
    """A Hugging Face causal LM in this process, served by one worker thread."""

    def __init__(self, config: EngineConfig, on_status: StatusCallback | None = None, loader=None):
        super().__init__(config, on_status)
        self._loader = loader
        self._scheduler = None

    def start(self) -> None:
        super().start()
        if not self.config.model or self._scheduler is not None:
            return
        from .scheduler import Scheduler  # imports torch: only when a model is configured

        kwargs = {"loader": self._loader} if self._loader else {}
        self._scheduler = Scheduler(self.config, self._notify, **kwargs)
        self._scheduler.start()
        self._notify()

    def _state(self) -> dict:
        scheduler = self._scheduler
        if not self.config.model:
            return {"state": "not_configured"}
        if scheduler is None:
            return {"state": "stopped"}
        state = {"state": scheduler.state, "queue_length": scheduler.queue_length(),
                 "last_error": scheduler.last_error}
        loaded = scheduler.loaded
        if loaded is not None:
            state.update(device=loaded.plan.device, dtype=loaded.plan.dtype,
                         quantization=loaded.plan.quantization, memory_bytes=loaded.memory_bytes,
                         load_time_s=round(loaded.load_time_s, 3))
        return state

    def _submit(self, job: Job) -> None:
        if not self.config.model:
            raise EngineError("not_configured", "no local model configured")
        if self._scheduler is None:
            raise EngineError("not_ready", "the model runtime has not been started")
        self._scheduler.submit(job)

    def close(self) -> None:
        if self._scheduler is not None:
            self._scheduler.close()


def create_runtime(config: EngineConfig, on_status: StatusCallback | None = None) -> Runtime:
    if config.backend == "remote":
        from .remote import RemoteRuntime

        return RemoteRuntime(config, on_status)
    return LocalRuntime(config, on_status)


def text_stream(runtime: Runtime, priority: Priority = Priority.CHAT):
    """The ``generate(prompt, max_tokens, stop) -> AsyncIterator[str]`` of providers/local.py."""

    async def generate(prompt: str, max_tokens: int, stop: list[str]) -> AsyncIterator[str]:
        request = GenerationRequest(prompt=prompt, max_new_tokens=max_tokens, stop=list(stop),
                                    priority=priority, prompt_lookup=False)
        async for chunk in runtime.generate(request):
            if chunk.delta:
                yield chunk.delta

    return generate
