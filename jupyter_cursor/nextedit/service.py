"""The next-edit ensemble behind the websocket and the CLI.

The deterministic predictors (predictor.py: the last edit repeated at its next place) answer at
once when they apply; otherwise the model answers, streaming partial edits, when one is loaded;
otherwise nothing is suggested. A model that fails mid-request (a remote server gone) is no
suggestion, not an error: the user is typing, not asking. benchmarks/eval_nextedit.py measures the
rules and the model, alone and in this order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ..completion.source import Completer, insertion
from ..engine import EngineError, RuntimeState
from ..kernel import complete as kernel_complete
from ..kernel.fix import fix_error
from ..kernel.probe import Snapshot, render_variables
from ..workers import run_cpu, text_size
from .context import check_request
from .feedback import SuggestionLog
from .model import ModelAnswer, ModelPredictor
from .predictor import predict

Emit = Callable[[dict], None]
logger = logging.getLogger(__name__)


class NextEditService:
    def __init__(
        self,
        model: ModelPredictor | None = None,
        log: SuggestionLog | None = None,
        completer: Completer | None = None,
        rules_only: bool = False,
        kernel=None,
    ):
        self.model = model
        # The deterministic rules alone (first that answers), not the learned ranker (ranker.py).
        self.rules_only = rules_only
        self.log = log  # the opt-in suggestion log (feedback.py), or None
        # The completion at the cursor (completion/source.py), asked when no rule answers; a model
        # that completes (fill-in-the-middle) predicts no next edits.
        self.completer = completer
        # The notebooks' live kernels (kernel/service.KernelContext), or None: their names are
        # context for the completion, the model and the fixes of a failed cell.
        self.kernel = kernel

    async def predict(
        self, request: dict, emit: Emit | None = None, request_id: str | None = None
    ) -> dict:
        """``{"edits", "predictor", "timings": {queue_ms, prefill_ms, decode_ms, total_ms}}`` (ValueError
        for a request that cannot be served: see context.check_request); when
        the model ran, also ``"model": {"finish_reason", "well_formed", "refused", "confidence"}``. Partials
        ``{"edits", "predictor": "model", "partial": True}`` go to ``emit`` while it writes."""
        started = time.perf_counter()
        check_request(request)
        cursor = request["cursor"]
        snapshot = await self.kernel.snapshot(request.get("path") or "") if self.kernel else None
        if request.get("error"):
            result = await self._fix(request, snapshot)
            result["timings"]["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
            return result
        size = text_size(request["cells"])
        result = await run_cpu(
            size,
            predict,
            request["cells"],
            cursor["cell_id"],
            request.get("events") or [],
            cursor["offset"],
            language=request.get("language") or "",
            rules_only=self.rules_only,
        )
        if not result["edits"]:
            result = await self._complete(request, snapshot) or result
        model_predicts = self.completer is None or not self.completer.uses_model
        if not result["edits"] and model_predicts and self.model and self.model.available():
            variables = render_variables(snapshot)
            result = await self._ask_model({**request, "variables": variables}, emit)
        result["timings"]["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
        if self.log is not None and request_id is not None and result["edits"]:
            # A file write (the log may live on a slow home folder) stays off the event loop; it
            # is awaited so the entry is written before the client can report an outcome.
            await asyncio.to_thread(self.log.shown, request_id, request, result)
        return result

    async def _complete(self, request: dict, snapshot: Snapshot | None) -> dict | None:
        """The completion at the cursor: a DataFrame column or dict key the kernel knows, else
        the configured source's, else the kernel's (an attribute it completes, a name it
        defines), each only when unambiguous."""
        started = time.perf_counter()
        cells, cursor = request["cells"], request["cursor"]
        cell = next(c for c in cells if c["id"] == cursor["cell_id"])
        source, offset = cell["source"], cursor["offset"]
        text = kernel_complete.key_completion(snapshot, source, offset)
        if not text and self.completer is not None:
            try:
                result = await self.completer.complete(request)
            except EngineError as err:  # a served model gone: no completion, not an error
                logger.warning("jupyter_cursor: completion failed: %s", err)
                result = None
            if result is not None:
                return result
        if (
            not text
            and self.kernel is not None
            and kernel_complete.attribute_request(source, offset)
        ):
            reply = await self.kernel.complete(request.get("path") or "", source, offset)
            text = kernel_complete.pick_match(reply, source, offset)
        text = text or kernel_complete.name_completion(snapshot, source, offset)
        if not text:
            return None
        return {
            "edits": insertion(cells, cursor["cell_id"], offset, text),
            "predictor": "kernel",
            "returns_cursor": False,
            "timings": {"total_ms": round((time.perf_counter() - started) * 1000, 3)},
        }

    async def _fix(self, request: dict, snapshot: Snapshot | None) -> dict:
        """The fix of the cursor's cell, whose execution failed (kernel/fix.py)."""
        path = request.get("path") or ""

        async def attributes(prefix: str) -> list[str]:
            reply = await self.kernel.complete(path, prefix, len(prefix)) if self.kernel else None
            return reply["matches"] if reply else []

        cell_id = request["cursor"]["cell_id"]
        fixed = await fix_error(request["cells"], cell_id, request["error"], snapshot, attributes)
        return {
            "edits": [{"cell_id": cell_id, "source": fixed}] if fixed is not None else [],
            "predictor": "fix" if fixed is not None else None,
            "returns_cursor": False,
            "timings": {},
        }

    async def _ask_model(self, request: dict, emit: Emit | None) -> dict:
        answer: ModelAnswer | None = None
        try:
            async for item in self.model.stream(request):
                if isinstance(item, ModelAnswer):
                    answer = item
                elif emit is not None:
                    emit({"edits": item, "predictor": "model", "partial": True})
        except EngineError as err:
            logger.warning("jupyter_cursor: next-edit model failed: %s", err)
            answer = ModelAnswer([], False, "error", refused=f"{err.code}: {err}")
        timings = answer.timings if answer else {}
        return {
            "edits": answer.edits if answer else [],
            "predictor": "model" if answer and answer.edits else None,
            "returns_cursor": False,
            "timings": {
                key: round(float(timings.get(key, 0.0)), 3)
                for key in ("queue_ms", "prefill_ms", "decode_ms")
            },
            "model": {
                "finish_reason": answer.finish_reason if answer else None,
                "well_formed": answer.well_formed if answer else None,
                "refused": answer.refused if answer else None,
                "confidence": answer.confidence if answer else None,
            },
        }


async def load_model_service(
    config,
    format_name: str,
    log: SuggestionLog | None = None,
    poll_s: float = 0.05,
    min_confidence: float | None = None,
) -> NextEditService:
    """A service over a runtime started from ``config`` (an EngineConfig), once it is ready: for
    the CLI and the evaluation, which load the model once for many requests. RuntimeError when it
    fails to load; the caller closes ``service.model.runtime``."""
    from ..engine import create_runtime
    from .formats import get_format

    fmt = get_format(format_name)  # ValueError before seconds of loading
    runtime = create_runtime(config)
    runtime.start()
    while runtime.status().get("state") in (RuntimeState.LOADING, RuntimeState.STOPPED):
        await asyncio.sleep(poll_s)
    status = runtime.status()
    if status.get("state") != RuntimeState.READY:
        runtime.close()
        raise RuntimeError(
            f"the model did not load: {status.get('last_error') or status.get('state')}"
        )
    return NextEditService(ModelPredictor(runtime, fmt, min_confidence=min_confidence), log)
