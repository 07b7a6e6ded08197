"""A next-edit suggestion dismissed with Escape stays away after Ctrl+Z (issue 18): a rename in
progress (`data` → `frame`), its next places dismissed, then undone, must not come back on the
undone text, where accepting it leaves a NameError (`frame = …` under `def clean(data)`).

Reproduced in Chromium before the fix: when the name was typed with a pause (Yjs's undo steps end
at half a second, the client's edit events at a second), Ctrl+Z took back only part of it
(`def clean(fr):`), the client kept the whole rename as an event, and the next keystroke brought
back the dismissed `frame = frame.dropna()` / `return frame` under `def clean(fr)`."""

import pytest
import test_nextedit
from browser_support import screenshot
from test_nextedit import NOTEBOOK_JS, WAIT, Frames, cell, make_notebook, open_notebook

pytestmark = pytest.mark.browser

# The server of test_nextedit.py (no model: the deterministic predictors), one for this module.
lab = test_nextedit.lab

CLEAN = "def clean(data):\n    data = data.dropna()\n    return data"


def source(page, index: int = 0) -> str:
    return page.evaluate(f"() => {NOTEBOOK_JS}.model.cells.get({index}).sharedModel.getSource()")


def wait_source(page, expected: str, index: int = 0) -> None:
    page.wait_for_function(
        f"expected => {NOTEBOOK_JS}.model.cells.get({index}).sharedModel.getSource() === expected",
        arg=expected,
        timeout=WAIT,
    )


def shown(page) -> int:
    return page.locator(".jp-CursorNextEdit-insert, .jp-CursorNextEdit-delete").count()


def open_cells(page, server, name: str, cells) -> None:
    # open_notebook waits for a third cell.
    open_notebook(page, server, make_notebook(server, name, [*cells, ("n", "markdown", "notes")]))


def select(page, index: int, line: int, column: int, length: int) -> None:
    """Select `length` characters from `column` of `line` in cell `index`, by the keyboard."""
    cell(page, index).locator(".cm-line").nth(line).click()
    page.keyboard.press("Home")
    page.keyboard.press("Home")  # past the indentation too
    for _ in range(column):
        page.keyboard.press("ArrowRight")
    for _ in range(length):
        page.keyboard.press("Shift+ArrowRight")


def rename_parameter(page, pause: int = 0) -> None:
    """Type `frame` over `data` in `def clean(data):`; `pause` ms after `fr`, as a person may."""
    select(page, 0, 0, len("def clean("), len("data"))
    page.keyboard.type("fr", delay=40)
    page.wait_for_timeout(pause)
    page.keyboard.type("ame", delay=40)
    # The rename's next places: both `data` of line 2 and the one of line 3.
    page.locator(".jp-CursorNextEdit-insert", has_text="frame").first.wait_for(timeout=WAIT)
    assert cell(page, 0).locator(".jp-CursorNextEdit-delete").all_inner_texts() == ["data"] * 3


def dismiss(page) -> None:
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => !document.querySelector('.jp-CursorNextEdit-insert, .jp-mod-cursorNextEdit')",
        timeout=WAIT,
    )


def go_on_typing(page, frames, text: str = "  # cleaned") -> dict:
    """Type at the end of the cursor's line (above the dismissed places); the server's reply."""
    page.wait_for_timeout(1200)  # an edit event of its own
    sent = len(frames.nextedit_requests())
    page.keyboard.press("End")
    page.keyboard.type(text, delay=30)
    reply = frames.wait_last_reply(page, after=sent)
    page.wait_for_timeout(500)  # a suggestion drawn from the reply would be there by now
    return reply


