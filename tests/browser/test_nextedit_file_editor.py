"""Next edit in JupyterLab's file editor, as in a notebook's cell: a rename typed at a name's first
place is suggested at its next place, lines below, with the same "Tab ⇥" badge a notebook's cell
shows (issue 18: the file editor showed the suggestion but not the badge); Tab jumps there, Tab
again accepts, and the badge goes with the suggestion."""

import pytest
import test_nextedit
from browser_support import screenshot, wait_connected
from test_nextedit import WAIT

pytestmark = pytest.mark.browser

# The server of test_nextedit.py (no model: the deterministic predictors), one for this module.
lab = test_nextedit.lab

# The next place is far below: out of view until Tab goes there, where the badge says it will.
SCRIPT = (
    "def report(frame):\n"
    + "".join(f"    print('line {k}')\n" for k in range(60))
    + "    return frame.describe()\n"
)
RENAMED = SCRIPT.replace("frame", "table")

EDITOR_JS = "[...window.jupyterapp.shell.widgets('main')].find(w => w.content?.editor).content"


def badge(page) -> dict:
    """The file editor's marker: its class, its text, and how its ::after is drawn."""
    return page.evaluate(
        """() => {
          const node = document.querySelector('.jp-FileEditor');
          const after = getComputedStyle(node, '::after');
          return {
            marked: node.classList.contains('jp-mod-cursorNextEdit-target'),
            content: after.content,
            position: after.position,
            display: after.display,
            visibility: after.visibility,
          };
        }"""
    )


def cursor(page) -> int:
    return page.evaluate(f"() => {EDITOR_JS}.editor.editor.state.selection.main.head")


def test_the_file_editor_shows_the_tab_badge_and_tab_jumps_then_accepts(lab, page):
    (lab.root / "report.py").write_text(SCRIPT)
    page.goto(lab.lab_url("lab/tree/report.py") + "&reset")
    page.locator(".jp-FileEditor .cm-content").wait_for(timeout=60_000)
    wait_connected(page)
    assert badge(page)["marked"] is False
    # Select `frame` in `def report(frame):` and type the new name over it.
    page.locator(".jp-FileEditor .cm-line").first.click()
    page.keyboard.press("Control+Home")
    for _ in range(len("def report(")):
        page.keyboard.press("ArrowRight")
    for _ in range(len("frame")):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.type("table", delay=40)
    # The badge, as a notebook's cell shows it: the marker class, "Tab ⇥" drawn after the editor.
    page.wait_for_function(
        "() => document.querySelector('.jp-FileEditor')"
        ".classList.contains('jp-mod-cursorNextEdit-target')",
        timeout=WAIT,
    )
    shown = badge(page)
    assert shown["content"] == '"Tab ⇥"'
    assert shown["position"] == "absolute"
    assert shown["display"] != "none" and shown["visibility"] == "visible"
    # Only the badge: the editor keeps its place in the panel (no `position: relative` on it).
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('.jp-FileEditor')).position")
        == "absolute"
    )
    screenshot(page, "nextedit_file_editor_badge")
    # Tab jumps to the suggestion (the cursor on the struck `frame` of the last line) ...
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"offset => {EDITOR_JS}.editor.editor.state.selection.main.head === offset",
        arg=SCRIPT.rindex("frame"),
        timeout=WAIT,
    )
    assert page.evaluate(f"() => {EDITOR_JS}.model.sharedModel.getSource()") == SCRIPT.replace(
        "frame", "table", 1
    )
    assert badge(page)["marked"] is True
    # ... and into view: the struck name and the new one on the last line.
    suggestion = page.locator(".jp-FileEditor .jp-CursorNextEdit-insert", has_text="table")
    suggestion.wait_for(timeout=WAIT)
    assert page.locator(".jp-FileEditor .jp-CursorNextEdit-delete").inner_text() == "frame"
    assert suggestion.is_visible()
    screenshot(page, "nextedit_file_editor_jumped")
    # ... and Tab again accepts it: the rename is complete and the badge is gone with it.
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"expected => {EDITOR_JS}.model.sharedModel.getSource() === expected",
        arg=RENAMED,
        timeout=WAIT,
    )
    assert cursor(page) == RENAMED.rindex("table") + len("table")
    page.wait_for_function(
        "() => !document.querySelector('.jp-FileEditor')"
        ".classList.contains('jp-mod-cursorNextEdit-target')",
        timeout=WAIT,
    )
    assert badge(page)["content"] in ("none", "normal")
    assert page.locator(".jp-CursorNextEdit-insert, .jp-CursorNextEdit-delete").count() == 0
    screenshot(page, "nextedit_file_editor_accepted")
    assert page.console.errors == []
