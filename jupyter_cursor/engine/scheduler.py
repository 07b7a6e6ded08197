"""The worker thread: loads the model, then serves requests one forward pass at a time.

A thread suffices because PyTorch releases the GIL inside its kernels, so the server's event loop
keeps running (benchmarks/bench_engine.py measures its lag under load). Each step goes to the most
urgent request: a next-edit prediction that arrives during a long chat answer runs at the next
token boundary, and the chat resumes after it with its own KV cache.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable

import torch

from .base import RuntimeState
from .config import EngineConfig, EngineError, GenerationChunk
from .decoding import Decoder
from .jobs import Job
from .loading import LoadedModel, load_model

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        config: EngineConfig,
        on_state: Callable[[], None],
        loader: Callable[[EngineConfig], LoadedModel] = load_model,
    ):
        self.config = config
        self._on_state = on_state
        self._loader = loader
        self._cond = threading.Condition()
        self._pending: list[tuple[tuple[int, int], Job]] = []
        self._active: list[tuple[Job, object]] = []  # started jobs and their step generators
        self._closed = False
        self.state = RuntimeState.LOADING
        self.last_error: str | None = None
        self.loaded: LoadedModel | None = None
        self._decoder: Decoder | None = None
        self._thread = threading.Thread(
            target=self._main, name="jupyter-cursor-engine", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def queue_length(self) -> int:
        with self._cond:
            return len(self._pending) + len(self._active)

    def submit(self, job: Job) -> None:
        with self._cond:
            if self._closed or self.state == RuntimeState.ERROR:
                job.emit(EngineError("not_ready", self.last_error or "the model runtime is closed"))
                return
            job.on_cancel = self._wake
            heapq.heappush(self._pending, (job.order, job))
            self._cond.notify()

    def _wake(self, job: Job) -> None:
        with self._cond:
            self._cond.notify()

    def close(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- worker thread --------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self.loaded = self._loader(self.config)
            self._decoder = Decoder(
                self.loaded.model,
                self.loaded.tokenizer,
                self.loaded.plan.device,
                self.config.max_new_tokens,
                self.config.prefix_reuse_min_tokens,
            )
            self.state = RuntimeState.READY
        except Exception as e:
            self.state = RuntimeState.ERROR
            self.last_error = str(e)
            log.error("model runtime: %s", e)
        self._on_state()
        if self.state == RuntimeState.READY:
            while self._serve_one():
                pass
        self._fail_all(EngineError("not_ready", self.last_error or "the model runtime is closed"))
        self._release()

    def _next(self) -> tuple[Job, object] | None:
        """The most urgent job, started or not; None once closed. Drops cancelled queued jobs."""
        with self._cond:
            while True:
                if self._closed:
                    return None
                while self._pending and self._pending[0][1].cancel_reason:
                    heapq.heappop(self._pending)[1].finish_cancelled()
                # A cancelled job that was paused is retired first: it frees its cache at once.
                for entry in self._active:
                    if entry[0].cancel_reason:
                        return entry
                candidates = [(job.order, i) for i, (job, _) in enumerate(self._active)]
                if self._pending:
                    candidates.append((self._pending[0][0], -1))
                if candidates:
                    _, index = min(candidates)
                    if index >= 0:
                        return self._active[index]
                    job = heapq.heappop(self._pending)[1]
                    job.started = time.perf_counter()
                    entry = (job, self._decoder.run(job.request))
                    self._active.append(entry)
                    return entry
                self._cond.wait()

    def _serve_one(self) -> bool:
        entry = self._next()
        if entry is None:
            return False
        job, steps = entry
        if job.cancel_reason:
            steps.close()  # runs the decoder's cleanup: its cache stays for the next prompt
            self._retire(entry)
            job.finish_cancelled()
            return True
        try:
            chunk = next(steps)
        except Exception as e:
            self._retire(entry)
            job.emit(self._report(e))
            return True
        if isinstance(chunk, GenerationChunk):
            if chunk.done:
                self._retire(entry)
                chunk.timings = job.complete_timings(chunk.timings)
            job.emit(chunk)
        return True

    def _retire(self, entry) -> None:
        with self._cond:
            self._active.remove(entry)

    def _report(self, error: Exception) -> EngineError:
        """The runtime survives a failed request: free what the failure may have left behind."""
        assert self._decoder is not None
        self._decoder.drop_cache()
        if isinstance(error, (torch.cuda.OutOfMemoryError, MemoryError)):
            torch.cuda.empty_cache()
            reported = EngineError("out_of_memory", f"the model ran out of memory: {error}")
        else:
            reported = EngineError("generation_failed", f"{type(error).__name__}: {error}")
        self.last_error = str(reported)
        log.warning("model runtime: request failed: %s", reported)
        self._on_state()
        return reported

    def _fail_all(self, error: EngineError) -> None:
        with self._cond:
            jobs = [job for _, job in self._pending] + [job for job, _ in self._active]
            for _, steps in self._active:
                steps.close()
            self._pending.clear()
            self._active.clear()
            if self.state != RuntimeState.ERROR:
                self.state = "closed"
        for job in jobs:
            job.emit(error)
        self._on_state()

    def _release(self) -> None:
        self._decoder = None
        self.loaded = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
