"""The live kernel in a real JupyterLab (issue 20), with ipykernel: a DataFrame defined and
executed, then typing `sales["rev` shows its column as ghost text; a cell that uses `np` without
importing it fails, and the import is offered in that cell and accepted with Tab; the user's
namespace is the same before and after."""

import pytest
from browser_support import screenshot
from lab_server import start_lab_server
from test_nextedit import NOTEBOOK_JS, WAIT, cell, make_notebook, open_notebook, sources

pytestmark = pytest.mark.browser
pytest.importorskip("pandas")

FRAME = "import pandas as pd\nsales = pd.DataFrame({'revenue': [1.0, 2.5], 'region': ['n', 's']})"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = start_lab_server(
        tmp_path_factory.mktemp("kernel"),
        extra=("--LabApp.expose_app_in_browser=True",),
        config={"CursorApp": {"index_embeddings": False, "engine_model": ""}},
    )
    yield server
    server.stop()


def run_cell(page, index: int, count: int) -> None:
    """Execute cell ``index`` (Shift+Enter) and wait for its execution count."""
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.parent.sessionContext.session?.kernel?.status === 'idle'",
        timeout=60_000,
    )
    # JupyterLab may still ask which kernel (a slow kernel start): the notebook's own, Python 3.
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if dialog.count():
        dialog.locator("button", has_text="Select").click()
    cell(page, index).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    try:
        cell(page, index).locator(".jp-InputPrompt", has_text=f"[{count}]").wait_for(timeout=60_000)
    except Exception:
        screenshot(page, "kernel_run_failed")
        raise


def user_names(page) -> list[str]:
    """The kernel's user namespace, asked silently through the page's own kernel connection."""
    return page.evaluate(
        f"""async () => {{
          const kernel = {NOTEBOOK_JS}.parent.sessionContext.session.kernel;
          const reply = await kernel.requestExecute({{code: '', silent: true, store_history: false,
            user_expressions: {{n: 'sorted(get_ipython().user_ns)'}}}}).done;
          return reply.content.user_expressions.n.data['text/plain'];
        }}"""
    )


def test_a_dataframe_column_is_ghost_text_and_the_namespace_is_untouched(lab, page):
    path = make_notebook(
        lab, "frame", [("a", "code", FRAME), ("b", "code", ""), ("c", "markdown", "notes")]
    )
    open_notebook(page, lab, path)
    run_cell(page, 0, 1)
    before = user_names(page)
    cell(page, 1).locator(".cm-content").click()
    page.keyboard.type('total = sales["rev', delay=80)
    page.wait_for_function(
        "() => document.querySelector('.jp-GhostText')?.innerText === 'enue\"]'", timeout=WAIT
    )
    screenshot(page, "kernel_column_ghost_text")
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(1).sharedModel.getSource() === "
        "'total = sales[\"revenue\"]'",
        timeout=WAIT,
    )
    assert user_names(page) == before
    assert page.console.errors == []


def test_a_name_error_offers_the_import_in_the_failed_cell_tab_accepts(lab, page):
    path = make_notebook(
        lab,
        "fails",
        [("a", "code", "x = np.log(2.0)"), ("b", "code", ""), ("c", "markdown", "notes")],
    )
    open_notebook(page, lab, path)
    run_cell(page, 0, 1)
    cell(page, 0).locator(".jp-OutputArea-output", has_text="NameError").wait_for(timeout=WAIT)
    cell(page, 0).locator(".jp-CursorNextEdit-insert", has_text="import numpy as np").wait_for(
        timeout=WAIT
    )
    assert sources(page)[0] == "x = np.log(2.0)"  # offered, not written, nothing run
    screenshot(page, "kernel_fix_offered")
    cell(page, 1).locator(".cm-content").click()
    page.keyboard.press("Tab")  # to the failed cell
    page.wait_for_function(f"() => {NOTEBOOK_JS}.activeCellIndex === 0", timeout=WAIT)
    page.keyboard.press("Tab")  # accept
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource() === "
        "'import numpy as np\\nx = np.log(2.0)'",
        timeout=WAIT,
    )
    # Nothing ran: the cell still shows its error until the user executes it again.
    assert cell(page, 0).locator(".jp-OutputArea-output", has_text="NameError").count() == 1
    run_cell(page, 0, 2)
    assert cell(page, 0).locator(".jp-OutputArea-output", has_text="NameError").count() == 0
    # No chat model is configured: no "Fix with AI" button.
    assert page.locator(".jp-cursor-FixWithAI").count() == 0
    assert page.console.errors == []
