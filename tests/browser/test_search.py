"""'Search workspace…' in a real JupyterLab: palette, query, open the hit at its cell."""

import pytest
from browser_support import open_lab, screenshot
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

CELLS = [
    "import numpy as np",
    "# Load the data\nrows = [1, 2, 3]",
    "def seasonal_decomposition(series, period):\n    return series[::period]",
    "print('done')",
]


def test_search_box_opens_the_hit_at_its_cell(page, lab_server):
    # saved through the contents API, as JupyterLab saves: that is what keeps the index fresh
    lab_server.put_notebook("analysis.ipynb", CELLS, metadata={})
    open_lab(page, lab_server)
    page.locator(".jp-CursorStatus").wait_for()

    # JupyterLab may open the Launcher once its layout is restored, which closes the palette: wait
    # for the restore, and open the palette again should it close before the click.
    page.evaluate("() => window.jupyterapp.restored")
    item = page.locator(".lm-CommandPalette-item", has_text="Search workspace…").first
    for _ in range(3):
        page.evaluate(
            "() => window.jupyterapp.commands.execute('apputils:activate-command-palette')"
        )
        page.locator(".lm-CommandPalette-input").fill("Search workspace")
        try:
            item.click(timeout=5000)
            break
        except PlaywrightTimeout:
            continue
    else:
        raise AssertionError("the command palette closed before 'Search workspace…' was clicked")
    box = page.locator(".jp-CursorSearch-input")
    box.wait_for()
    assert box.evaluate("el => el === document.activeElement")

    box.fill("seasonal decomposition")
    hit = page.locator(".jp-CursorSearch-hit").first
    hit.wait_for(timeout=30_000)
    assert "analysis.ipynb · cell 3" in hit.inner_text()
    # why it matched: the identifier whose parts are the query's words, highlighted whole
    marks = hit.locator("mark.jp-CursorSearch-match")
    assert marks.all_inner_texts() == ["seasonal_decomposition"]
    # wide enough to read a line of code (JupyterLab's sidebar default is 250 px)
    assert page.locator(".jp-CursorSearch").bounding_box()["width"] >= 400
    screenshot(page, "search_results")
    hit.click()

    active = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-mod-active")
    active.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('.jp-Cell.jp-mod-active')?.textContent"
        ".includes('seasonal_decomposition')",
        timeout=30_000,
    )
    assert page.console.errors == []


def test_the_sidebar_tab_focuses_the_box_and_empty_results_say_so(page, lab_server):
    open_lab(page, lab_server)
    page.locator(".jp-CursorStatus").wait_for()
    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='jupyter-cursor-search']").click()
    box = page.locator(".jp-CursorSearch-input")
    page.wait_for_function(
        "() => document.activeElement?.classList.contains('jp-CursorSearch-input')"
    )
    page.keyboard.type("zzqxv nonexistent token")
    assert box.input_value() == "zzqxv nonexistent token"
    # Words only: embedding search always has nearest neighbours, however far.
    page.locator(".jp-CursorSearch-mode").select_option("bm25")
    page.get_by_text("No results").wait_for(timeout=30_000)
    assert page.console.errors == []
