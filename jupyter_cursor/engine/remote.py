"""A remote OpenAI-compatible completions server (vLLM, TGI, llama.cpp) behind the Runtime face.

For JupyterHub: many users share one serving engine, which does its own batching, prefix caching
and speculation. Here only the text-level rules stay (stop strings, the early stop on rejoining the
original, replacement by key); priorities are the server's business.

An ``InfillRequest`` asks a server's native fill-in-the-middle endpoint instead of the completions
API, with the prefix and the suffix apart: the server wraps them in the model's own FIM tokens.
``ENDPOINTS`` names them:

- ``completions``: ``POST <url>/v1/completions`` (OpenAI), the prompt already rendered;
- ``llama-infill``: llama.cpp server's ``POST /infill`` (``input_prefix``, ``input_suffix``,
  ``n_predict``, ``stop``; streamed as server-sent events of ``{"content", "stop"}``);
- ``ollama``: Ollama's ``POST /api/generate`` (``model``, ``prompt`` the prefix, ``suffix``,
  ``raw`` false so that Ollama applies the model's template, ``options.num_predict`` and
  ``options.stop``; streamed as JSON lines of ``{"response", "done"}``).

Both native endpoints live at the server's root: ``engine_remote_url`` may end in ``/v1`` or not.
They share the client, its key, timeout and error mapping with the completions API.

A server that fails (unreachable, a timeout, a 5xx answer; or its probe at start failing) puts the
runtime in the ERROR state, which its callers read as "do not ask": no keystroke waits for a dead
server. The runtime probes it again (``GET /v1/models``) in the background after a backoff,
``retry_first_s`` doubling up to ``retry_max_s``, and is READY again once it answers, so that a
server restarted is used again without restarting Jupyter. The backoff starts over only once a
generation succeeds: a server that lists its models but fails to generate is asked at most once
per backoff.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx

from ..redaction import redact, register_secret, register_url, safe_url
from .base import Runtime, RuntimeState, StatusCallback
from .config import EngineConfig, EngineError, GenerationChunk, GenerationRequest
from .jobs import Job
from .stopping import OutputTracker

# The OpenAI API takes at most four stop strings; the rest are applied here.
_MAX_REMOTE_STOPS = 4

ENDPOINTS = ("completions", "llama-infill", "ollama")
# Where each native endpoint lives, from the server's root.
_NATIVE_PATHS = {"llama-infill": "/infill", "ollama": "/api/generate"}
# The backoff of the probes of a server that failed: seconds, not keystrokes.
RETRY_FIRST_S = 2.0
RETRY_MAX_S = 15.0


@dataclass
class InfillRequest(GenerationRequest):
    """Fill in the middle through a native endpoint (``ENDPOINTS``): ``prompt`` is the text before
    the cursor, ``suffix`` the text after it, both without FIM tokens."""

    suffix: str = ""
    endpoint: str = "llama-infill"

    def __post_init__(self) -> None:
        if self.endpoint not in _NATIVE_PATHS:
            known = ", ".join(_NATIVE_PATHS)
            raise ValueError(f"unknown infill endpoint {self.endpoint!r} (known: {known})")


def _root_url(url: str) -> str:
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _base_url(url: str) -> str:
    return _root_url(url) + "/v1"


def _http_error(status: int, body: str) -> EngineError:
    try:
        detail = json.loads(body)
        detail = detail.get("error", detail)
        detail = detail.get("message", detail) if isinstance(detail, dict) else detail
    except ValueError:
        detail = body[:500]
    code = {401: "unauthorized", 403: "unauthorized", 404: "not_found"}.get(status, "remote_error")
    return EngineError(code, f"the model server answered {status}: {detail}")


def _event(endpoint: str, event: dict) -> tuple[str, str | None]:
    """(text, finish reason or None) of one streamed event of ``endpoint``; the finish reason is
    "length" when the token limit ended it. An error event is raised as an EngineError."""
    if "error" in event:
        detail = event["error"]
        detail = detail.get("message", detail) if isinstance(detail, dict) else detail
        raise EngineError("remote_error", f"the model server failed: {detail}")
    if endpoint == "llama-infill":  # {"content", "stop", "stop_type": "limit" | "eos" | "word"}
        limit = event.get("stop_type") == "limit" or event.get("stopped_limit")
        done = "length" if limit else "stop" if event.get("stop") else None
        return event.get("content") or "", done
    if endpoint == "ollama":  # {"response", "done", "done_reason": "stop" | "length"}
        done = (event.get("done_reason") or "stop") if event.get("done") else None
        return event.get("response") or "", done
    choice = event["choices"][0]
    return choice.get("text") or "", choice.get("finish_reason")


class RemoteRuntime(Runtime):
    def __init__(self, config: EngineConfig, on_status: StatusCallback | None = None):
        super().__init__(config, on_status)
        self._state_name = (
            RuntimeState.NOT_CONFIGURED if not config.remote_url else RuntimeState.STOPPED
        )
        self._last_error: str | None = None
        self._warning: str | None = None
        self._tasks: set[asyncio.Task] = set()
        self._client: httpx.AsyncClient | None = None
        self.retry_first_s, self.retry_max_s = RETRY_FIRST_S, RETRY_MAX_S
        self._failures = 0  # since the last generation that succeeded
        self._retry: asyncio.Task | None = None  # the next probe, while the server fails
        self._closed = False
        # Whatever leaves this runtime (status, EngineErrors, logs) is scrubbed of the key and of
        # the URL's password, also where the server or httpx quotes them back.
        register_secret(config.remote_api_key)
        register_url(config.remote_url)

    def _headers(self) -> dict:
        key = self.config.remote_api_key
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = httpx.Timeout(self.config.remote_timeout_s, connect=10.0)
            self._client = httpx.AsyncClient(
                base_url=_base_url(self.config.remote_url), headers=self._headers(), timeout=timeout
            )
        return self._client

    def _state(self) -> dict:
        return {
            "state": self._state_name,
            "url": safe_url(self.config.remote_url),
            "device": "remote",
            "queue_length": len(self._tasks),
            "last_error": self._last_error,
            "warning": self._warning,
        }

    def _set_state(self, name: RuntimeState, error: str | None = None) -> None:
        error = redact(error) if error else error
        changed = (name, error) != (self._state_name, self._last_error)
        self._state_name, self._last_error = name, error
        if changed:
            self._notify()

    def start(self) -> None:
        """Probe the server (GET /v1/models) in the background: reachable, key accepted, model served."""
        super().start()
        if not self.config.remote_url or self._loop is None:
            return
        self._set_state(RuntimeState.LOADING)
        self._spawn(self._probe())

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _failed(self, error: str) -> None:
        """The server failed: ERROR (callers stop asking it), and a probe after the backoff."""
        self._failures += 1
        self._set_state(RuntimeState.ERROR, error)
        retry = self._retry
        if not self._closed and (retry is None or retry.done() or retry is asyncio.current_task()):
            delay = min(self.retry_max_s, self.retry_first_s * 2 ** (self._failures - 1))
            self._retry = asyncio.get_running_loop().create_task(self._probe_again(delay))

    async def _probe_again(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._state_name == RuntimeState.ERROR:  # not when a generation found it back
            await self._probe()  # which, failing, schedules the next one

    async def _probe(self) -> None:
        try:
            response = await self._http().get("/models")
        except httpx.HTTPError as e:
            self._failed(f"cannot reach {safe_url(self.config.remote_url)}: {e!r}")
            return
        if response.status_code != 200:
            self._failed(str(_http_error(response.status_code, response.text)))
            return
        try:
            served = [m.get("id") for m in response.json().get("data", [])]
        except (ValueError, AttributeError):
            served = []
        # llama.cpp answers for any model name, so an unlisted one is a warning, not an error.
        model = self.config.remote_model
        self._warning = (
            redact(f"model {model!r} is not among those served: {served}")
            if model and served and model not in served
            else None
        )
        self._set_state(RuntimeState.READY)

    def _submit(self, job: Job) -> None:
        if not self.config.remote_url:
            raise EngineError("not_configured", "no remote model server configured")
        task = self._spawn(self._stream(job))
        job.on_cancel = lambda _job: task.cancel()

    def _body(self, request: GenerationRequest) -> tuple[str, dict]:
        """(URL path or absolute URL, JSON body) of ``request`` on its endpoint."""
        max_tokens = request.max_new_tokens or self.config.max_new_tokens
        if not isinstance(request, InfillRequest):
            body = {
                "model": self.config.remote_model,
                "prompt": request.prompt,
                "max_tokens": max_tokens,
                "temperature": request.temperature,
                "stream": True,
            }
            if request.stop:
                body["stop"] = request.stop[:_MAX_REMOTE_STOPS]
            return "/completions", body
        url = _root_url(self.config.remote_url) + _NATIVE_PATHS[request.endpoint]
        if request.endpoint == "llama-infill":
            body = {
                "input_prefix": request.prompt,
                "input_suffix": request.suffix,
                "n_predict": max_tokens,
                "temperature": request.temperature,
                "stop": list(request.stop),
                "stream": True,
                "cache_prompt": True,
            }
            return url, body
        options = {"num_predict": max_tokens, "temperature": request.temperature}
        if request.stop:
            options["stop"] = list(request.stop)
        body = {
            "model": self.config.remote_model,
            "prompt": request.prompt,
            "suffix": request.suffix,
            "raw": False,
            "stream": True,
            "options": options,
        }
        return url, body

    async def _stream(self, job: Job) -> None:
        request = job.request
        job.started = time.perf_counter()
        endpoint = request.endpoint if isinstance(request, InfillRequest) else "completions"
        url, body = self._body(request)
        tracker = OutputTracker(request.stop, request.original, request.rejoin_chars)
        raw, reason, pieces, first = "", None, 0, None
        try:
            async with self._http().stream("POST", url, json=body) as response:
                if response.status_code != 200:
                    error = _http_error(
                        response.status_code, (await response.aread()).decode(errors="replace")
                    )
                    if (
                        endpoint != "completions"
                    ):  # which endpoint: the server may be of another kind
                        path = _NATIVE_PATHS[endpoint]
                        error = EngineError(error.code, f"{error} (POST {path})")
                    if response.status_code >= 500:  # the server's own failure: back off
                        self._failed(str(error))
                    else:  # this request's (a 404 model, a prompt too long): the next may do
                        self._last_error = str(error)
                    job.emit(error)
                    return
                async for line in response.aiter_lines():
                    line = line.strip()
                    if line.startswith("data:"):
                        line = line[5:].strip()
                    elif not line.startswith("{"):
                        continue  # SSE comments, blank separators, event names
                    if line == "[DONE]":
                        break
                    piece, finish = _event(endpoint, json.loads(line))
                    if piece:
                        pieces += 1
                        first = first or time.perf_counter()
                        raw += piece
                        text, reason = tracker.update(raw)
                        if reason is not None:
                            break  # leaving the block closes the stream: the server stops too
                        if text != job.text and text.startswith(job.text):
                            job.emit(GenerationChunk(text=text, delta=text[len(job.text) :]))
                    if finish:
                        reason = (
                            "length" if finish == "length" else "stop" if request.stop else "eos"
                        )
        except asyncio.CancelledError:
            job.finish_cancelled()
            raise
        except httpx.HTTPError as e:
            where = safe_url(self.config.remote_url)
            error = EngineError("unreachable", f"the model server {where} failed: {e!r}")
            self._failed(str(error))
            job.emit(error)
            return
        except EngineError as error:  # an error the server sent in the stream
            self._last_error = str(error)
            job.emit(error)
            return
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
            job.emit(
                EngineError("bad_response", f"the model server sent something unexpected: {e!r}")
            )
            return
        self._failures = 0
        if self._state_name == RuntimeState.ERROR:
            self._set_state(RuntimeState.READY)  # the server is back
        text = tracker.update(raw)[0] if reason in ("stop", "rejoined") else tracker.final(raw)
        now = time.perf_counter()
        timings = {
            "prefill_ms": ((first or now) - job.started) * 1000,
            "decode_ms": (now - (first or now)) * 1000,
            "ttft_ms": ((first or now) - job.started) * 1000,
            "tokens": pieces,
        }
        job.emit(
            GenerationChunk(
                text=text,
                delta=text[len(job.text) :] if text.startswith(job.text) else text,
                done=True,
                finish_reason=reason or "eos",
                timings=job.complete_timings(timings),
            )
        )

    def close(self) -> None:
        """Cancel the streams in flight; the HTTP client closes on the loop that made it."""
        for task in [*self._tasks, *([self._retry] if self._retry else [])]:
            task.cancel()
        self._retry, self._closed = None, True
        client, self._client = self._client, None
        if client is None:
            return
        try:
            asyncio.get_running_loop().create_task(client.aclose())
        except RuntimeError:  # no loop running: the connections go with the client object
            pass
