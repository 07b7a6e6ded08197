"""The kernels of the server's notebooks, as context (no web code): a notebook's path → its
session's kernel → one KernelWatcher (client.py) per running Python kernel.

``snapshot(path)`` and ``complete(path, code, pos)`` answer None, never wait on a kernel: no
session for the path, a kernel of another language, turned off (``CursorApp.kernel_context``), or
a kernel busy or slow. Watchers of kernels that are gone are closed at the next lookup.
"""

from __future__ import annotations

import contextlib
import logging
import time

from .client import KernelWatcher
from .probe import Snapshot

logger = logging.getLogger(__name__)

SESSION_TTL_S = 2.0  # a path's kernel is looked up again after this long
SNAPSHOT_WAIT_S = 0.05  # at most this long for a stale snapshot's refresh (the 50 ms target)


class KernelContext:
    def __init__(self, session_manager, kernel_manager, enabled: bool = True):
        self._sessions = session_manager
        self._kernels = kernel_manager
        self.enabled = enabled
        self._watchers: dict[str, KernelWatcher] = {}
        self._paths: dict[str, tuple[float, str | None]] = {}

    async def _kernel_id(self, path: str) -> str | None:
        now = time.monotonic()
        cached = self._paths.get(path)
        if cached is not None and now - cached[0] < SESSION_TTL_S:
            return cached[1]
        kernel_id = None
        with contextlib.suppress(Exception):  # tornado's HTTPError 404: no session for the path
            session = await self._sessions.get_session(path=path)
            kernel_id = (session.get("kernel") or {}).get("id")
        self._paths[path] = (now, kernel_id)
        return kernel_id

    def _python(self, kernel) -> bool:
        spec = None
        with contextlib.suppress(Exception):
            spec = kernel.kernel_spec
        return spec is not None and str(spec.language).lower() == "python"

    async def watcher(self, path: str) -> KernelWatcher | None:
        if not self.enabled or not path:
            return None
        await self._drop_gone()
        kernel_id = await self._kernel_id(path)
        if kernel_id is None:
            return None
        watcher = self._watchers.get(kernel_id)
        if watcher is None:
            try:
                kernel = self._kernels.get_kernel(kernel_id)
            except KeyError:
                return None
            if not self._python(kernel):
                return None
            watcher = KernelWatcher(
                kernel.get_connection_info(session=True),
                state=lambda: getattr(kernel, "execution_state", None),
            )
            self._watchers[kernel_id] = watcher
        return watcher

    async def snapshot(self, path: str, wait_s: float = SNAPSHOT_WAIT_S) -> Snapshot | None:
        watcher = await self.watcher(path)
        return await watcher.snapshot(wait_s) if watcher is not None else None

    async def complete(self, path: str, code: str, cursor_pos: int) -> dict | None:
        watcher = await self.watcher(path)
        return await watcher.complete(code, cursor_pos) if watcher is not None else None

    async def _drop_gone(self) -> None:
        live = set(self._kernels.list_kernel_ids())
        for kernel_id in [k for k in self._watchers if k not in live]:
            await self._watchers.pop(kernel_id).close()

    async def close(self) -> None:
        for watcher in self._watchers.values():
            await watcher.close()
        self._watchers.clear()
