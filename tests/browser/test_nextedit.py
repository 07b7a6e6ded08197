"""Next-edit suggestions in a real JupyterLab: a rename typed in one cell is suggested at its
next place (the server's deterministic predictors, no model: the same edit repeated after the
cursor, else in a code cell below), shown as an inline diff; Tab jumps and accepts, and the place
after that is suggested next; Escape dismisses, undo restores; the websocket frames show what the
client sends."""

import json
import re

import pytest
from browser_support import screenshot, wait_connected
from lab_server import notebook_cell, start_lab_server

pytestmark = pytest.mark.browser

CELLS = [
    ("load", "code", "df = load()\ndf.describe()"),
    ("use", "code", "print(df.head(), len(df))"),  # two places: two hunks
    ("notes", "markdown", "about df"),
]
# No model: the deterministic predictors answer, and nothing heavy loads on a small machine.
CONFIG = {"CursorApp": {"index_embeddings": False, "engine_model": ""}}
SETTINGS = "lab/api/settings/jupyter-cursor:plugin"
WAIT = 30_000


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = start_lab_server(
        tmp_path_factory.mktemp("nextedit"),
        extra=("--LabApp.expose_app_in_browser=True",),
        config=CONFIG,
    )
    yield server
    server.stop()


class Frames:
    """The messages of the page's jupyter_cursor websocket(s), both ways, decoded."""

    def __init__(self, page):
        self.log: list[tuple[str, dict]] = []  # ("out" | "in", message), in arrival order
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws):
        if "jupyter-cursor/ws" in ws.url:
            ws.on("framesent", lambda payload: self.log.append(("out", json.loads(payload))))
            ws.on("framereceived", lambda payload: self.log.append(("in", json.loads(payload))))

    def nextedit_requests(self) -> list[dict]:
        return [m for d, m in self.log if d == "out" and m.get("type") == "nextedit"]

    def wait_last_reply(self, page, after: int = 0) -> dict:
        """The reply to the last next-edit request, once more than ``after`` were sent and the
        last has its reply."""
        for _ in range(WAIT // 100):
            requests = self.nextedit_requests()
            if len(requests) > after:
                last = requests[-1]["id"]
                for direction, message in self.log:
                    if (
                        direction == "in"
                        and message.get("id") == last
                        and message.get("type") != "partial"
                    ):
                        return message
            page.wait_for_timeout(100)
        raise AssertionError("no reply to the last next-edit request")

    def most_in_flight(self) -> int:
        """The most next-edit requests ever in flight at once: a request ends with its reply
        or with the client's cancel."""
        live, most = set(), 0
        for direction, message in self.log:
            kind = message.get("type")
            if direction == "out" and kind == "nextedit":
                live.add(message["id"])
            elif direction == "out" and kind == "cancel":
                live.discard(message["target"])
            elif direction == "in" and kind in ("result", "error", "cancelled"):
                live.discard(message.get("id"))
            most = max(most, len(live))
        return most


def make_notebook(server, name: str, cell_specs=CELLS) -> str:
    """A notebook of (id, kind, source) cells on the server; its path."""
    path = re.sub(r"\W+", "_", name) + ".ipynb"
    cells = [notebook_cell(cid, source, kind) for cid, kind, source in cell_specs]
    return server.put_notebook(path, cells)


def open_notebook(page, server, path: str) -> None:
    # A fresh workspace: the module's server would otherwise reopen the earlier tests' notebooks.
    page.goto(server.lab_url(f"lab/tree/{path}") + "&reset")
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    page.locator(".jp-Notebook .jp-Cell").nth(len(CELLS) - 1).wait_for(timeout=60_000)
    wait_connected(page)


NOTEBOOK_JS = (
    "[...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells).content"
)


def cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def sources(page) -> list[str]:
    return page.evaluate(
        """() => {
          const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells);
          return [...panel.content.model.cells].map(c => c.sharedModel.getSource());
        }"""
    )


def wait_sources(page, expected: list[str]) -> None:
    page.wait_for_function(
        """expected => {
          const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells);
          const now = [...panel.content.model.cells].map(c => c.sharedModel.getSource());
          return JSON.stringify(now) === JSON.stringify(expected);
        }""",
        arg=expected,
        timeout=WAIT,
    )


def cursor_of(page) -> dict:
    """The active cell's index and the cursor offset in it."""
    return page.evaluate(
        """() => {
          const nb = [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells).content;
          const view = nb.activeCell.editor.editor;
          return {cell: nb.activeCellIndex, offset: view.state.selection.main.head,
                  focused: view.hasFocus};
        }"""
    )


def type_rename(page, name: str = "sales") -> None:
    """In the first cell, replace the first `df` by `name`, as a user does: select, type."""
    cell(page, 0).locator(".cm-line").first.click()
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")
    page.keyboard.press("Home")  # collapse to the line start whatever the click did
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.type(name, delay=40)


# Places of `df` after the first one of the first cell, per cell: one hunk each.
PLACES = {0: 1, 1: 2}


def wait_suggestion_in(page, index: int, deleted: str, inserted: str) -> None:
    """Wait until cell `index` shows `deleted` struck and `inserted` as ghost text at each place."""
    target = cell(page, index)
    target.locator(".jp-CursorNextEdit-insert", has_text=inserted).first.wait_for(timeout=WAIT)
    places = PLACES[index]
    assert target.locator(".jp-CursorNextEdit-delete").all_inner_texts() == [deleted] * places
    assert target.locator(".jp-CursorNextEdit-insert").all_inner_texts() == [inserted] * places


def test_typing_a_rename_shows_it_at_the_next_place(lab, page):
    frames = Frames(page)
    open_notebook(page, lab, make_notebook(lab, "shows"))
    type_rename(page)

    wait_suggestion_in(page, 0, "df", "sales")  # the other `df` of the cell being edited
    screenshot(page, "nextedit_suggested")
    # A marker on the cell that has the suggestion, and on its line; none on the others.
    assert "jp-mod-cursorNextEdit-target" in cell(page, 0).get_attribute("class")
    assert cell(page, 0).get_attribute("data-cursor-next-edit") == "Tab ⇥"
    assert cell(page, 0).locator(".jp-CursorNextEdit-line").count() == 1
    for index in (1, 2):
        assert "jp-mod-cursorNextEdit-target" not in cell(page, index).get_attribute("class")
        assert cell(page, index).locator(".jp-CursorNextEdit-insert").count() == 0
    # Only the user's typing changed the notebook: suggestions are not edits.
    assert sources(page) == [
        "sales = load()\ndf.describe()",
        "print(df.head(), len(df))",
        "about df",
    ]

    requests = frames.nextedit_requests()
    assert requests, "no next-edit request was sent"
    last = requests[-1]
    assert last["path"].endswith("shows.ipynb")
    assert last["language"] == "python"  # the kernel's, from the notebook's metadata
    assert last["cursor"] == {"cell_id": "load", "offset": len("sales")}
    assert [c["id"] for c in last["cells"]] == ["load", "use", "notes"]
    assert last["events"][-1] == {
        "cell_id": "load",
        "before": "df = load()\ndf.describe()",
        "after": "sales = load()\ndf.describe()",
    }
    assert frames.most_in_flight() <= 1
    assert page.console.errors == []


def test_tab_jumps_then_accepts_here_and_in_another_cell_and_undo_restores(lab, page):
    open_notebook(page, lab, make_notebook(lab, "accept"))
    type_rename(page)
    wait_suggestion_in(page, 0, "df", "sales")

    # Tab: the cursor jumps to the suggestion of this cell (line 2), nothing changes yet.
    page.keyboard.press("Tab")
    page.wait_for_function(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.activeCell.editor.editor.state.selection.main.head === 'sales = load()\\n'.length",
        timeout=WAIT,
    )
    assert sources(page)[0] == "sales = load()\ndf.describe()"
    screenshot(page, "nextedit_jumped")
    # Tab again accepts it.
    page.keyboard.press("Tab")
    wait_sources(
        page, ["sales = load()\nsales.describe()", "print(df.head(), len(df))", "about df"]
    )
    assert cell(page, 0).locator(".jp-CursorNextEdit-delete").count() == 0
    # The next place is in the other cell (both uses on its line, one hunk each): shown there,
    # Tab goes there, Tab accepts it.
    wait_suggestion_in(page, 1, "df", "sales")
    screenshot(page, "nextedit_suggested_in_other_cell")
    page.keyboard.press("Tab")
    page.wait_for_function(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.activeCellIndex === 1",
        timeout=WAIT,
    )
    assert cursor_of(page) == {"cell": 1, "offset": len("print("), "focused": True}
    screenshot(page, "nextedit_jumped_to_other_cell")
    page.keyboard.press("Tab")
    wait_sources(
        page, ["sales = load()\nsales.describe()", "print(sales.head(), len(sales))", "about df"]
    )
    screenshot(page, "nextedit_accepted")
    # Nothing left to suggest: the marker class is gone, so Tab is Tab again.
    page.wait_for_function("() => !document.querySelector('.jp-mod-cursorNextEdit')", timeout=WAIT)
    assert page.locator(".jp-mod-cursorNextEdit-target").count() == 0

    # One undo restores the accepted edit of this cell, and only it; no reverse suggestion.
    page.keyboard.press("Control+z")
    wait_sources(
        page, ["sales = load()\nsales.describe()", "print(df.head(), len(df))", "about df"]
    )
    page.wait_for_timeout(500)  # a wrong "rename back" suggestion would have time to appear
    assert page.locator(".jp-CursorNextEdit-insert").count() == 0
    screenshot(page, "nextedit_undone")
    assert page.console.errors == []


def test_escape_dismisses_every_suggestion(lab, page):
    open_notebook(page, lab, make_notebook(lab, "dismiss"))
    type_rename(page)
    wait_suggestion_in(page, 0, "df", "sales")
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-CursorNextEdit-insert, .jp-CursorNextEdit-delete,"
        " .jp-mod-cursorNextEdit-target').length === 0",
        timeout=WAIT,
    )
    # Only the suggestions went: the text is the user's, and the editor still has the focus.
    assert sources(page) == [
        "sales = load()\ndf.describe()",
        "print(df.head(), len(df))",
        "about df",
    ]
    assert cursor_of(page) == {"cell": 0, "offset": len("sales"), "focused": True}
    screenshot(page, "nextedit_dismissed")
    # With nothing shown, Escape is JupyterLab's again: command mode.
    page.keyboard.press("Escape")
    page.wait_for_selector(".jp-Notebook.jp-mod-commandMode", timeout=WAIT)


