from __future__ import annotations

import json

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web, websocket

from .. import protocol
from ..rpc import RpcSession
from .base import AUTH_RESOURCE, CursorHandlerMixin

# Tornado closes a connection (1009, "message too big") whose message is over this, without
# reading it. Our own limit (CursorApp.max_message_bytes) is lower, so that a message over it is read,
# answered 'too_large', and the connection stays open. Set on this handler alone: the server's
# websocket_max_message_size setting is the kernels' too.
WS_MESSAGE_CEILING = 64 * 1024 * 1024


class CursorWebSocket(
    CursorHandlerMixin, WebSocketMixin, JupyterHandler, websocket.WebSocketHandler
):
    """The one websocket: typed JSON requests in, replies matched by id out (see protocol.py)."""

    auth_resource = AUTH_RESOURCE
    session: RpcSession | None = None

    @property
    def max_message_size(self) -> int:
        return WS_MESSAGE_CEILING

    @ws_authenticated
    async def get(self, *args, **kwargs):
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "execute", AUTH_RESOURCE)
        )
        if not allowed:
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    def open(self, *args, **kwargs):
        super().open(*args, **kwargs)
        services = self.services
        self.session = RpcSession(services, self._send, self.cursor_app.max_message_bytes)
        services.add_listener(self._on_status)
        self._send(protocol.event_message("status", services.status()))

    def on_message(self, message):
        self.session.receive(message)

    def on_close(self):
        super().on_close()
        self.services.remove_listener(self._on_status)
        if self.session is not None:
            self.session.close()

    def _on_status(self, snapshot: dict) -> None:
        self._send(protocol.event_message("status", snapshot))

    def _send(self, message: dict) -> None:
        if self.ws_connection is None or self.ws_connection.is_closing():
            return
        self.write_message(json.dumps(message))
