"""One websocket's conversation: parse, dispatch by type, reply by id, cancel by id.

No tornado here: the websocket handler feeds raw messages in and gives a ``send`` callable, so the
same session is tested without a server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from . import protocol
from .protocol import ErrorCode, ProtocolError
from .services import Services

log = logging.getLogger(__name__)

# Requests one connection may have in flight, all types together; each type has its own, lower
# bound too (protocol.request's max_in_flight).
MAX_IN_FLIGHT = 16


class RpcSession:
    def __init__(self, services: Services, send: Callable[[dict], None], max_message_bytes: int):
        self._services = services
        self._send = send
        self._max_bytes = max_message_bytes
        self._tasks: dict[str, asyncio.Task] = {}
        self._types: dict[str, str] = {}  # request id -> type, of the tasks in flight

    @property
    def in_flight(self) -> list[str]:
        return list(self._tasks)

    def receive(self, raw: str | bytes) -> None:
        """Handle one client message. Never raises: every problem becomes an error reply."""
        try:
            req = protocol.parse_request(raw, self._max_bytes)
        except ProtocolError as err:
            self._send(protocol.error_reply(err.request_id, err.code, err.message))
            return
        if isinstance(req, protocol.Cancel):
            self._cancel(req)
            return
        if req.id in self._tasks:
            self._send(
                protocol.error_reply(
                    req.id, ErrorCode.DUPLICATE_ID, f"a request with id {req.id!r} is in flight"
                )
            )
            return
        busy = self._busy(req)
        if busy:
            self._send(protocol.error_reply(req.id, ErrorCode.BUSY, busy))
            return
        method = self._services.method(req.TYPE)
        if method is None:
            self._send(
                protocol.error_reply(
                    req.id, ErrorCode.NOT_CONFIGURED, f"{req.TYPE!r} is not served by this server"
                )
            )
            return
        task = asyncio.ensure_future(self._run(req, method))
        self._tasks[req.id] = task
        self._types[req.id] = req.TYPE
        task.add_done_callback(lambda done, request_id=req.id: self._finished(request_id, done))

    def _busy(self, req: Any) -> str:
        """Why ``req`` may not start now ("" when it may): a connection has a bounded number of
        requests in flight, of each type and in all, so no client can queue unbounded work (or
        a hundred paid provider calls) by sending faster than the server answers."""
        if len(self._tasks) >= MAX_IN_FLIGHT:
            return f"{MAX_IN_FLIGHT} requests are in flight on this connection; wait for one to end"
        running = sum(1 for name in self._types.values() if name == req.TYPE)
        if running >= req.MAX_IN_FLIGHT:
            return (
                f"{running} {req.TYPE!r} requests are in flight on this connection (the most "
                f"at once); wait for one to end or cancel it"
            )
        return ""

    def _finished(self, request_id: str, task: asyncio.Task) -> None:
        # A done callback rather than a ``finally`` in ``_run``: a task cancelled before its first
        # step never enters ``_run``, and its client must still hear "cancelled".
        if self._tasks.get(request_id) is task:
            del self._tasks[request_id]
            del self._types[request_id]
        if task.cancelled():
            self._send(protocol.cancelled_reply(request_id))

    async def _run(self, req: Any, method) -> None:
        def emit(data: Any) -> None:
            self._send(protocol.partial_reply(req.id, data))

        try:
            result = await method(req, emit)
        except ProtocolError as err:
            self._send(protocol.error_reply(req.id, err.code, err.message))
        except Exception as err:  # an engine failure must never take the connection down
            log.exception("request %s (%s) failed", req.id, req.TYPE)
            self._send(
                protocol.error_reply(req.id, ErrorCode.INTERNAL, f"{type(err).__name__}: {err}")
            )
        else:
            self._send(protocol.result_reply(req.id, result))

    def _cancel(self, req: protocol.Cancel) -> None:
        task = self._tasks.get(req.target)
        if task is None:
            self._send(
                protocol.error_reply(
                    req.id, ErrorCode.BAD_MESSAGE, f"no request with id {req.target!r} is in flight"
                )
            )
            return
        task.cancel()
        self._send(protocol.result_reply(req.id, {"cancelled": req.target}))

    def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._types.clear()
