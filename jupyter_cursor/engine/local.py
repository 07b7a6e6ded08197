"""A Hugging Face causal LM in this process, served by one worker thread (scheduler.py)."""

from __future__ import annotations

from .base import Runtime, RuntimeState, StatusCallback
from .config import EngineConfig, EngineError
from .jobs import Job


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
            return {"state": RuntimeState.NOT_CONFIGURED}
        if scheduler is None:
            return {"state": RuntimeState.STOPPED}
        state = {
            "state": scheduler.state,
            "queue_length": scheduler.queue_length(),
            "last_error": scheduler.last_error,
        }
        loaded = scheduler.loaded
        if loaded is not None:
            state.update(
                device=loaded.plan.device,
                dtype=loaded.plan.dtype,
                quantization=loaded.plan.quantization,
                memory_bytes=loaded.memory_bytes,
                load_time_s=round(loaded.load_time_s, 3),
            )
        return state

    def tokenizer(self):
        loaded = self._scheduler.loaded if self._scheduler is not None else None
        return loaded.tokenizer if loaded is not None else None

    def _submit(self, job: Job) -> None:
        if not self.config.model:
            raise EngineError("not_configured", "no local model configured")
        if self._scheduler is None:
            raise EngineError("not_ready", "the model runtime has not been started")
        self._scheduler.submit(job)

    def close(self) -> None:
        if self._scheduler is not None:
            self._scheduler.close()
