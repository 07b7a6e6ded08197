"""'Fix with AI' on a failed cell (issue 20, item 3), in a real JupyterLab with ipykernel and the
fake OpenAI server as the chat model: the button on the error output asks the model with the
traceback and the kernel's variables, its answer goes into the diff review, and nothing is written
or run until the user accepts (and nothing runs after)."""

import json

import pytest
from browser_support import screenshot
from fake_llm_server import FakeLLMServer
from lab_server import start_lab_server
from test_kernel import run_cell
from test_nextedit import NOTEBOOK_JS, WAIT, cell, make_notebook, open_notebook, sources

pytestmark = pytest.mark.browser
pytest.importorskip("pandas")

FAILING = (
    "import pandas as pd\n"
    "sales = pd.DataFrame({'revenue': [1.0, 2.5], 'region': ['n', 's']})\n"
    "total = sales['revenu'].sum()"
)
FIXED = (
    "import pandas as pd\n"
    "sales = pd.DataFrame({'revenue': [1.0, 2.5], 'region': ['n', 's']})\n"
    "total = sales['revenue'].sum()"
)


@pytest.fixture(scope="module")
def fix_lab(tmp_path_factory):
    with FakeLLMServer() as llm:
        server = start_lab_server(
            tmp_path_factory.mktemp("fix_with_ai"),
            extra=("--LabApp.expose_app_in_browser=True",),
            config={
                "CursorApp": {
                    "index_embeddings": False,
                    "engine_model": "",
                    "providers": [llm.provider()],
                }
            },
        )
        try:
            yield server, llm
        finally:
            server.stop()


def test_fix_with_ai_asks_with_the_traceback_and_reviews_the_answer(fix_lab, page):
    server, llm = fix_lab
    path = make_notebook(
        server, "fix_ai", [("load", "code", FAILING), ("b", "code", ""), ("c", "markdown", "notes")]
    )
    open_notebook(page, server, path)
    run_cell(page, 0, 1)
    cell(page, 0).locator(".jp-OutputArea-output", has_text="KeyError").wait_for(timeout=WAIT)
    button = cell(page, 0).locator(".jp-cursor-FixWithAI")
    button.wait_for(timeout=WAIT)
    button.scroll_into_view_if_needed()
    assert button.inner_text() == "Fix with AI"
    assert button.evaluate("b => b.scrollWidth <= b.clientWidth && b.clientWidth > 40")  # unclipped
    screenshot(page, "fix_with_ai_button")

    llm.script({"text": f"The column is `revenue`.\n\n```python\n# cell: load\n{FIXED}\n```\n"})
    asked = len(llm.requests)
    button.click()
    review = page.locator(".jp-CursorReview-card")
    review.first.wait_for(timeout=60_000)
    screenshot(page, "fix_with_ai_review")

    # The model was asked about this cell's error, with the kernel's variables.
    prompt = json.dumps(llm.requests[asked]["json"]["messages"])
    assert "KeyError" in prompt and "revenu" in prompt
    assert "<kernel_variables>" in prompt and "sales" in prompt
    # Reviewed, not written: the cell reads as before until the user accepts.
    assert sources(page)[0] == FAILING
    page.locator(".jp-CursorReview-header button", has_text="Accept all").click()
    page.wait_for_function(
        f"want => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource() === want",
        arg=FIXED,
        timeout=WAIT,
    )
    # Nothing ran: the error output stays until the user executes the cell again.
    assert cell(page, 0).locator(".jp-OutputArea-output", has_text="KeyError").count() == 1
    run_cell(page, 0, 2)
    assert cell(page, 0).locator(".jp-OutputArea-output", has_text="KeyError").count() == 0
    assert page.console.errors == []
