"""One request's life between the event loop that awaits it and the producer that serves it."""

from __future__ import annotations

import asyncio
import itertools
import time

from .config import GenerationChunk, GenerationRequest

_sequence = itertools.count()


class Job:
    """Thread-safe to ``cancel`` and to ``emit`` into; the event loop reads ``queue``."""

    def __init__(self, request: GenerationRequest, loop: asyncio.AbstractEventLoop):
        self.request = request
        self.loop = loop
        self.queue: asyncio.Queue[GenerationChunk | Exception] = asyncio.Queue()
        self.order = (int(request.priority), next(_sequence))  # priority, then first come
        self.submitted = time.perf_counter()
        self.started: float | None = None
        self.cancel_reason: str | None = None  # "cancelled" or "replaced"
        self.finished = False
        self.text = ""  # what the consumer has been given so far
        self.on_cancel = (
            None  # the producer's hook to notice at once (wake a thread, cancel a task)
        )

    def cancel(self, reason: str = "cancelled") -> None:
        if self.finished or self.cancel_reason:
            return
        self.cancel_reason = reason
        if self.on_cancel is not None:
            self.on_cancel(self)

    def emit(self, item: GenerationChunk | Exception) -> None:
        """Hand a chunk or an error to the consumer, from any thread; the final one finishes."""
        if self.finished:
            return
        if isinstance(item, Exception) or item.done:
            self.finished = True
        if isinstance(item, GenerationChunk):
            self.text = item.text
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def finish_cancelled(self, timings: dict | None = None) -> None:
        """The final chunk of a job stopped by its consumer or replaced by a newer request."""
        self.emit(
            GenerationChunk(
                text=self.text,
                delta="",
                done=True,
                finish_reason=self.cancel_reason or "cancelled",
                timings=self.complete_timings(timings or {}),
            )
        )

    def complete_timings(self, timings: dict) -> dict:
        now = time.perf_counter()
        started = self.started if self.started is not None else now
        timings = dict(timings)
        timings["queue_ms"] = (started - self.submitted) * 1000
        timings["total_ms"] = (now - self.submitted) * 1000
        if timings.get("ttft_ms") is not None:  # measured by the producer from its start
            timings["ttft_ms"] += timings["queue_ms"]
        return timings