# `df` loaded in one cell and used in the next: a rename's next place is in another cell.
LOAD_AND_PRINT = [
    ("a", "code", "df = load()"),
    ("b", "code", "print(df.head())"),
    ("notes", "markdown", "about df"),
]


def test_a_dismissed_suggestion_is_not_shown_again(lab, page):
    """Escape means no: when a later request proposes the same change to the same unchanged cell
    (the rename's earlier event, repeated), it is not shown again."""
    frames = Frames(page)
    open_notebook(
        page,
        lab,
        make_notebook(lab, "dismissed", LOAD_AND_PRINT),
    )
    type_rename(page)
    cell(page, 1).locator(".jp-CursorNextEdit-insert", has_text="sales").wait_for(timeout=WAIT)
    page.keyboard.press("Escape")
    page.wait_for_timeout(1200)  # what follows is an edit event of its own
    sent = len(frames.nextedit_requests())
    page.keyboard.press("End")
    page.keyboard.type("  # loaded", delay=20)
    reply = frames.wait_last_reply(page, after=sent)
    # The server proposed it again (repeat-earlier), and the page does not show it.
    assert {"cell_id": "b", "source": "print(sales.head())"} in reply["result"]["edits"]
    page.wait_for_timeout(300)
    assert cell(page, 1).locator(".jp-CursorNextEdit-insert").count() == 0
    assert page.locator(".jp-CursorNextEdit-jumpHint").count() == 0
    assert sources(page) == ["sales = load()  # loaded", "print(df.head())", "about df"]
    assert page.console.errors == []


