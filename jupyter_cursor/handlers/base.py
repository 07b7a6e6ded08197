from __future__ import annotations

from jupyter_server.base.handlers import APIHandler

from ..services import Services

AUTH_RESOURCE = "jupyter_cursor"
# jupyter_server keeps each ExtensionApp in the web app's settings under the extension's name.
EXTENSION_NAME = "jupyter_cursor"


class CursorHandlerMixin:
    """What every handler of the extension reads from the server: the app and its services."""

    settings: dict

    @property
    def cursor_app(self):
        return self.settings[EXTENSION_NAME]

    @property
    def services(self) -> Services:
        return self.cursor_app.services


class CursorAPIHandler(CursorHandlerMixin, APIHandler):
    """REST base: every route of the extension is the resource ``jupyter_cursor``."""

    auth_resource = AUTH_RESOURCE