def test_escape_then_undo_the_rename_nothing_comes_back(lab, page):
    """The brief's case: the name typed at once, one undo takes all of it back."""
    frames = Frames(page)
    open_cells(page, lab, "undo whole", [("a", "code", CLEAN), ("b", "code", "clean(df)")])
    rename_parameter(page)
    dismiss(page)
    sent = len(frames.nextedit_requests())
    page.keyboard.press("Control+z")
    wait_source(page, CLEAN)
    page.wait_for_timeout(1000)
    assert len(frames.nextedit_requests()) == sent  # an undo asks nothing
    assert shown(page) == 0
    # Typing on: the undone rename is no event of the next request, and nothing is proposed.
    reply = go_on_typing(page, frames)
    events = frames.nextedit_requests()[-1]["events"]
    assert not any("frame" in event["after"] for event in events)
    assert reply["result"]["edits"] == []
    assert shown(page) == 0
    assert source(page) == CLEAN.replace("(data):", "(data):  # cleaned")
    screenshot(page, "nextedit_undo_dismissed_whole")
    assert page.console.errors == []


def test_a_partial_undo_does_not_bring_the_dismissed_rename_back(lab, page):
    """Reproduced before the fix: `fr`, a pause, `ame`; Escape; Ctrl+Z leaves `fr`; typing on
    brought back the dismissed `frame` places under `def clean(fr)` (a NameError once accepted)."""
    frames = Frames(page)
    open_cells(page, lab, "undo partial", [("a", "code", CLEAN), ("b", "code", "clean(df)")])
    rename_parameter(page, pause=700)
    dismiss(page)
    sent = len(frames.nextedit_requests())
    page.keyboard.press("Control+z")
    partly = CLEAN.replace("(data):", "(fr):")
    wait_source(page, partly)
    page.wait_for_timeout(1000)
    assert len(frames.nextedit_requests()) == sent
    assert shown(page) == 0
    reply = go_on_typing(page, frames)
    # The rename the undo took back is not sent as an edit of the user's, nor proposed again.
    events = frames.nextedit_requests()[-1]["events"]
    assert not any("frame" in event["after"] for event in events)
    assert not any("frame" in edit["source"] for edit in reply["result"]["edits"])
    assert shown(page) == 0
    assert page.locator(".jp-mod-cursorNextEdit-target").count() == 0
    assert source(page) == partly.replace("(fr):", "(fr):  # cleaned")
    screenshot(page, "nextedit_undo_dismissed_partial")
    # The second undo takes the rest back: the user's text as it was, still nothing proposed.
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    wait_source(page, CLEAN)
    page.wait_for_timeout(800)
    assert shown(page) == 0
    assert page.console.errors == []


USE = "print(df.head())\nprint('loaded')"


def test_a_dismissed_change_stays_dismissed_when_its_cell_changed_elsewhere(lab, page):
    """`df` → `sales` in cell a, its next place in cell b dismissed; the user then edits cell b's
    other line and goes on in cell a: the server proposes cell b's `print(sales.head())` again
    (an earlier event repeated), on a cell b that is no longer the text it was dismissed in. The
    same change of the same line is the dismissed one: not shown."""
    frames = Frames(page)
    open_cells(page, lab, "dismissed elsewhere", [("a", "code", "df = load()"), ("b", "code", USE)])
    select(page, 0, 0, 0, len("df"))
    page.keyboard.type("sales", delay=40)
    cell(page, 1).locator(".jp-CursorNextEdit-insert", has_text="sales").wait_for(timeout=WAIT)
    dismiss(page)
    page.wait_for_timeout(1200)
    # Cell b's second line: `'loaded'` → `'ready'`.
    select(page, 1, 1, len("print('"), len("loaded"))
    page.keyboard.type("ready", delay=30)
    page.wait_for_timeout(1200)
    # Back in cell a, typing on.
    cell(page, 0).locator(".cm-line").first.click()
    reply = go_on_typing(page, frames)
    assert source(page, 1) == "print(df.head())\nprint('ready')"
    # The server proposes it again (repeat-earlier): the page does not show it.
    assert {"cell_id": "b", "source": "print(sales.head())\nprint('ready')"} in reply["result"][
        "edits"
    ]
    assert cell(page, 1).locator(".jp-CursorNextEdit-insert").count() == 0
    assert page.locator(".jp-CursorNextEdit-jumpHint").count() == 0
    assert source(page, 0) == "sales = load()  # cleaned"
    screenshot(page, "nextedit_undo_dismissed_elsewhere")
    assert page.console.errors == []
