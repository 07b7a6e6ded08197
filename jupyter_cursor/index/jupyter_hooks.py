"""Keeping a WorkspaceIndex fresh from a running Jupyter server: no web code, just the two
notification paths the server offers.

- the contents manager's post-save hooks: every save through the server, including new files,
  uploads and copies (they are saves);
- the event bus (schema ``contents_service/v1``): renames, deletions and copies, which no save hook
  sees, and saves by contents managers that do not run post-save hooks.

Both only enqueue work for the index's writer thread, so they never slow a save down.
"""

from __future__ import annotations

import logging

from .workspace import WorkspaceIndex

CONTENTS_SCHEMA = "https://events.jupyter.org/jupyter_server/contents_service/v1"

log = logging.getLogger("jupyter_cursor.index")


def connect(contents_manager, event_logger, index: WorkspaceIndex) -> None:
    """Register the hooks; ``event_logger`` may be None (then renames and deletions are only
    seen by the next :meth:`WorkspaceIndex.rescan`)."""

    def post_save(model=None, os_path=None, contents_manager=None, **kwargs):
        path = (model or {}).get("path") or os_path
        if path:
            index.notify_saved(path)

    contents_manager.register_post_save_hook(post_save)

    if event_logger is None:
        return

    async def on_contents_event(logger, schema_id, data):
        action, path = data.get("action"), data.get("path")
        if not path:
            return
        if action == "rename":
            index.notify_renamed(data.get("source_path") or "", path)
        elif action == "delete":
            index.notify_deleted(path)
        elif action in ("save", "create", "upload", "copy"):
            index.notify_saved(path)

    event_logger.add_listener(schema_id=CONTENTS_SCHEMA, listener=on_contents_event)