def test_undo_is_no_edit_a_dismissed_suggestion_stays_away_and_no_reverse_is_proposed(lab, page):
    """Escape, then Ctrl+Z: the undo takes the rename back and nothing is proposed from it (not the
    dismissed suggestion again, not the reverse rename `sales` → `df`); Ctrl+Shift+Z (redo) is no
    edit either."""
    frames = Frames(page)
    open_notebook(
        page,
        lab,
        make_notebook(lab, "undone", LOAD_AND_PRINT),
    )
    type_rename(page)
    cell(page, 1).locator(".jp-CursorNextEdit-insert", has_text="sales").wait_for(timeout=WAIT)
    page.keyboard.press("Escape")
    page.wait_for_timeout(1200)
    sent = len(frames.nextedit_requests())
    page.keyboard.press("Control+z")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource() === 'df = load()'",
        timeout=WAIT,
    )
    page.wait_for_timeout(1000)  # a request or a suggestion that must not come would have time to
    assert len(frames.nextedit_requests()) == sent
    assert page.locator(".jp-CursorNextEdit-insert, .jp-CursorNextEdit-delete").count() == 0
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource() === 'sales = load()'",
        timeout=WAIT,
    )
    page.wait_for_timeout(1000)
    assert len(frames.nextedit_requests()) == sent
    assert page.locator(".jp-CursorNextEdit-insert").count() == 0
    screenshot(page, "nextedit_undo_is_no_edit")
    assert page.console.errors == []


