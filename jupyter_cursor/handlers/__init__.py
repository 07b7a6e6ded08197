"""Thin tornado handlers: authentication, authorization, size limits, and nothing else."""

from .apply import ApplyHandler
from .search import SearchHandler
from .status import StatusHandler
from .ws import CursorWebSocket


def handler_routes() -> list[tuple[str, type]]:
    """Routes relative to the server's base URL."""
    return [
        (r"/jupyter-cursor/status", StatusHandler),
        (r"/jupyter-cursor/search", SearchHandler),
        (r"/jupyter-cursor/apply", ApplyHandler),
        (r"/jupyter-cursor/ws", CursorWebSocket),
    ]
