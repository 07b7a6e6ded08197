"""The server extension: configuration, handlers, and the lifetime of the services."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Int

from ._version import __version__
from .handlers import handler_routes
from .services import Services

# Tornado closes a websocket whose message exceeds its own limit; ours must stay below it so that an
# oversized message gets an error reply on a connection that stays open.
TORNADO_WS_LIMIT = 10 * 1024 * 1024


class CursorApp(ExtensionApp):
    name = "jupyter_cursor"
    version = __version__
    description = "Next-edit predictions, workspace search and exact apply for JupyterLab."
    load_other_extensions = True

    max_message_bytes = Int(
        8 * 1024 * 1024,
        config=True,
        help="Largest websocket message accepted, in bytes; larger ones get a 'too_large' error.",
    )

    services: Services

    def initialize_settings(self) -> None:
        if not 0 < self.max_message_bytes < TORNADO_WS_LIMIT:
            raise ValueError(
                f"CursorApp.max_message_bytes must be between 1 and {TORNADO_WS_LIMIT - 1}"
            )
        self.services = Services()
        self.settings.update(
            {
                "jupyter_cursor_services": self.services,
                "jupyter_cursor_config": self,
                "websocket_max_message_size": TORNADO_WS_LIMIT,
            }
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(handler_routes())


main = launch_new_instance = CursorApp.launch_instance