def test_a_new_name_that_shares_letters_with_the_old_one_replaces_the_whole_word(lab, page):
    """`df` → `data` keeps the `d`: the suggestion still strikes `df` and shows `data`, not a struck
    `f` and an inserted `ata` inside the name."""
    open_notebook(page, lab, make_notebook(lab, "words"))
    type_rename(page, "data")
    wait_suggestion_in(page, 0, "df", "data")
    assert page.console.errors == []


def test_a_conventional_name_used_before_its_import_is_imported_in_the_imports_cell(lab, page):
    """`pd.read_csv(...)` typed with no pandas import: the import is suggested in the imports cell,
    a hint at the cursor says so and where, Tab goes there, Tab accepts, and the cursor comes back
    to the line that needed it."""
    open_notebook(
        page,
        lab,
        make_notebook(
            lab,
            "imports",
            [
                ("imports", "code", "import numpy as np"),
                ("work", "code", ""),
                ("notes", "markdown", "about sales"),
            ],
        ),
    )
    typed = 'df = pd.read_csv("sales.csv")'
    cell(page, 1).locator(".cm-content").click()
    page.keyboard.type(typed, delay=20)
    cell(page, 0).locator(".jp-CursorNextEdit-insert", has_text="import pandas as pd").wait_for(
        timeout=WAIT
    )
    hint = cell(page, 1).locator(".jp-CursorNextEdit-jumpHint")
    hint.wait_for(timeout=WAIT)
    assert hint.inner_text() == "Tab ⇥ ↑ import pandas as pd"
    assert sources(page)[0] == "import numpy as np"  # shown, not applied
    screenshot(page, "nextedit_import_suggested")
    page.keyboard.press("Tab")  # to the imports cell
    page.wait_for_function(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.activeCellIndex === 0",
        timeout=WAIT,
    )
    assert hint.count() == 0
    page.keyboard.press("Tab")  # accept, and back
    wait_sources(page, ["import numpy as np\nimport pandas as pd", typed, "about sales"])
    page.wait_for_function(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.activeCellIndex === 1",
        timeout=WAIT,
    )
    assert cursor_of(page) == {"cell": 1, "offset": len(typed), "focused": True}
    assert page.locator(".jp-CursorNextEdit-jumpHint, .jp-CursorNextEdit-insert").count() == 0
    assert page.console.errors == []


