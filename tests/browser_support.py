"""Playwright driving Debian's Chromium (never a downloaded browser), with console capture."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@dataclass
class ConsoleLog:
    errors: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}\n{exc.stack}"))

    def from_extension(self) -> list[str]:
        """The errors whose message or stack points into this extension's bundle."""
        return [e for e in self.errors if "jupyter-cursor" in e or "jupyter_cursor" in e]

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} @ {message.location.get('url', '')}")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    page.screenshot(path=str(path))
    return path


def open_lab(page, server, path: str = "lab") -> None:
    # `reset`: a fresh workspace, so that no tab an earlier test left open is restored under this one.
    url = server.lab_url(path)
    page.goto(url + "&reset" if path.startswith("lab") else url)
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    if path.startswith("lab") and "--LabApp.expose_app_in_browser=True" in server.args:
        # Until the layout is restored, JupyterLab may still activate (and focus) what it restores.
        page.wait_for_function("() => !!window.jupyterapp", timeout=60_000)
        page.evaluate("() => window.jupyterapp.restored.then(() => true)")


def wait_connected(page, timeout: float = 30_000) -> None:
    """The extension's websocket is up once the status item has heard from the server."""
    page.wait_for_function(
        "() => (document.querySelector('.jp-CursorStatus')?.dataset.state ?? 'offline')"
        " !== 'offline'",
        timeout=timeout,
    )
