"""The live kernel as context (issue 20), against a real ipykernel: the probe reads the namespace
without changing it, answers only while the kernel is idle, is cached per execution count, and
feeds the column completion, the kernel's own completions and the error fixes."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from jupyter_client import BlockingKernelClient, KernelManager

from jupyter_cursor.kernel import client as client_mod
from jupyter_cursor.kernel.client import KernelWatcher
from jupyter_cursor.kernel.complete import (
    attribute_request,
    key_completion,
    name_completion,
    pick_match,
)
from jupyter_cursor.kernel.fix import fix_error
from jupyter_cursor.kernel.probe import Snapshot, Variable, parse_snapshot, render_variables

pytest.importorskip("pandas")
pytest.importorskip("polars")


@pytest.fixture(scope="module")
def kernel():
    km = KernelManager(kernel_name="python3")
    km.start_kernel(extra_arguments=["--HistoryManager.enabled=False"])
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    client.execute_interactive(
        "import pandas as pd\n"
        "sales = pd.DataFrame({'revenue': [1.5, 2.0], 'region': ['n', 's'], 'units': [3, 4]})\n"
        "prices = {'apple': 1, 'banana': 2}\n"
        "xs = [1, 2, 3]\n"
        "import polars as pl\n"
        "scores = pl.DataFrame({'name': ['a'], 'score': [0.5]})\n",
        timeout=60,
    )
    yield km, client
    client.stop_channels()
    km.shutdown_kernel(now=True)


def user_expression(client, expression: str):
    """The value of ``expression`` in the user namespace, asked silently."""
    reply = client.execute_interactive(
        "", silent=True, store_history=False, user_expressions={"v": expression}, timeout=30
    )
    return eval(reply["content"]["user_expressions"]["v"]["data"]["text/plain"])


def user_names(client) -> list[str]:
    return user_expression(client, "sorted(get_ipython().user_ns)")


def execution_count(client) -> int:
    return user_expression(client, "get_ipython().execution_count")


def with_watcher(km, body):
    async def main():
        watcher = KernelWatcher(km.get_connection_info(session=True))
        try:
            for _ in range(100):  # the iopub subscription settles, the first status arrives
                if watcher.idle:
                    break
                await asyncio.sleep(0.05)
            return await body(watcher)
        finally:
            await watcher.close()

    return asyncio.run(main())


def test_probe_reads_the_namespace_and_changes_nothing(kernel):
    km, client = kernel
    names_before, count_before = user_names(client), execution_count(client)

    async def body(watcher):
        return await watcher.snapshot(wait_s=5)

    snapshot = with_watcher(km, body)
    assert snapshot is not None
    sales = snapshot.get("sales")
    assert sales.shape == (2, 3)
    assert [c for c, _ in sales.columns] == ["revenue", "region", "units"]
    assert dict(sales.columns)["units"] == "int64"
    assert snapshot.get("prices").keys == ("apple", "banana")
    assert snapshot.get("xs").length == 3
    assert snapshot.get("pd").module == "pandas"
    assert snapshot.get("scores").columns == (("name", "String"), ("score", "Float64"))
    assert user_names(client) == names_before
    assert execution_count(client) == count_before


def test_probe_never_runs_while_the_users_code_runs(kernel):
    km, client = kernel
    # A separate client runs a long cell, as the user's notebook would.
    runner = BlockingKernelClient()  # with a session of its own, as another browser tab's
    runner.load_connection_info({**km.get_connection_info(), "key": km.session.key})
    runner.start_channels()

    async def body(watcher):
        first = await watcher.snapshot(wait_s=5)
        done = threading.Event()

        def long_cell():
            runner.execute_interactive("import time; time.sleep(1.5); late = 42", timeout=30)
            done.set()

        thread = threading.Thread(target=long_cell)
        thread.start()
        for _ in range(100):
            if not watcher.idle:
                break
            await asyncio.sleep(0.02)
        busy = not watcher.idle
        started = time.perf_counter()
        during = await watcher.snapshot(wait_s=0.05)
        waited = time.perf_counter() - started
        complete = await watcher.complete("sales.grou", 10)
        sent_during = watcher._tried
        while not done.is_set():
            await asyncio.sleep(0.05)
        thread.join()
        after = await watcher.snapshot(wait_s=5)
        return first, busy, during, waited, complete, sent_during, after

    first, busy, during, waited, complete, sent_during, after = with_watcher(km, body)
    runner.stop_channels()
    assert busy
    assert during is first  # the cached snapshot, not a new probe
    assert waited < 0.5
    assert complete is None
    assert sent_during[1] < time.monotonic()  # no probe was sent while busy: the one before
    assert first.get("late") is None
    assert after.get("late") is not None and after.get("late").type == "int"


def test_the_kernels_own_completion_of_an_attribute(kernel):
    km, client = kernel
    source = "sales.grou"
    client.complete("sales.", 6)  # Jedi's first completion is slow: past the time box
    client.get_shell_msg(timeout=30)

    async def body(watcher):
        return await watcher.complete(source, len(source))

    reply = with_watcher(km, body)
    assert pick_match(reply, source, len(source)) == "pby"
    assert attribute_request(source, len(source))
    assert not attribute_request('x = "sales.grou', 15)  # inside a string
    assert not attribute_request("sale", 4)  # a bare name: from the snapshot, not the kernel


def test_our_own_requests_do_not_make_the_kernel_busy_for_the_next_keystroke(kernel, monkeypatch):
    """Keystrokes come faster than the idle status of our previous request: each still asks."""
    km, client = kernel
    monkeypatch.setattr(client_mod, "COMPLETE_TIMEOUT_S", 10.0)  # a slow Jedi is not the point
    source = "sales.grou"
    client.complete("sales.", 6)  # Jedi warm
    client.get_shell_msg(timeout=30)

    async def body(watcher):
        return [await watcher.complete(source, len(source)) for _ in range(8)]

    replies = with_watcher(km, body)
    assert [pick_match(r, source, len(source)) for r in replies] == ["pby"] * 8


def test_name_completion_from_the_snapshot():
    snapshot = snapshot_of(revenue_by_region=[], reverse_map=[])
    assert name_completion(snapshot, "x = revenue_", 12) == "by_region"
    assert name_completion(snapshot, "x = rev", 7) == ""  # two names, and reversed()
    assert name_completion(snapshot, "x = 'revenue_", 13) == ""
    assert name_completion(snapshot, "x = revenue_by_regi", 19) == ""  # "on": too short to show


def snapshot_of(**frames) -> Snapshot:
    return Snapshot(
        1,
        tuple(
            Variable(name, "pandas.DataFrame", shape=(2, len(cols)), columns=tuple(cols))
            for name, cols in frames.items()
        ),
    )


FRAME = snapshot_of(df=[("revenue", "float64"), ("region", "str"), ("rev_share", "float64")])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('df["reg', 'ion"]'),
        ("df['reg", "ion']"),
        ('df["reg"]', "ion"),  # the closing quote is there already
        ('x = df["reve', 'nue"]'),
        ('df[["revenue", "reg', 'ion"'),  # a list of columns: only the quote
        ('df.loc[:, "reg', 'ion"]'),
        ('df["rev', ""),  # revenue or rev_share: ambiguous
        ('df["revenue', ""),  # typed whole
        ('other["reg', ""),  # not a frame the kernel has
        ('df["zz', ""),
        ('df[["revenue", "regio', ""),  # two characters: not worth a look
    ],
)
def test_key_completion(source, expected):
    offset = source.index('"]') if source.endswith('"]') else len(source)
    assert key_completion(FRAME, source, offset) == expected


def test_render_variables_and_parse_round_trip():
    text = render_variables(FRAME)
    assert text.startswith("df: DataFrame (2, 3) columns: revenue float64, region str")
    assert parse_snapshot(FRAME.to_dict()) == FRAME
    with pytest.raises(ValueError):
        parse_snapshot({"variables": [{"name": 3}]})
    with pytest.raises(ValueError):
        parse_snapshot("not json")


def fix(source, error, snapshot=None, attributes=None, cells=None):
    cells = cells or [{"id": "c1", "cell_type": "code", "source": source}]
    return asyncio.run(fix_error(cells, "c1", error, snapshot, attributes))


def test_fix_name_error_of_a_conventional_name_adds_its_import():
    error = {"ename": "NameError", "evalue": "name 'np' is not defined"}
    assert fix("x = np.zeros(3)\nx", error) == "import numpy as np\nx = np.zeros(3)\nx"


def test_fix_module_not_found_uses_the_package_name():
    error = {"ename": "ModuleNotFoundError", "evalue": "No module named 'sklearn'"}
    source = "from sklearn.linear_model import Ridge"
    assert fix(source, error) == "%pip install scikit-learn\n" + source
    error = {"ename": "ModuleNotFoundError", "evalue": "No module named 'requests'"}
    assert fix("import requests", error) == "%pip install requests\nimport requests"
    # a cell magic stays on the first line
    assert fix("%%time\nimport requests", error).startswith("%%time\n%pip install requests")


def test_fix_key_error_to_the_nearest_column():
    error = {"ename": "KeyError", "evalue": "'revnue'"}
    source = 'total = df["revnue"].sum()\nprint("revnue")'
    assert fix(source, error, FRAME) == 'total = df["revenue"].sum()\nprint("revnue")'
    assert fix(source, {"ename": "KeyError", "evalue": "'zzzz'"}, FRAME) is None


def test_fix_attribute_error_from_the_kernels_attributes():
    async def attributes(prefix):
        assert prefix == "df."
        return ["groupby", "group_keys", "head", "merge"]

    error = {"ename": "AttributeError", "evalue": "'DataFrame' object has no attribute 'groupyb'"}
    source = "df.groupyb('region')  # groupyb"
    assert fix(source, error, FRAME, attributes) == "df.groupby('region')  # groupyb"


def test_fix_name_error_near_miss_and_did_you_mean():
    cells = [
        {"id": "c0", "cell_type": "code", "source": "revenue_total = 3"},
        {"id": "c1", "cell_type": "code", "source": "print(revenue_totl)"},
    ]
    error = {"ename": "NameError", "evalue": "name 'revenue_totl' is not defined"}
    assert fix(None, error, cells=cells) == "print(revenue_total)"
    error = {
        "ename": "NameError",
        "evalue": "name 'lenght' is not defined",
        "traceback": [
            "\x1b[31mNameError\x1b[0m: name 'lenght' is not defined. Did you mean: 'length'?"
        ],
    }
    assert fix("lenght + 1", error) == "length + 1"
    assert fix("x + 1", {"ename": "NameError", "evalue": "name 'x' is not defined"}) is None
    assert fix("1/0", {"ename": "ZeroDivisionError", "evalue": "division by zero"}) is None
