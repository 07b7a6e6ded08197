from __future__ import annotations

from jupyter_server.base.handlers import APIHandler

from ..services import Services

AUTH_RESOURCE = "jupyter_cursor"


class CursorAPIHandler(APIHandler):
    """REST base: every route of the extension is the resource ``jupyter_cursor``."""

    auth_resource = AUTH_RESOURCE

    @property
    def services(self) -> Services:
        return self.settings["jupyter_cursor_services"]

    @property
    def cursor_config(self):
        return self.settings["jupyter_cursor_config"]