def test_typing_that_disagrees_drops_the_suggestion(lab, page):
    frames = Frames(page)
    open_notebook(page, lab, make_notebook(lab, "disagree"))
    type_rename(page, "sa")
    wait_suggestion_in(page, 0, "df", "sa")
    sent = len(frames.nextedit_requests())
    # Typing on disagrees with "rename df to sa": it goes, and the suggestion for the new name
    # replaces it.
    page.keyboard.type("les")
    wait_suggestion_in(page, 0, "df", "sales")
    assert len(frames.nextedit_requests()) > sent
    assert frames.most_in_flight() <= 1
    assert page.console.errors == []


def test_typing_that_agrees_keeps_the_suggestion_without_a_new_request(lab, page):
    """`violin` → `violinplot` is suggested at the next `violin` as ghost text only; typing it
    there consumes the ghost text letter by letter, with no request."""
    frames = Frames(page)
    path = make_notebook(lab, "agree", [("plot", "code", "sns.violin(a)\nsns.violin(b)")])
    page.goto(lab.lab_url(f"lab/tree/{path}") + "&reset")
    cell(page, 0).wait_for(timeout=60_000)
    wait_connected(page)
    cell(page, 0).locator(".cm-line").first.click()
    page.keyboard.press("Home")
    for _ in range(len("sns.violin")):
        page.keyboard.press("ArrowRight")
    page.keyboard.type("plot", delay=40)
    ghost = cell(page, 0).locator(".jp-CursorNextEdit-insert")
    ghost.filter(has_text=re.compile("^plot$")).wait_for(timeout=WAIT)
    assert cell(page, 0).locator(".jp-CursorNextEdit-delete").count() == 0  # insertion only
    page.keyboard.press("Tab")  # jump: the cursor lands where the ghost text starts
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.activeCell.editor.editor.state.selection.main.head"
        " === 'sns.violinplot(a)\\nsns.violin'.length",
        timeout=WAIT,
    )
    sent = len(frames.nextedit_requests())
    page.keyboard.type("p")
    ghost.filter(has_text=re.compile("^lot$")).wait_for(timeout=WAIT)
    screenshot(page, "nextedit_typing_agrees")
    page.keyboard.type("lot")
    wait_sources_js = (
        "() => " + NOTEBOOK_JS + ".model.cells.get(0).sharedModel.getSource()"
        " === 'sns.violinplot(a)\\nsns.violinplot(b)'"
    )
    page.wait_for_function(wait_sources_js, timeout=WAIT)
    page.wait_for_timeout(500)  # time for a request that must not come
    assert len(frames.nextedit_requests()) == sent
    assert ghost.count() == 0
    assert page.console.errors == []


def test_markdown_cell_sends_nothing(lab, page):
    frames = Frames(page)
    open_notebook(page, lab, make_notebook(lab, "markdown"))
    cell(page, 2).click()
    page.keyboard.press("Enter")  # the rendered markdown cell opens its editor
    page.wait_for_function(
        "() => document.activeElement?.closest('.jp-MarkdownCell .cm-content') != null",
        timeout=WAIT,
    )
    page.keyboard.press("Control+Home")
    for _ in range(5):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.type("notes on", delay=40)
    wait_sources(page, ["df = load()\ndf.describe()", "print(df.head(), len(df))", "notes on df"])
    # Then a code cell edit is sent: the frames are recorded, and the markdown edit is in the
    # history the server sees, but it asked for nothing.
    type_rename(page)
    wait_suggestion_in(page, 0, "df", "sales")
    requests = frames.nextedit_requests()
    assert all(r["cursor"]["cell_id"] == "load" for r in requests)


