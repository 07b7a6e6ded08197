from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CursorAPIHandler


class StatusHandler(CursorAPIHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.finish(self.services.status())
