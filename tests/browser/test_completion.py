"""Inline completion from the embedded default, in a real JupyterLab with no model: typing a line
that an earlier cell began shows the rest of it as ghost text (JupyterLab's inline completer);
Tab accepts it, Escape dismisses it, typing what it shows keeps the rest."""

import json

import pytest
from browser_support import screenshot
from lab_server import notebook_cell, start_lab_server
from test_nextedit import NOTEBOOK_JS, WAIT, Frames, cell

pytestmark = pytest.mark.browser

EARLIER = "import pandas as pd\nsales = pd.read_csv('sales_2024.csv', index_col=0)"
TYPED = "sales = pd.re"
REST = "ad_csv('sales_2024.csv', index_col=0)"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = start_lab_server(
        tmp_path_factory.mktemp("completion"),
        extra=("--LabApp.expose_app_in_browser=True",),
        config={"CursorApp": {"index_embeddings": False, "engine_model": ""}},
    )
    yield server
    server.stop()


def open_and_type(lab, page, path: str, typed: str = TYPED) -> Frames:
    """A notebook of the earlier cell and an empty one; `typed` typed into the empty one."""
    lab.put_notebook(path, [notebook_cell("a", EARLIER), notebook_cell("b", "")])
    frames = Frames(page)
    page.goto(lab.lab_url(f"lab/tree/{path}") + "&reset")
    cell(page, 1).wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('.jp-CursorStatus')?.dataset.state === 'ready'", timeout=WAIT
    )
    cell(page, 1).locator(".cm-content").click()
    page.keyboard.type(typed, delay=60)
    return frames


def ghost(rest: str) -> str:
    return f"() => document.querySelector('.jp-GhostText')?.innerText === {rest!r}"


def source_of_b(page) -> str:
    return page.evaluate(f"() => {NOTEBOOK_JS}.model.cells.get(1).sharedModel.getSource()")


def test_the_rest_of_a_line_an_earlier_cell_began_is_ghost_text_tab_accepts(lab, page):
    frames = open_and_type(lab, page, "complete.ipynb")
    page.wait_for_function(ghost(REST), timeout=WAIT)
    screenshot(page, "completion_ghost_text")
    assert source_of_b(page) == TYPED  # shown, not written
    result = [
        m["result"]
        for d, m in frames.log
        if d == "in" and m.get("type") == "result" and m.get("result", {}).get("edits")
    ][-1]
    assert result["predictor"] == "complete"
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(1).sharedModel.getSource() === {TYPED + REST!r}",
        timeout=WAIT,
    )
    page.wait_for_function("() => !document.querySelector('.jp-GhostText')", timeout=WAIT)
    screenshot(page, "completion_accepted")
    assert page.console.errors == []


def test_escape_dismisses_the_ghost_text_and_nothing_is_written(lab, page):
    open_and_type(lab, page, "dismiss.ipynb")
    page.wait_for_function(ghost(REST), timeout=WAIT)
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('.jp-GhostText')", timeout=WAIT)
    page.wait_for_timeout(500)
    assert source_of_b(page) == TYPED
    assert page.console.errors == []


def test_typing_what_the_ghost_text_shows_keeps_the_rest(lab, page):
    open_and_type(lab, page, "through.ipynb")
    page.wait_for_function(ghost(REST), timeout=WAIT)
    page.keyboard.type("ad_", delay=60)
    page.wait_for_function(ghost(REST[len("ad_") :]), timeout=WAIT)
    screenshot(page, "completion_typed_through")
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(1).sharedModel.getSource() === {TYPED + REST!r}",
        timeout=WAIT,
    )
    assert page.console.errors == []


def test_ghost_text_waits_for_the_characters_the_settings_ask(tmp_path, page):
    """Settings → Cursor → "Completion: characters typed first": with 15, the 11 characters of
    `sales = pd.re` (spaces aside) show nothing, though the server completes them."""
    settings = tmp_path / "settings" / "jupyter-cursor"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(
        json.dumps({"nextEdit": {"completionMinChars": 15}})
    )
    server = start_lab_server(
        tmp_path,
        extra=("--LabApp.expose_app_in_browser=True",),
        config={"CursorApp": {"index_embeddings": False, "engine_model": ""}},
    )
    try:
        frames = open_and_type(server, page, "eager.ipynb")
        answered = lambda: any(  # noqa: E731
            d == "in" and m.get("result", {}).get("predictor") == "complete" for d, m in frames.log
        )
        deadline = 100
        while not answered() and deadline:
            page.wait_for_timeout(100)
            deadline -= 1
        assert answered(), "the server did not complete"
        page.wait_for_timeout(300)
        assert page.locator(".jp-GhostText").count() == 0
        page.keyboard.type("ad_c", delay=60)  # 15 characters now
        page.wait_for_function(ghost("sv('sales_2024.csv', index_col=0)"), timeout=WAIT)
    finally:
        server.stop()


def test_the_settings_name_the_manual_shortcut_as_typed(lab, page):
    """Settings → Cursor → Trigger names `Alt+\\` (one backslash, not the schema's escaping)."""
    page.goto(lab.lab_url("lab") + "&reset")
    page.wait_for_function("() => window.jupyterapp?.serviceManager", timeout=WAIT)
    description = page.evaluate(
        """async () => {
          const plugin = await window.jupyterapp.serviceManager.settings.fetch('jupyter-cursor:plugin');
          return plugin.schema.properties.nextEdit.properties.trigger.description;
        }"""
    )
    assert "Alt+\\ " in description and "Alt+\\\\" not in description
