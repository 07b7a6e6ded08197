"""The server under load: next-edit throughput and latency with 20 clients, and how long `/status`
waits while they run and while a 3,000-cell refactor is merged and checked.

    .venv/bin/python benchmarks/bench_reliability.py [--clients 20] [--seconds 30]
        [--baseline-tree DIR] [--json OUT.json]

A real `jupyter server` with the extension (token auth, BM25-only index, a chat provider on
tests/fake_llm_server.py) is started on 127.0.0.1; the clients run in this process, on the same
cores. `--baseline-tree DIR` runs the same scenarios against a second server whose jupyter_cursor
comes from DIR (e.g. `git archive` of an earlier commit), in the same run, for a before/after.
Scenarios, in order, each on an otherwise idle server:

- idle: `/status` polled every 50 ms for 5 s (the baseline);
- nextedit: N websocket clients, each sending next-edit requests one after another (a rename to
  carry through a 20-cell notebook) for S seconds, while `/status` is polled;
- refactor: one client asks for a refactor of 3,000 code cells that each read a name defined nowhere
  (the provider answers at once; the merge and the checks are the work), while `/status` is polled.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tornado.httpclient
import tornado.websocket
from machine import machine

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
    }


class Server:
    """A jupyter server with the extension, from this checkout or from ``tree``."""

    def __init__(self, workdir: Path, llm_url: str, tree: Path | None):
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.root = workdir / "root"
        self.root.mkdir(parents=True)
        (self.root / "analysis.py").write_text(
            "import pandas as pd\n\ndef load(path):\n    return pd.read_csv(path)\n"
        )
        config = workdir / "config.json"
        config.write_text(
            json.dumps(
                {
                    "ServerApp": {
                        "jpserver_extensions": {"jupyter_cursor": True},
                        "token": self.token,
                        "root_dir": str(self.root),
                        "port": self.port,
                        "ip": "127.0.0.1",
                        "open_browser": False,
                    },
                    "CursorApp": {
                        "index_embeddings": False,
                        "engine_model": "",
                        "chat_db_path": str(workdir / "chat.sqlite3"),
                        "index_dir": str(workdir / "index"),
                        "providers": [
                            {"name": "fake", "kind": "openai", "model": "m", "base_url": llm_url}
                        ],
                    },
                }
            )
        )
        env = dict(
            os.environ,
            JUPYTER_DATA_DIR=str(workdir / "data"),
            JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
        )
        if tree is not None:
            env["PYTHONPATH"] = str(tree)
        self.log = open(workdir / "server.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={config}", "--allow-root"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
        self.http = tornado.httpclient.AsyncHTTPClient()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def status_ms(self) -> float:
        started = time.perf_counter()
        await self.http.fetch(
            f"{self.base}/jupyter-cursor/status",
            headers={"Authorization": f"token {self.token}"},
            request_timeout=60,
        )
        return (time.perf_counter() - started) * 1000

    async def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({self.process.returncode}); see {self.log.name}"
                )
            try:
                await self.status_ms()
                return
            except (OSError, tornado.httpclient.HTTPClientError):
                await asyncio.sleep(0.2)
        raise RuntimeError("the server did not start")

    async def socket(self):
        request = tornado.httpclient.HTTPRequest(
            f"ws://127.0.0.1:{self.port}/jupyter-cursor/ws",
            headers={"Authorization": f"token {self.token}"},
        )
        ws = await tornado.websocket.websocket_connect(request, max_message_size=64 * 2**20)
        await ws.read_message()  # the status greeting
        return ws

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


async def poll_status(server: Server, stop: asyncio.Event, every: float = 0.05) -> list[float]:
    times = []
    while not stop.is_set():
        times.append(await server.status_ms())
        try:
            await asyncio.wait_for(stop.wait(), every)
        except asyncio.TimeoutError:
            pass
    return times


async def request(ws, message: dict) -> dict:
    ws.write_message(json.dumps(message))
    while True:
        raw = await ws.read_message()
        if raw is None:
            raise RuntimeError("the server closed the connection")
        reply = json.loads(raw)
        if reply.get("id") == message["id"] and reply["type"] != "partial":
            return reply


def nextedit_request(client: int, n: int) -> dict:
    cells = [
        {
            "id": f"c{i}",
            "cell_type": "code",
            "source": f"result_{i} = frame.groupby('key').mean()\nprint(frame.shape, result_{i})",
        }
        for i in range(20)
    ]
    cells[0] = {"id": "c0", "cell_type": "code", "source": "data = load('sales.csv')"}
    return {
        "type": "nextedit",
        "id": f"n{client}-{n}",
        "path": "bench.ipynb",
        "cells": cells,
        "cursor": {"cell_id": "c0", "offset": 4},
        "language": "python",
        "events": [
            {"cell_id": "c0", "before": "frame = load('sales.csv')", "after": cells[0]["source"]}
        ],
    }


async def nextedit_load(server: Server, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    shown = 0
    deadline = time.perf_counter() + seconds

    async def client(number: int) -> None:
        nonlocal shown
        ws = await server.socket()
        n = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            reply = await request(ws, nextedit_request(number, n))
            latencies.append((time.perf_counter() - started) * 1000)
            if reply["type"] == "error":
                errors[reply["error"]["code"]] = errors.get(reply["error"]["code"], 0) + 1
            elif reply["result"]["edits"]:
                shown += 1
            n += 1
        ws.close()

    stop = asyncio.Event()
    poller = asyncio.create_task(poll_status(server, stop))
    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    stop.set()
    status = await poller
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "replies": len(latencies),
        "replies_per_s": round(len(latencies) / elapsed, 1),
        "with_edits": shown,
        "errors": errors,
        "latency_ms": summary(latencies),
        "status_ms": summary(status),
    }


async def refactor_load(server: Server, cells: int = 3000) -> dict:
    notebook = [
        {"id": f"c{i}", "cell_type": "code", "source": f"v{i} = undefined_{i} + 1\nprint(v{i})"}
        for i in range(cells)
    ]
    ws = await server.socket()
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_status(server, stop))
    started = time.perf_counter()
    reply = await request(
        ws,
        {
            "type": "refactor",
            "id": "r",
            "path": "big.ipynb",
            "cells": notebook,
            "instruction": "use defined_nowhere in the first cell",
        },
    )
    elapsed = time.perf_counter() - started
    stop.set()
    status = await poller
    ws.close()
    ok = reply["type"] == "result"
    return {
        "cells": cells,
        "refactor_s": round(elapsed, 2),
        "ok": ok,
        "warnings": len(reply["result"]["warnings"]) if ok else reply.get("error"),
        "status_ms": summary(status),
    }


async def scenarios(server: Server, llm_script, clients: int, seconds: float) -> dict:
    await server.wait_ready()
    for _ in range(20):  # warm up: imports, the first index scan
        await server.status_ms()
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_status(server, stop))
    await asyncio.sleep(5)
    stop.set()
    idle = summary(await poller)
    load = await nextedit_load(server, clients, seconds)
    llm_script({"text": "```python\n# cell: c0\nv0 = defined_nowhere + 2\nprint(v0)\n```"})
    refactor = await refactor_load(server)
    return {"status_idle_ms": idle, "nextedit": load, "refactor": refactor}


def llm_process(workdir: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "fake_llm_server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=workdir,
    )
    line = process.stdout.readline()
    if not line.startswith("READY"):
        raise RuntimeError(f"the fake LLM server did not start: {line!r}")
    return process, f"http://127.0.0.1:{int(line.split()[1])}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--baseline-tree", type=Path, help="a tree with an earlier jupyter_cursor/")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-reliability-"))
    llm, llm_url = llm_process(workdir)

    def script(reply: dict) -> None:
        import urllib.request

        urllib.request.urlopen(
            urllib.request.Request(
                f"{llm_url}/_script", data=json.dumps([reply]).encode(), method="POST"
            ),
            timeout=10,
        ).read()

    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
    }
    trees = [("this checkout", None)] + (
        [("baseline " + str(args.baseline_tree), args.baseline_tree)] if args.baseline_tree else []
    )
    try:
        for name, tree in trees:
            server = Server(workdir / f"server-{len(results)}", f"{llm_url}/v1", tree)
            try:
                results[name] = asyncio.run(scenarios(server, script, args.clients, args.seconds))
            finally:
                server.stop()
    finally:
        llm.terminate()
        llm.wait(10)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
