"""A scriptable HTTP server on loopback that speaks OpenAI's and Anthropic's streaming chat APIs.

It answers ``POST /v1/chat/completions`` (OpenAI and every OpenAI-compatible server; Azure's
``/openai/deployments/<name>/chat/completions`` too) and ``POST /v1/messages`` (Anthropic),
streamed as server-sent events or as one JSON body, and ``GET /v1/models``; other paths get
vLLM's 404. Each request takes the next scripted reply, or the default one:

    {"text": "Hello world"}                 streamed word by word
    {"chunks": ["Hel", "lo"], "delay": 0.2} these deltas, 0.2 s apart (a slow stream)
    {"status": 429, "headers": {"retry-after": "0"}}   an error in the API's own format
    {"status": 404, "code": "model_not_found", "message": "..."}
    {"hang": true}                          read the request, never answer
    {"chunks": [...], "error_after": 1, "code": "overloaded_error"}   error event mid-stream
    {"chunks": [...], "drop_after": 1}      close the connection mid-stream

In tests::

    with FakeLLMServer(api_key="sk-test") as server:
        server.script({"status": 429}, {"text": "ok"})
        ... OpenAI base_url=server.openai_url, Anthropic base_url=server.url ...
        server.requests   # what arrived: path, headers, json, chunks_sent, disconnected

As a process, for a real JupyterLab (prints ``READY <port>`` once listening)::

    python tests/fake_llm_server.py --port 0 --text "Fixed answer" [--script replies.json]

``replies.json`` holds a list of replies (a queue) or ``{"default": reply, "queue": [...]}``.
While it runs, ``POST /_script`` (a JSON list) queues more replies and ``GET /_requests`` lists
what arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import sys
import threading
import time
from typing import Any

DEFAULT_TEXT = "Hello from the fake LLM server."

# Error codes each API puts in its body, by HTTP status, when a script gives none.
_OPENAI_CODES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "model_not_found",
    429: "rate_limit_exceeded",
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    529: "Overloaded",
}


_API_ROUTES = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}
_AZURE_ROUTE = re.compile(r"^/openai/deployments/([^/]+)/chat/completions$")


def split_text(text: str) -> list[str]:
    """Deltas the way servers send them: a word with its trailing space each."""
    return re.findall(r"\S+\s*|\s+", text)


class FakeLLMServer:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        models: list[str] | None = None,
        default: dict | None = None,
    ):
        self.host = host
        self.port = port
        self.api_key = api_key
        self.models = list(models) if models else None
        self.default = default or {"text": DEFAULT_TEXT}
        self.queue: collections.deque[dict] = collections.deque()
        self.requests: list[dict[str, Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._handlers: set[asyncio.Task] = set()

    # -- control -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL for the Anthropic SDK (it appends /v1/messages)."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_url(self) -> str:
        """Base URL for the OpenAI SDK (it appends /chat/completions)."""
        return self.url + "/v1"

    def provider(self, **fields) -> dict:
        """A chat provider entry of ``CursorApp.providers``, "fake", on this server's OpenAI
        protocol; ``fields`` add to it or replace its own (``model``, ``api_key_env``...)."""
        return {
            "name": "fake",
            "kind": "openai",
            "model": "fake-model",
            "base_url": self.openai_url,
            **fields,
        }

    def script(self, *replies: dict) -> None:
        self.queue.extend(replies)

    async def until(self, predicate, timeout: float = 5.0) -> bool:
        """Wait (without blocking the caller's loop) until ``predicate()`` holds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def start(self) -> FakeLLMServer:
        """Serve from a thread of its own, so tests' event loops never starve it."""
        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._serve(ready))
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-llm-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake LLM server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _serve(self, ready: threading.Event | None = None) -> None:
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if ready is not None:
            ready.set()
        async with self._server:
            await self._stopping.wait()
            self._server.close()
            # Finish the connections still open (a hanging reply) while the loop still runs.
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)

    # -- HTTP --------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            writer.close()
            return
        path = target.split("?", 1)[0]
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        record = {
            "method": method,
            "path": path,
            "target": target,
            "headers": headers,
            "json": data,
            "chunks_sent": 0,
            "completed": False,
            "disconnected": False,
        }
        if not path.startswith("/_"):
            self.requests.append(record)
        # The client sends nothing more on this connection: reading returns only when it closes.
        closed = asyncio.ensure_future(reader.read(1))
        closed.add_done_callback(
            lambda fut: fut.cancelled() or record.update(disconnected=not record["completed"])
        )
        try:
            await self._route(method, path, headers, data, record, writer, closed)
        except ConnectionError:
            record["disconnected"] = True
        finally:
            closed.cancel()
            writer.close()

    async def _route(self, method, path, headers, data, record, writer, closed) -> None:
        if path == "/_script" and method == "POST":
            self.script(*(data if isinstance(data, list) else [data]))
            return await self._json(writer, 200, {"queued": len(self.queue)}, record)
        if path == "/_requests":
            return await self._json(writer, 200, self.requests, record)
        if method == "GET" and path == "/v1/models":
            ids = self.models or ["fake-model"]
            return await self._json(
                writer,
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in ids
                    ],
                },
                record,
            )
        api = _API_ROUTES.get(path) or ("openai" if _AZURE_ROUTE.match(path) else None)
        if method != "POST" or api is None:
            # What vLLM (FastAPI) says to a base_url without /v1.
            return await self._json(writer, 404, {"detail": "Not Found"}, record)
        offered = [k for k in _offered_keys(headers) if k]
        if self.api_key is not None and self.api_key not in offered:
            # Real servers quote (part of) the key back: the worst case, for the redaction tests.
            quoted = offered[0] if offered else ""
            return await self._error(
                writer,
                api,
                {"status": 401, "message": f"Incorrect API key provided: {quoted}"},
                record,
            )
        model = _model_of(path, data)
        if self.models is not None and model not in self.models:
            return await self._error(
                writer,
                api,
                {"status": 404, "message": f"The model `{model}` does not exist."},
                record,
            )
        reply = self.queue.popleft() if self.queue else self.default
        if reply.get("hang"):
            await asyncio.wait(
                [closed, asyncio.ensure_future(self._stopping.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            return
        if reply.get("status", 200) != 200:
            return await self._error(writer, api, reply, record)
        chunks = (
            list(reply["chunks"])
            if "chunks" in reply
            else split_text(reply.get("text", DEFAULT_TEXT))
        )
        if not (data or {}).get("stream"):
            return await self._json(writer, 200, _whole(api, model, "".join(chunks)), record)
        await self._stream(writer, api, model, chunks, reply, record, closed)

    async def _json(
        self, writer, status: int, payload: Any, record, extra: dict | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        head = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        record["completed"] = True

    async def _error(self, writer, api: str, reply: dict, record) -> None:
        status = reply.get("status", 500)
        message = reply.get("message", f"scripted error {status}")
        if api == "anthropic":
            payload = {
                "type": "error",
                "error": {
                    "type": reply.get("code") or _ANTHROPIC_TYPES.get(status, "api_error"),
                    "message": message,
                },
            }
        else:
            payload = {
                "error": {
                    "message": message,
                    "type": "error",
                    "param": None,
                    "code": reply.get("code") or _OPENAI_CODES.get(status, "server_error"),
                }
            }
        await self._json(writer, status, payload, record, reply.get("headers"))

    async def _stream(self, writer, api, model, chunks, reply, record, closed) -> None:
        head = [
            "HTTP/1.1 200 OK",
            "Content-Type: text/event-stream",
            "Cache-Control: no-cache",
            "Transfer-Encoding: chunked",
            "Connection: close",
        ]
        head += [f"{k}: {v}" for k, v in (reply.get("headers") or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        events = _openai_events(model) if api == "openai" else _anthropic_events(model)

        async def send(payload: str) -> None:
            raw = payload.encode()
            writer.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            await writer.drain()

        await send(events.start())
        delay = float(reply.get("delay", 0))
        for i, chunk in enumerate(chunks):
            if i == reply.get("error_after"):
                await send(
                    events.error(reply.get("code"), reply.get("message", "scripted stream error"))
                )
                record["completed"] = True
                return await send("")  # end of body after the error event, as the APIs do
            if i == reply.get("drop_after"):
                record["dropped"] = True
                writer.transport.abort()
                return
            if delay:
                await asyncio.wait([closed], timeout=delay)
            if closed.done():
                return  # the client went away: stop "generating", like a real server
            await send(events.delta(chunk))
            record["chunks_sent"] += 1
        await send(events.end())
        record["completed"] = True
        await send("")  # the zero-length chunk that ends the body


def _offered_keys(headers: dict) -> list[str]:
    bearer = headers.get("authorization", "")
    bearer = bearer[7:] if bearer.lower().startswith("bearer ") else bearer
    return [bearer, headers.get("x-api-key", ""), headers.get("api-key", "")]


def _model_of(path: str, data: Any) -> str:
    # Azure names the deployment in the path; everyone else names the model in the body.
    found = _AZURE_ROUTE.match(path)
    if found:
        return found.group(1)
    return (data or {}).get("model", "") if isinstance(data, dict) else ""


def _sse(payload: dict, event: str | None = None) -> str:
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {json.dumps(payload)}\n\n"


class _openai_events:
    def __init__(self, model: str):
        self.model = model

    def _chunk(self, delta: dict, finish: str | None = None) -> str:
        return _sse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    def start(self) -> str:
        return self._chunk({"role": "assistant", "content": ""})

    def delta(self, text: str) -> str:
        return self._chunk({"content": text})

    def end(self) -> str:
        return self._chunk({}, "stop") + "data: [DONE]\n\n"

    def error(self, code: str | None, message: str) -> str:
        return _sse({"error": {"message": message, "type": "server_error", "code": code}})


class _anthropic_events:
    def __init__(self, model: str):
        self.model = model

    def start(self) -> str:
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 0},
        }
        return (
            _sse({"type": "message_start", "message": message}, "message_start")
            + _sse(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
                "content_block_start",
            )
            + _sse({"type": "ping"}, "ping")
        )

    def delta(self, text: str) -> str:
        return _sse(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            },
            "content_block_delta",
        )

    def end(self) -> str:
        return (
            _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            + _sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": 1},
                },
                "message_delta",
            )
            + _sse({"type": "message_stop"}, "message_stop")
        )

    def error(self, code: str | None, message: str) -> str:
        return _sse(
            {"type": "error", "error": {"type": code or "overloaded_error", "message": message}},
            "error",
        )


def _whole(api: str, model: str, text: str) -> dict:
    if api == "anthropic":
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--text", help="the default answer")
    parser.add_argument("--script", help="JSON file: a list of replies, or {default, queue}")
    parser.add_argument("--api-key", help="refuse requests without this key (401)")
    parser.add_argument("--models", help="comma-separated model names; others get a 404")
    args = parser.parse_args(argv)
    server = FakeLLMServer(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        models=args.models.split(",") if args.models else None,
        default={"text": args.text} if args.text else None,
    )
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            script = json.load(f)
        if isinstance(script, dict):
            server.default = script.get("default", server.default)
            script = script.get("queue", [])
        server.script(*script)

    async def serve():
        task = asyncio.ensure_future(server._serve())
        while server._server is None:
            await asyncio.sleep(0.01)
        print(f"READY {server.port}", flush=True)
        await task

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
