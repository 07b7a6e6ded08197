"""A real `jupyter lab` (or `jupyter notebook`) process on loopback, for CLI and browser tests."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PYTHON_KERNEL = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
}


def notebook_cell(cell_id: str, source: str, kind: str = "code") -> dict:
    """An nbformat 4.5 cell of ``kind`` (code, markdown) with its id."""
    cell = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    env: dict
    process: subprocess.Popen
    log: Path
    args: list

    def api(self, path: str, method: str = "GET", body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.url + path.lstrip("/"),
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def put_notebook(self, path: str, cells: list, metadata: dict | None = None) -> str:
        """Save a notebook at ``path`` through the contents API; ``cells`` are nbformat cell dicts
        or sources (code cells ``c0``, ``c1``, …); a Python kernel unless ``metadata`` is given."""
        cells = [
            notebook_cell(f"c{i}", cell) if isinstance(cell, str) else cell
            for i, cell in enumerate(cells)
        ]
        content = {
            "cells": cells,
            "metadata": PYTHON_KERNEL if metadata is None else metadata,
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        self.api(
            f"api/contents/{path}", method="PUT", body={"type": "notebook", "content": content}
        )
        return path

    def lab_url(self, path: str = "lab") -> str:
        return f"{self.url}{path}?token={self.token}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def start(self) -> None:
        self.process = _spawn(self.args, self.env, self.log)
        _wait_ready(self)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(args, env, log):
    return subprocess.Popen(args, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def _wait_ready(server: LabServer, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited:\n{server.log.read_text()[-3000:]}")
        try:
            server.api("api/status")
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"jupyter lab did not start:\n{server.log.read_text()[-3000:]}")


def start_lab_server(
    tmp: Path, app: str = "lab", extra: tuple = (), config: dict | None = None
) -> LabServer:
    """Start `jupyter <app>` on loopback with a token, in a temporary root and Jupyter dirs;
    `config` goes to jupyter_server_config.json there (e.g. {"CursorApp": {...}})."""
    root = tmp / "root"
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "HOME": str(tmp / "home"),
    }
    (tmp / "home").mkdir(exist_ok=True)
    # No "fetch Jupyter news?" toast over the page (it covers buttons the tests click).
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp / "settings")
    if config:
        (tmp / "config").mkdir(exist_ok=True)
        (tmp / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    args = [
        str(Path(sys.executable).parent / "jupyter"),
        app,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_unauthenticated_access=False",
        "--allow-root",
        *extra,
    ]
    server = LabServer(
        url=f"http://127.0.0.1:{port}/",
        token=token,
        root=root,
        env=env,
        process=None,
        log=tmp / f"{app}.log",
        args=args,
    )
    server.start()
    return server