def test_setting_off_sends_nothing(lab, page):
    lab.api(SETTINGS, method="PUT", body={"raw": json.dumps({"nextEdit": {"enabled": False}})})
    try:
        frames = Frames(page)
        open_notebook(page, lab, make_notebook(lab, "off"))
        type_rename(page)
        wait_sources(
            page, ["sales = load()\ndf.describe()", "print(df.head(), len(df))", "about df"]
        )
        # Enough time for a request and an answer to come and show; none may.
        page.wait_for_timeout(1500)
        assert frames.nextedit_requests() == []
        assert page.locator(".jp-CursorNextEdit-insert").count() == 0
        screenshot(page, "nextedit_off")
    finally:
        lab.api(SETTINGS, method="PUT", body={"raw": "{}"})


def test_manual_trigger_asks_only_through_the_inline_completer_invoke(lab, page):
    lab.api(SETTINGS, method="PUT", body={"raw": json.dumps({"nextEdit": {"trigger": "manual"}})})
    try:
        frames = Frames(page)
        open_notebook(page, lab, make_notebook(lab, "manual"))
        type_rename(page)
        wait_sources(
            page, ["sales = load()\ndf.describe()", "print(df.head(), len(df))", "about df"]
        )
        page.wait_for_timeout(1000)  # time for a request that must not come
        assert frames.nextedit_requests() == []
        # Alt+\ is JupyterLab's inline-completer invoke: it reaches our provider, which asks.
        page.keyboard.press("Alt+Backslash")
        wait_suggestion_in(page, 0, "df", "sales")
        assert len(frames.nextedit_requests()) == 1
        assert page.console.errors == []
    finally:
        lab.api(SETTINGS, method="PUT", body={"raw": "{}"})


def test_a_cell_the_windowed_notebook_renders_later_shows_its_suggestion(lab, page):
    """In 'full' windowing JupyterLab creates a cell's editor only when it scrolls into view: the
    suggestion for a cell far below is drawn then, and Tab still brings the user there."""
    tracker = "lab/api/settings/@jupyterlab/notebook-extension:tracker"
    lab.api(tracker, method="PUT", body={"raw": json.dumps({"windowingMode": "full"})})
    try:
        cells = [
            (f"c{i}", "code", source)
            for i, source in enumerate(
                ["df = load()"] + [f"x{i} = {i}" for i in range(150)] + ["df.plot()"]
            )
        ]
        path = make_notebook(lab, "long", cells)
        page.goto(lab.lab_url(f"lab/tree/{path}") + "&reset")
        cell(page, 0).wait_for(timeout=60_000)
        wait_connected(page)
        last = len(cells) - 1
        page.wait_for_function(f"() => {NOTEBOOK_JS}.widgets.length === {len(cells)}", timeout=WAIT)
        unrendered = f"() => {NOTEBOOK_JS}.widgets[{last}].editor == null"
        assert page.evaluate(unrendered), "the last cell is rendered already: nothing to test"
        type_rename(page)
        page.wait_for_function(
            f"() => {NOTEBOOK_JS}.widgets[{last}].node.dataset.cursorNextEdit === 'Tab ⇥'",
            timeout=WAIT,
        )
        assert page.evaluate(unrendered), "the suggestion came when the cell had an editor"
        # The user scrolls down: the cell renders, with the suggestion drawn.
        page.evaluate(f"() => {NOTEBOOK_JS}.scrollToItem({last})")
        target = page.locator(f".jp-Notebook .jp-Cell[data-windowed-list-index='{last}']")
        target.locator(".jp-CursorNextEdit-insert", has_text="sales").wait_for(timeout=WAIT)
        assert target.locator(".jp-CursorNextEdit-delete").all_inner_texts() == ["df"]
        screenshot(page, "nextedit_windowed_cell")
        # Tab from the first cell goes there, Tab accepts.
        page.evaluate(
            f"() => {{ const nb = {NOTEBOOK_JS}; nb.activeCellIndex = 0;"
            " nb.activeCell.editor.focus(); }"
        )
        page.keyboard.press("Tab")
        page.wait_for_function(f"() => {NOTEBOOK_JS}.activeCellIndex === {last}", timeout=WAIT)
        page.keyboard.press("Tab")
        page.wait_for_function(
            f"() => {NOTEBOOK_JS}.model.cells.get({last}).sharedModel.getSource() === 'sales.plot()'",
            timeout=WAIT,
        )
        assert page.console.errors == []
    finally:
        lab.api(tracker, method="PUT", body={"raw": "{}"})


