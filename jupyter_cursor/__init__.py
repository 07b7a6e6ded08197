"""jupyter_cursor: next-edit predictions, workspace search and exact apply for JupyterLab."""

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-cursor"}]


def _jupyter_server_extension_points():
    from .app import CursorApp

    return [{"module": "jupyter_cursor.app", "app": CursorApp}]
