"""CPU work off the event loop: small inputs in a thread, large ones in a worker process that
the server survives losing."""

import os
import signal

import pytest

from jupyter_cursor import workers


def pid_and_thread() -> tuple[int, str]:
    import threading

    return os.getpid(), threading.current_thread().name


def kill_myself() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(autouse=True)
def fresh_pools():
    yield
    workers.shutdown()


async def test_small_work_runs_in_a_thread_and_large_work_in_another_process():
    pid, thread = await workers.run_cpu(10, pid_and_thread)
    assert pid == os.getpid() and thread.startswith("jupyter_cursor-cpu")
    pid, _ = await workers.run_cpu(workers.SMALL_WORK_CHARS, pid_and_thread)
    assert pid != os.getpid()


async def test_a_worker_that_dies_is_an_error_and_the_next_call_gets_a_new_one():
    with pytest.raises(RuntimeError, match="worker process died"):
        await workers.run_cpu(10**6, kill_myself)
    pid, _ = await workers.run_cpu(10**6, pid_and_thread)
    assert pid != os.getpid()


def test_text_size_counts_cells_of_either_form_and_texts():
    from jupyter_cursor.protocol import Cell

    cells = [{"id": "a", "cell_type": "code", "source": "abc"}, Cell("b", "code", "de")]
    assert workers.text_size(cells, "xyz") == 8
