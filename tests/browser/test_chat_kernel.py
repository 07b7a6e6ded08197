"""The live kernel's variables in the chat (issue 20), in a real JupyterLab with ipykernel and the
fake OpenAI server: after a cell defines a DataFrame, "Kernel variables" is listed in the context
of a question and the model gets the frame's columns; removed, the next question is sent without
them."""

import json

import pytest
from browser_support import screenshot
from fake_llm_server import FakeLLMServer
from lab_server import start_lab_server
from test_kernel import FRAME, run_cell
from test_nextedit import WAIT, make_notebook, open_notebook

pytestmark = pytest.mark.browser
pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def kernel_chat_lab(tmp_path_factory):
    with FakeLLMServer() as llm:
        server = start_lab_server(
            tmp_path_factory.mktemp("chat_kernel"),
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


def ask(page, question: str, count: int) -> str:
    """Send ``question`` as the ``count``-th of the chat, wait for its answer; its context list."""
    box = page.locator(".jp-CursorChat-input")
    box.fill(question)
    box.press("Enter")
    page.locator(".jp-CursorChat-sent").nth(count - 1).wait_for(state="attached", timeout=WAIT)
    page.wait_for_function(
        "() => !document.querySelector('.jp-CursorChat.jp-mod-busy')", timeout=WAIT
    )
    return page.locator(".jp-CursorChat-sent").nth(count - 1).text_content()


def test_the_chat_lists_and_sends_the_kernel_variables_until_removed(kernel_chat_lab, page):
    server, llm = kernel_chat_lab
    path = make_notebook(
        server, "chat_frame", [("a", "code", FRAME), ("b", "code", ""), ("c", "markdown", "notes")]
    )
    open_notebook(page, server, path)
    run_cell(page, 0, 1)
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")

    # The first question may find the kernel not yet watched: it is not waited for.
    for count in range(1, 6):
        listed = ask(page, "plot revenue by region", count)
        if "Kernel variables" in listed:
            break
    assert "variables: Kernel variables" in listed
    prompt = json.dumps(llm.requests[-1]["json"]["messages"])
    assert "<kernel_variables>" in prompt and "columns: revenue float64, region" in prompt

    context = page.locator(".jp-CursorChat-sent").last
    context.locator("summary").click()
    remove = context.locator("li[data-kind=variables] .jp-CursorChat-remove")
    assert remove.inner_text() == "Remove"
    remove.click()
    assert remove.inner_text() == "Restore"
    screenshot(page, "chat_kernel_variables_removed")

    listed = ask(page, "and by month?", count + 1)
    assert "left out (removed by you): variables: Kernel variables" in listed
    assert "<kernel_variables>" not in json.dumps(llm.requests[-1]["json"]["messages"])
    assert page.console.errors == []
