"""Apply from chat and Refactor, reviewed cell by cell in a real JupyterLab."""

import pytest

from browser_support import open_lab, screenshot
from fake_llm_server import FakeLLMServer
from lab_server import start_lab_server

pytestmark = pytest.mark.browser

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
SOURCES = {"load": "df = load()", "use": "print(df.head())", "scratch": "1 + 1"}


@pytest.fixture
def lab(tmp_path):
    with FakeLLMServer() as llm:
        server = start_lab_server(
            tmp_path, extra=("--LabApp.expose_app_in_browser=True",),
            config={"CursorApp": {"index_embeddings": False, "providers": [
                {"name": "fake", "kind": "openai", "model": "m", "base_url": llm.openai_url}]}},
        )
        cells = [{"cell_type": "code", "id": cid, "metadata": {}, "outputs": [],
                  "execution_count": None, "source": src} for cid, src in SOURCES.items()]
        server.api("api/contents/nb.ipynb", method="PUT", body={"type": "notebook", "content": {
            "cells": cells, "metadata": KERNEL, "nbformat": 4, "nbformat_minor": 5}})
        try:
            yield server, llm
        finally:
            server.stop()



def notebook_sources(page):
    return page.evaluate(
        """() => {
          const panels = [...window.jupyterapp.shell.widgets('main')].filter(w => w.content?.model?.cells);
          return [...panels[0].content.model.cells].map(c => c.sharedModel.getSource());
        }"""
    )


def test_chat_apply_review_accept_and_undo(lab, page):
    server, llm = lab
    llm.script({"text": "Like this:\n\n```python\n# cell: load\nsales = load()\n```\n"})
    open_lab(page, server, "lab/tree/nb.ipynb")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
    page.locator(".jp-CursorChat-input").fill("rename df in the first cell")
    page.locator(".jp-CursorChat-input").press("Enter")
    page.locator(".jp-CursorChat-apply").click(timeout=30_000)

    card = page.locator(".jp-CursorReview-card").first
    card.wait_for(timeout=30_000)
    assert "Change cell 1" in card.inner_text()
    screenshot(page, "review_before_accept")
    assert notebook_sources(page)[0] == "df = load()"  # nothing changes before acceptance
    card.locator(".jp-CursorReview-actions .jp-mod-accept").click()
    page.wait_for_function(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.model.cells.get(0).sharedModel.getSource() === 'sales = load()'"
    )
    assert notebook_sources(page)[1:] == ["print(df.head())", "1 + 1"]
    screenshot(page, "review_accepted")

    # one undo step restores the cell
    page.locator(".jp-Notebook .jp-Cell").first.locator(".cm-content").click()
    page.keyboard.press("Control+z")
    page.wait_for_function(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.model.cells.get(0).sharedModel.getSource() === 'df = load()'"
    )
    assert page.console.errors == []


def test_refactor_command_reviews_many_cells(lab, page):
    server, llm = lab
    llm.script({"text": "```python\n# cell: load\nsales = load()\n```\n\n```python\n# cell: use\n"
                        "print(sales.head())\n```\n\n```python\n# cell: delete scratch\n```\n"})
    open_lab(page, server, "lab/tree/nb.ipynb")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:refactor-notebook',"
                  " {instruction: 'rename df to sales'})")
    page.locator(".jp-CursorReview-card").nth(2).wait_for(timeout=30_000)
    summary = page.locator(".jp-CursorReview-summary").inner_text()
    assert summary.startswith("2 changed, 0 inserted, 1 deleted")
    screenshot(page, "refactor_review")
    page.locator(".jp-CursorReview-header button", has_text="Accept all").click()
    page.wait_for_function(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.model.cells.length === 2"
    )
    assert notebook_sources(page) == ["sales = load()", "print(sales.head())"]
    assert "all reviewed" in page.locator(".jp-CursorReview-summary").inner_text()
    assert page.console.errors == []


def test_a_cell_edited_during_review_is_not_overwritten(lab, page):
    server, llm = lab
    llm.script({"text": "```python\n# cell: load\nsales = load()\n```\n"})
    open_lab(page, server, "lab/tree/nb.ipynb")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:refactor-notebook',"
                  " {instruction: 'rename'})")
    card = page.locator(".jp-CursorReview-card").first
    card.wait_for(timeout=30_000)
    page.evaluate(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.model.cells.get(0).sharedModel.setSource('df = load()  # mine')"
    )
    card.locator(".jp-CursorReview-actions .jp-mod-accept").click()
    assert "edited during the review" in card.inner_text()
    assert notebook_sources(page)[0] == "df = load()  # mine"
