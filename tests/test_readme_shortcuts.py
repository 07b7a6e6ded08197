"""The README's keyboard shortcuts are the ones the labextension's settings define."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_keys(keys: list[str]) -> str:
    """A schema binding as the README writes it: `Accel Alt F` is `Ctrl+Alt+F`."""
    return "+".join("Ctrl" if k == "Accel" else k for k in keys[0].split())


def test_the_readme_lists_each_shortcut_of_the_settings_and_no_other_of_ours():
    schema = json.loads((ROOT / "labextension/schema/plugin.json").read_text())
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Keyboard shortcuts", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    listed = {re.findall(r"`([^`]+)`", row.split("|")[1])[0] for row in table}
    ours = {readme_keys(s["keys"]) for s in schema["jupyter.lab.shortcuts"]}
    jupyterlab = {"Alt+\\", "Z", "Enter"}  # JupyterLab's own, and the chat box's
    assert ours <= listed
    assert listed - ours <= jupyterlab
    assert "Settings Editor → Keyboard Shortcuts" in section.replace("\n", " ")
    # the prose names them the same way (JupyterLab's `Accel` is no key a user can find)
    assert "Accel Alt" not in readme
    for keys in ours - {"Tab", "Escape"}:
        assert readme.count(f"`{keys}`") >= 2, keys  # in the table and where the feature is