def test_suggestions_come_back_after_a_server_restart(lab, page):
    open_notebook(page, lab, make_notebook(lab, "restart"))
    lab.stop()
    page.wait_for_function(
        "() => document.querySelector('.jp-CursorStatus')?.dataset.state === 'offline'",
        timeout=WAIT,
    )
    lab.start()
    wait_connected(page, timeout=60_000)
    # JupyterLab's own "Server Connection Error" dialog, from its polls while the server was
    # down: once a poll of its own succeeds none comes any more; dismiss what came.
    page.evaluate("() => window.jupyterapp.serviceManager.sessions.refreshRunning()")
    dialogs = page.locator(".jp-Dialog")
    while dialogs.count():
        dialogs.first.locator(".jp-Dialog-button").last.click()
    type_rename(page)
    wait_suggestion_in(page, 0, "df", "sales")


def test_outcomes_are_reported_accepted_rejected_ignored(lab, page):
    frames = Frames(page)
    open_notebook(page, lab, make_notebook(lab, "outcomes"))

    def outcomes():
        return [
            (m["request_id"], m["outcome"])
            for d, m in frames.log
            if d == "out" and m.get("type") == "nextedit_outcome"
        ]

    def answered():
        """The id of the latest request whose answer had edits."""
        ids = [
            m["id"]
            for d, m in frames.log
            if d == "in" and m.get("type") == "result" and m["result"].get("edits")
        ]
        return ids[-1]

    # Typing on, away from "rename df to sa": that suggestion was ignored.
    type_rename(page, "sa")
    wait_suggestion_in(page, 0, "df", "sa")
    ignored = answered()
    page.keyboard.type("les")
    wait_suggestion_in(page, 0, "df", "sales")
    assert (ignored, "ignored") in outcomes()
    # Escape: rejected.
    rejected = answered()
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('.jp-mod-cursorNextEdit')", timeout=WAIT)
    assert (rejected, "rejected") in outcomes()
    # Tab, Tab: accepted; then the next place, Tab, Tab: accepted too.
    page.keyboard.type("_2")
    wait_suggestion_in(page, 0, "df", "sales_2")
    accepted = answered()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    wait_sources(
        page, ["sales_2 = load()\nsales_2.describe()", "print(df.head(), len(df))", "about df"]
    )
    wait_suggestion_in(page, 1, "df", "sales_2")
    accepted_next = answered()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    wait_sources(
        page,
        ["sales_2 = load()\nsales_2.describe()", "print(sales_2.head(), len(sales_2))", "about df"],
    )
    assert (accepted, "accepted") in outcomes()
    assert (accepted_next, "accepted") in outcomes()
    ids = [request_id for request_id, _ in outcomes()]
    assert len(ids) == len(set(ids))  # one outcome per suggestion
    assert page.console.errors == []


