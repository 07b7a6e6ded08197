"""One kernel, watched: our own client of it (never the user's), which follows its state on the
iopub channel and asks it, only while it is idle and time-boxed, what it knows.

- ``snapshot()``: the names in the user namespace (probe.py), cached per execution count: the
  count of the latest ``execute_input`` seen on iopub (any client's), so that our own silent
  requests, which publish none, never make the cache stale. Refreshed in the background when the
  kernel goes idle after a user's execution, so that a keystroke finds it ready.
- ``complete(code, cursor_pos)``: the kernel's own ``complete_request``.

Both answer None rather than wait: when the kernel is busy (the user's code runs), starting, dead,
or slower than the time box, there is no kernel context, never a late suggestion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from jupyter_client.asynchronous import AsyncKernelClient

from .probe import PROBE_EXPRESSION, Snapshot, parse_snapshot

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 0.2
COMPLETE_TIMEOUT_S = 0.1  # Jedi answers in 30-110 ms once warm (bench_kernel.py); later is too late
RETRY_S = 5.0
MAX_MATCHES = 200


class KernelWatcher:
    def __init__(self, connection_info: dict, state: Callable[[], str] | None = None):
        """``connection_info``: the kernel's (with its session, so that messages are signed);
        ``state``: the kernel's execution state as the server tracks it, used until our own
        iopub has told it."""
        info = dict(connection_info)
        shared = info.pop("session", None)
        self._client = AsyncKernelClient()
        if shared is not None:  # its signing key, in a session of our own (its own history of
            # signatures seen: a shared one would take the iopub messages both see as replays)
            info.setdefault("key", shared.key)
            info.setdefault("signature_scheme", shared.signature_scheme)
        self._client.load_connection_info(info)
        self._client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
        self._state_hint = state
        self._state: str | None = None
        self._user_count = -1  # the latest execute_input's count: what the cache is keyed by
        self._cache: Snapshot | None = None
        self._cache_count: int | None = None
        self._lock = asyncio.Lock()  # one shell request at a time: replies matched in turn
        self._refresh: asyncio.Task | None = None
        self._tried: tuple[int, float] | None = None  # (count, when) of the last probe sent
        self._iopub = asyncio.ensure_future(self._follow_iopub())
        self.closed = False
        if state is None:  # our state from the status messages of a request of ours
            self._client.kernel_info()

    # -- state ---------------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        state = self._state
        if state is None and self._state_hint is not None:
            with contextlib.suppress(Exception):
                state = self._state_hint()
        return state == "idle"

    async def _follow_iopub(self) -> None:
        while not self.closed:
            try:
                msg = await self._client.get_iopub_msg(timeout=1)
            except asyncio.CancelledError:
                raise
            except Exception:  # queue.Empty on timeout, or a socket closed under us
                continue
            kind, content = msg["header"]["msg_type"], msg.get("content", {})
            if kind == "execute_input":
                self._user_count = content.get("execution_count", self._user_count)
            elif kind == "status" and self._ours(msg):
                # Ours say nothing of the user's code, except that it was not running: the first
                # of them tells the state when no user's status was seen yet.
                if self._state is None and content.get("execution_state") == "idle":
                    self._state = "idle"
            elif kind == "status":
                was_idle = self._state == "idle"
                self._state = content.get("execution_state")
                if self._state == "idle" and not was_idle and self._wanted:
                    self.refresh()

    def _ours(self, msg: dict) -> bool:
        """A status of one of our own requests (the probe, a completion): they run one at a time
        under our lock, so their busy is not the user's (else the next keystroke, before our
        request's idle arrived, would find the kernel busy and get no kernel context)."""
        parent = msg.get("parent_header") or {}
        return parent.get("session") == self._client.session.session

    # -- snapshot -----------------------------------------------------------------------------------

    @property
    def stale(self) -> bool:
        return self._cache is None or self._cache_count != self._user_count

    @property
    def _wanted(self) -> bool:
        """Stale, and not already asked for this count (a probe that failed or timed out is
        retried after RETRY_S, not at each idle status, which our own requests cause)."""
        if not self.stale:
            return False
        tried = self._tried
        return (
            tried is None or tried[0] != self._user_count or time.monotonic() - tried[1] > RETRY_S
        )

    def cached(self) -> Snapshot | None:
        """The latest snapshot (possibly from before the last execution), starting a refresh when
        it is stale and the kernel idle; never waits."""
        if self._wanted and self.idle:
            self.refresh()
        return self._cache

    def refresh(self) -> asyncio.Task | None:
        if self.closed:
            return None
        if self._refresh is None or self._refresh.done():
            self._tried = (self._user_count, time.monotonic())
            self._refresh = asyncio.ensure_future(self._probe())
        return self._refresh

    async def snapshot(self, wait_s: float = 0.0) -> Snapshot | None:
        """The snapshot, waiting at most ``wait_s`` for a refresh that a stale cache needs."""
        task = self.refresh() if self._wanted and self.idle else self._refresh
        if task is not None and not task.done() and wait_s > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), wait_s)
        return self._cache

    async def _probe(self) -> None:
        count = self._user_count
        self._tried = (count, time.monotonic())
        reply = await self._request(
            "execute_request",
            {
                "code": "",
                "silent": True,
                "store_history": False,
                "user_expressions": {"probe": PROBE_EXPRESSION},
                "allow_stdin": False,
                "stop_on_error": False,
            },
            PROBE_TIMEOUT_S,
        )
        if reply is None:
            return
        try:
            value = reply["user_expressions"]["probe"]
            if value.get("status") != "ok":
                raise ValueError(value.get("evalue") or "the probe failed")
            snapshot = parse_snapshot(value["data"]["text/plain"])
        except (KeyError, TypeError, ValueError) as err:
            logger.info("jupyter_cursor: the kernel's snapshot is unusable: %s", err)
            return
        self._cache, self._cache_count = snapshot, count

    # -- completion ---------------------------------------------------------------------------------

    async def complete(self, code: str, cursor_pos: int) -> dict | None:
        """The kernel's ``complete_reply`` content (``matches``, ``cursor_start``, ``cursor_end``),
        or None when the kernel is busy or slow."""
        if not self.idle:
            return None
        reply = await self._request(
            "complete_request", {"code": code, "cursor_pos": cursor_pos}, COMPLETE_TIMEOUT_S
        )
        if reply is None or reply.get("status") != "ok":
            return None
        matches = reply.get("matches")
        if not isinstance(matches, list):
            return None
        reply["matches"] = [m for m in matches[:MAX_MATCHES] if isinstance(m, str)]
        return reply

    # -- plumbing -----------------------------------------------------------------------------------

    async def _request(self, msg_type: str, content: dict, timeout: float) -> dict | None:
        """Send one shell request and wait for its reply, at most ``timeout`` seconds (the lock
        wait included); replies to earlier requests that timed out are dropped on the way."""
        deadline = time.monotonic() + timeout
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout)
        except asyncio.TimeoutError:
            return None
        try:
            if not self.idle or self.closed:
                return None
            msg = self._client.session.msg(msg_type, content)
            self._client.shell_channel.send(msg)
            msg_id = msg["header"]["msg_id"]
            while (left := deadline - time.monotonic()) > 0:
                try:
                    reply = await self._client.get_shell_msg(timeout=left)
                except Exception:  # queue.Empty: out of time
                    return None
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return reply.get("content", {})
            return None
        finally:
            self._lock.release()

    async def close(self) -> None:
        self.closed = True
        self._iopub.cancel()
        for task in (self._iopub, self._refresh):
            if task is not None:
                with contextlib.suppress(BaseException):
                    await task
        self._client.stop_channels()
