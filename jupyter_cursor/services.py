"""The server's services: their state for ``/status``, and the request methods they answer.

The app builds one :class:`Services`; engines register a :class:`ServiceState` (what the status
shows) and the request types they serve. Handlers and the RPC session only talk to this object,
so no web code reaches the engines.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from . import protocol
from ._version import __version__
from .redaction import redact_value

# States a service can be in; the status bar shows the worst of them.
NOT_CONFIGURED = "not_configured"
STARTING = "starting"
READY = "ready"
BUSY = "busy"
INDEXING = "indexing"
ERROR = "error"

# A request method: (request, emit_partial) -> result. emit_partial sends a streaming update.
Method = Callable[[Any, Callable[[Any], None]], Awaitable[Any]]


@dataclasses.dataclass
class ServiceState:
    state: str = NOT_CONFIGURED
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)
    message: str = ""


class Services:
    def __init__(self, names: tuple[str, ...] = ("index", "model", "apply", "chat")):
        self._states = {name: ServiceState() for name in names}
        self._methods: dict[str, Method] = {}
        self._listeners: list[Callable[[dict], None]] = []
        self.started = time.time()
        self.register_method(protocol.Ping.TYPE, self._ping)
        self.register_method(protocol.StatusRequest.TYPE, self._status)

    # -- state ----------------------------------------------------------------------------------
    def set_state(self, name: str, state: str, message: str = "", **detail: Any) -> None:
        """Record a service's state and tell every listener (the websockets) when it changed."""
        new = ServiceState(state=state, detail=detail, message=message)
        if self._states.get(name) == new:
            return
        self._states[name] = new
        snapshot = self.status()
        for listener in list(self._listeners):
            listener(snapshot)

    def state(self, name: str) -> ServiceState:
        return self._states[name]

    def status(self) -> dict:
        """What REST ``/status`` and the websocket status events show: scrubbed of secrets, as
        messages and details quote servers' errors and configured URLs."""
        return redact_value(
            {
                "version": __version__,
                "protocol": protocol.PROTOCOL_VERSION,
                "uptime_s": round(time.time() - self.started, 1),
                "services": {
                    name: {"state": s.state, "message": s.message, **s.detail}
                    for name, s in self._states.items()
                },
            }
        )

    def add_listener(self, listener: Callable[[dict], None]) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[dict], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- methods --------------------------------------------------------------------------------
    def register_method(self, type_name: str, method: Method) -> None:
        if type_name not in protocol.REQUEST_TYPES:
            raise ValueError(f"{type_name!r} is not a request type of the protocol")
        self._methods[type_name] = method

    def register_methods(self, methods: dict[str, Method]) -> None:
        """A feature's methods, as its ``*_methods(service)`` function returns them."""
        for type_name, method in methods.items():
            self.register_method(type_name, method)

    def method(self, type_name: str) -> Method | None:
        return self._methods.get(type_name)

    async def _ping(self, req: protocol.Ping, emit: Callable[[Any], None]) -> dict:
        return {"pong": True, "time": time.time()}

    async def _status(self, req: protocol.StatusRequest, emit: Callable[[Any], None]) -> dict:
        return self.status()