def test_a_rename_in_the_file_editor(lab, page):
    (lab.root / "script.py").write_text("df = load()\nprint(df.head())\n")
    page.goto(lab.lab_url("lab/tree/script.py") + "&reset")
    editor = page.locator(".jp-FileEditor .cm-content")
    editor.wait_for(timeout=60_000)
    wait_connected(page)
    page.locator(".jp-FileEditor .cm-line").first.click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.type("sales", delay=40)
    page.locator(".jp-FileEditor .jp-CursorNextEdit-insert", has_text="sales").wait_for(
        timeout=WAIT
    )
    assert page.locator(".jp-FileEditor .jp-CursorNextEdit-delete").inner_text() == "df"
    screenshot(page, "nextedit_file_editor")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.wait_for_function(
        """() => {
          const editor = [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.editor);
          return editor.content.model.sharedModel.getSource() === 'sales = load()\\nprint(sales.head())\\n';
        }""",
        timeout=WAIT,
    )
    assert page.locator(".jp-CursorNextEdit-insert").count() == 0
    assert page.console.errors == []


def test_an_import_in_the_file_editor_goes_to_the_import_block_and_the_cursor_comes_back(lab, page):
    (lab.root / "tool.py").write_text("import os\n\n\ndef main():\n    pass\n")
    frames = Frames(page)
    page.goto(lab.lab_url("lab/tree/tool.py") + "&reset")
    page.locator(".jp-FileEditor .cm-content").wait_for(timeout=60_000)
    wait_connected(page)
    page.locator(".jp-FileEditor .cm-line").nth(4).click()
    page.keyboard.press("End")
    page.keyboard.press("Shift+Home")
    typed = "return Path.cwd()"
    page.keyboard.type(typed, delay=20)
    page.locator(
        ".jp-FileEditor .jp-CursorNextEdit-insert", has_text="from pathlib import Path"
    ).wait_for(timeout=WAIT)
    assert frames.nextedit_requests()[-1]["language"] == "python"  # a .py file
    page.keyboard.press("Tab")  # up to the import block
    page.keyboard.press("Tab")  # accept, and back
    expected = "import os\nfrom pathlib import Path\n\n\ndef main():\n    return Path.cwd()\n"
    page.wait_for_function(
        """expected => {
          const editor = [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.editor);
          return editor.content.model.sharedModel.getSource() === expected;
        }""",
        arg=expected,
        timeout=WAIT,
    )
    page.wait_for_function(
        """offset => {
          const editor = [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.editor);
          return editor.content.editor.editor.state.selection.main.head === offset;
        }""",
        arg=expected.index(typed) + len(typed),
        timeout=WAIT,
    )
    assert page.console.errors == []


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_the_suggestion_reads_in_light_and_dark_themes(lab, page, theme):
    open_notebook(page, lab, make_notebook(lab, f"theme {theme}"))
    page.evaluate(
        "theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    try:
        page.wait_for_function(
            "theme => document.body.dataset.jpThemeName === theme", arg=theme, timeout=WAIT
        )
        type_rename(page)
        wait_suggestion_in(page, 0, "df", "sales")
        screenshot(page, f"nextedit_theme_{theme}")
        colors = page.evaluate(
            """() => {
              const style = el => getComputedStyle(el);
              const insert = document.querySelectorAll('.jp-Cell')[0].querySelector('.jp-CursorNextEdit-insert');
              const del = document.querySelectorAll('.jp-Cell')[0].querySelector('.jp-CursorNextEdit-delete');
              const editor = document.querySelectorAll('.jp-Cell')[0].querySelector('.cm-editor');
              return {insert: style(insert).color, delete: style(del).textDecorationLine,
                      code: style(editor.querySelector('.cm-line')).color,
                      background: style(editor).backgroundColor,
                      light: document.body.dataset.jpThemeLight};
            }"""
        )
        assert colors["light"] == ("true" if theme.endswith("Light") else "false")
        assert colors["delete"] == "line-through"
        # Ghost text stands apart from the code and from the background.
        assert colors["insert"] not in (colors["code"], colors["background"])
    finally:
        page.evaluate(
            "() => window.jupyterapp.commands.execute('apputils:change-theme',"
            " {theme: 'JupyterLab Light'})"
        )
        page.wait_for_function(
            "() => document.body.dataset.jpThemeName === 'JupyterLab Light'", timeout=WAIT
        )
