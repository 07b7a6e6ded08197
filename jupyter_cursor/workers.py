"""CPU-heavy steps (apply's merge, refactor's checks, the next-edit rules over a large notebook) run
here, off the server's event loop.

Small inputs run in a thread: milliseconds of work, not worth a process round trip. Large ones run
in worker processes of their own: in a thread they would still hold the GIL, and the event loop,
which needs it for every socket it serves, answered ``/status`` in 1.4 s instead of 0.2 s while a
3,000-cell refactor was checked in a thread next to it. The processes are started by a fork
server, never forked from the server itself (its threads — the index's, PyTorch's — must not be
copied mid-lock), and only when first needed.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

# Work on fewer characters than this stays in a thread (a cell or a few: well under 10 ms).
SMALL_WORK_CHARS = 50_000
# A core left to the event loop, at most two processes: the machine also runs the kernels, the
# model and the index (one process on 2 cores).
PROCESSES = max(1, min(2, (os.cpu_count() or 1) - 1))

_lock = threading.Lock()
_threads: ThreadPoolExecutor | None = None
_processes: ProcessPoolExecutor | None = None


def _thread_pool() -> Executor:
    global _threads
    with _lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="jupyter_cursor-cpu")
        return _threads


def _process_pool() -> Executor:
    global _processes
    with _lock:
        if _processes is None:
            context = multiprocessing.get_context("forkserver")
            # The fork server imports only this package, not the server's __main__.
            context.set_forkserver_preload(["jupyter_cursor.workers"])
            _processes = ProcessPoolExecutor(max_workers=PROCESSES, mp_context=context)
        return _processes


async def run_cpu(size: int, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` off the event loop: in a worker process when ``size`` (the characters of
    input) is large, else in a thread. ``fn`` and its arguments must be picklable (a module-level
    function of plain data). A worker that dies (killed, out of memory) is replaced and the call
    fails with RuntimeError; the server goes on."""
    loop = asyncio.get_running_loop()
    call = functools.partial(fn, *args, **kwargs)
    if size < SMALL_WORK_CHARS:
        return await loop.run_in_executor(_thread_pool(), call)
    pool = _process_pool()
    try:
        return await loop.run_in_executor(pool, call)
    except BrokenProcessPool:
        _discard(pool)
        raise RuntimeError("a worker process died while it worked (out of memory?)") from None


def _discard(pool: Executor) -> None:
    global _processes
    with _lock:
        if _processes is pool:
            _processes = None
    pool.shutdown(wait=False, cancel_futures=True)


def text_size(cells: Any, *texts: str) -> int:
    """The characters of a request's cells (dicts or protocol.Cell) and texts: what run_cpu's
    ``size`` measures."""
    total = sum(len(t) for t in texts)
    for cell in cells:
        total += len(cell["source"] if isinstance(cell, dict) else cell.source)
    return total


def shutdown() -> None:
    """Stop the workers (the server is stopping); a later run_cpu starts new ones."""
    global _threads, _processes
    with _lock:
        threads, processes, _threads, _processes = _threads, _processes, None, None
    for pool in (threads, processes):
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
