"""The chat panel in a real JupyterLab, against a local server that speaks OpenAI's protocol."""

import json

import pytest
from browser_support import open_lab, screenshot
from fake_llm_server import FakeLLMServer
from lab_server import start_lab_server

pytestmark = pytest.mark.browser

# Without a kernelspec JupyterLab asks for a kernel in a dialog that takes the focus.


@pytest.fixture
def chat_lab(tmp_path):
    with FakeLLMServer() as llm:
        server = start_lab_server(
            tmp_path,
            extra=("--LabApp.expose_app_in_browser=True",),
            config={"CursorApp": {"index_embeddings": False, "providers": [llm.provider()]}},
        )
        try:
            yield server, llm
        finally:
            server.stop()


def test_ask_watch_the_stream_and_see_the_context(chat_lab, page):
    server, llm = chat_lab
    server.put_notebook("nb.ipynb", ["df = load()"])
    llm.script(
        {
            "chunks": [
                "Rename it ",
                "like this:\n\n```python\n# cell: c0\n",
                "sales = load()\n```\n",
                "\nThen install it:\n\n```bash\npip install sales\n```\n",
            ],
            "delay": 0.3,
        }
    )
    open_lab(page, server, "lab/tree/nb.ipynb")
    # the user is in the cell: clicked into it (on a cold start JupyterLab may not have marked
    # any cell active yet when the chat opens, and the question then carries no current cell)
    page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
    page.locator(".jp-Notebook .jp-Cell.jp-mod-active").first.wait_for()
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
    box = page.locator(".jp-CursorChat-input")
    page.wait_for_function(
        "() => document.activeElement?.classList.contains('jp-CursorChat-input')"
    )
    box.fill("rename df to sales")
    box.press("Enter")

    answer = page.locator(".jp-CursorChat-message.jp-mod-assistant").last
    page.locator(".jp-CursorChat-message.jp-mod-streaming").wait_for(timeout=15_000)
    screenshot(page, "chat_streaming")
    page.locator(".jp-CursorChat-apply").wait_for(timeout=30_000)
    assert "sales = load()" in answer.inner_text()
    # the shell command is there to copy: Apply is offered on the cell code only
    assert answer.locator(".jp-CursorChat-apply").count() == 1
    assert "pip install sales" in answer.inner_text()
    assert "Context sent" in page.locator(".jp-CursorChat-sent").last.inner_text()
    # nothing was selected: the list names the cell the user is in, by number, not a "selection"
    sent_items = page.locator(".jp-CursorChat-sent").last.text_content()
    assert "the current cell (cell 1)" in sent_items and "selection in" not in sent_items

    # the model got the notebook with its cell ids
    sent = json.dumps(llm.requests[-1]["json"]["messages"])
    assert "c0" in sent and "df = load()" in sent
    assert page.console.errors == []


def test_stop_cancels_the_stream(chat_lab, page):
    server, llm = chat_lab
    server.put_notebook("s.ipynb", [])
    llm.script({"chunks": ["one ", "two ", "three ", "four ", "five"], "delay": 1.0})
    open_lab(page, server, "lab/tree/s.ipynb")
    page.locator(".jp-Notebook").wait_for()
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
    page.locator(".jp-CursorChat-input").fill("count slowly")
    page.locator(".jp-CursorChat-send").click()
    page.get_by_text("one", exact=False).last.wait_for(timeout=15_000)
    page.locator(".jp-CursorChat-send").click()  # now labelled Stop
    page.get_by_text("(stopped)").wait_for(timeout=15_000)
    assert "five" not in page.locator(".jp-CursorChat-message.jp-mod-assistant").last.inner_text()
    assert page.locator(".jp-CursorChat-send").inner_text() == "Send"


def test_without_a_chat_model_the_panel_says_how_to_configure_one(lab_server, page):
    """The notice stays when the notebook's history loads (which clears the log), and there is no
    box to type a question that nothing can answer."""
    lab_server.put_notebook("unconfigured.ipynb", [])
    open_lab(page, lab_server, "lab/tree/unconfigured.ipynb")
    page.locator(".jp-Notebook").first.wait_for()
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
    setup = page.locator(".jp-CursorChat-setup")
    setup.wait_for(timeout=15_000)
    page.wait_for_timeout(1500)  # the history load that follows the connection
    assert "c.CursorApp.providers" in setup.inner_text()
    assert setup.is_visible()
    assert page.locator(".jp-CursorChat-input").is_disabled()
    assert page.locator(".jp-CursorChat-send").is_disabled()
    assert page.console.errors == []


def test_providers_given_as_json_on_the_command_line_work_and_a_bad_value_says_so(tmp_path, page):
    """`jupyter lab --CursorApp.providers='[...]'`: JSON on the command line configures the chat;
    a value that is not JSON is an error in the status item and in the chat panel."""
    with FakeLLMServer() as llm:
        good = start_lab_server(
            tmp_path / "good",
            extra=(
                "--LabApp.expose_app_in_browser=True",
                f"--CursorApp.providers={json.dumps([llm.provider()])}",
                "--CursorApp.index_embeddings=False",
            ),
        )
        try:
            good.put_notebook("nb.ipynb", ["x = 1"])
            open_lab(page, good, "lab/tree/nb.ipynb")
            page.locator(".jp-Notebook").first.wait_for()
            page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-CursorChat option')]"
                ".some(o => o.value === 'fake')",
                timeout=15_000,
            )
            assert not page.locator(".jp-CursorChat-input").is_disabled()
        finally:
            good.stop()
    bad = start_lab_server(
        tmp_path / "bad",
        extra=("--LabApp.expose_app_in_browser=True", "--CursorApp.providers=[{name: gpt}]"),
    )
    try:
        bad.put_notebook("nb.ipynb", ["x = 1"])
        open_lab(page, bad, "lab/tree/nb.ipynb")
        page.locator(".jp-Notebook").first.wait_for()
        page.wait_for_function(
            "() => document.querySelector('.jp-CursorStatus')?.dataset.state === 'error'",
            timeout=30_000,
        )
        assert "not valid JSON" in page.locator(".jp-CursorStatus").get_attribute("title")
        page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
        setup = page.locator(".jp-CursorChat-setup")
        page.wait_for_function(
            "() => document.querySelector('.jp-CursorChat-setup')?.innerText.includes('not valid JSON')",
            timeout=15_000,
        )
        assert "--CursorApp.providers is not valid JSON" in setup.inner_text()
        screenshot(page, "chat_configuration_error")
    finally:
        bad.stop()


def test_code_blocks_name_their_cell_fit_the_panel_and_copy(chat_lab, page):
    server, llm = chat_lab
    server.put_notebook("blocks.ipynb", ["df = load()", "print(df)"])
    wide = "x = " + " + ".join(f"value_{i}" for i in range(60))
    llm.script(
        {
            "text": "Change the second cell:\n\n```python\n# cell: c1\nprint(df.head())\n```\n\n"
            f"And a long one:\n\n```python\n{wide}\n```\n"
        }
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_lab(page, server, "lab/tree/blocks.ipynb")
    page.locator(".jp-Notebook .jp-Cell").nth(1).wait_for()
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
    page.locator(".jp-CursorChat-input").fill("show the head")
    page.locator(".jp-CursorChat-input").press("Enter")
    answer = page.locator(".jp-CursorChat-message.jp-mod-assistant").last
    answer.locator(".jp-CursorChat-copy").nth(1).wait_for(timeout=30_000)
    text = answer.inner_text()
    assert "Cell 2:" in text and "# cell:" not in text  # the header is a caption by number
    # the wide block stays inside the panel (wrapped or scrolled), never pushing it wider
    widths = page.evaluate(
        """() => {
          const panel = document.querySelector('.jp-CursorChat');
          const pre = [...document.querySelectorAll('.jp-CursorChat-message pre')].pop();
          return [panel.scrollWidth, panel.clientWidth,
                  pre.getBoundingClientRect().right, panel.getBoundingClientRect().right];
        }"""
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
    # Copy gives the code without the header line; Apply still gets it (it names the cell)
    answer.locator(".jp-CursorChat-copy").first.click()
    page.wait_for_function(
        "() => document.querySelector('.jp-CursorChat-copy')?.textContent === 'Copied'"
    )
    assert page.evaluate("() => navigator.clipboard.readText()") == "print(df.head())"
    answer.locator(".jp-CursorChat-apply").first.click()
    card = page.locator(".jp-CursorReview-card").first
    card.wait_for(timeout=30_000)
    assert "Change cell 2" in card.inner_text()
    screenshot(page, "chat_blocks_captions_copy")
    assert page.console.errors == []


def test_an_error_after_a_long_conversation_is_scrolled_into_view(chat_lab, page):
    server, llm = chat_lab
    server.put_notebook("long.ipynb", ["df = load()"])
    long_answer = "\n\n".join(f"Paragraph {i}: the data frame is loaded here." for i in range(40))
    llm.script(
        {"text": long_answer},
        {"status": 404, "code": "model_not_found", "message": "The model `fake` does not exist."},
    )
    open_lab(page, server, "lab/tree/long.ipynb")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
    box = page.locator(".jp-CursorChat-input")
    box.fill("explain the notebook at length")
    box.press("Enter")
    page.get_by_text("Paragraph 39").wait_for(timeout=30_000)
    page.wait_for_function("() => !document.querySelector('.jp-CursorChat.jp-mod-busy')")
    box.fill("and again")
    box.press("Enter")
    error = page.locator(".jp-CursorChat-message.jp-mod-error")
    error.wait_for(timeout=30_000)
    page.wait_for_function("() => !document.querySelector('.jp-CursorChat.jp-mod-busy')")
    screenshot(page, "chat_error_in_view")
    boxes = page.evaluate(
        """() => {
          const log = document.querySelector('.jp-CursorChat-log').getBoundingClientRect();
          const error = document.querySelector('.jp-CursorChat-message.jp-mod-error')
            .getBoundingClientRect();
          return {log: [log.top, log.bottom], error: [error.top, error.bottom]};
        }"""
    )
    # the whole error is inside the log's visible part
    assert boxes["log"][0] <= boxes["error"][0] and boxes["error"][1] <= boxes["log"][1] + 1, boxes
    assert "does not exist" in error.inner_text()


def test_at_offers_the_cells_by_number_and_the_chosen_cell_is_sent(chat_lab, page):
    """`@` in the question box lists the notebook's cells as JupyterLab numbers them, with their
    first line; the one chosen is written `@cell:2`, and the model gets that cell (by its id)."""
    server, llm = chat_lab
    server.put_notebook(
        "at.ipynb",
        ["import pandas as pd", "\ndf = pd.read_csv('sales.csv')\ndf.head()", "df.describe()"],
    )
    llm.script({"text": "It reads the sales file."})
    open_lab(page, server, "lab/tree/at.ipynb")
    page.locator(".jp-Notebook .jp-Cell").nth(2).wait_for()
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
    box = page.locator(".jp-CursorChat-input")
    placeholder = box.get_attribute("placeholder")
    assert "@cell:<id>" not in placeholder and "@" in placeholder

    box.click()
    box.press_sequentially("What does @")
    popup = page.locator(".jp-CursorChat-mentions")
    popup.wait_for()
    options = popup.locator(".jp-CursorChat-mention")
    assert options.all_inner_texts() == [
        "Cell 1: import pandas as pd",
        "Cell 2: df = pd.read_csv('sales.csv')",
        "Cell 3: df.describe()",
    ]
    screenshot(page, "chat_at_cells")
    box.press_sequentially("read")  # narrows to the cells whose first line has it
    assert options.all_inner_texts() == ["Cell 2: df = pd.read_csv('sales.csv')"]
    box.press("Enter")  # chooses, does not send
    assert popup.is_hidden()
    assert box.input_value() == "What does @cell:2 "
    box.press_sequentially("do, next to @")
    options.nth(2).click()  # the mouse chooses too
    assert box.input_value() == "What does @cell:2 do, next to @cell:3 "
    box.press_sequentially("?")
    box.press("Escape")  # nothing open: Escape is not taken by the popup
    box.press("Enter")

    page.get_by_text("It reads the sales file.").wait_for(timeout=30_000)
    sent_items = page.locator(".jp-CursorChat-sent").last.text_content()
    assert "cell: cell 2" in sent_items and "cell: cell 3" in sent_items
    request = llm.requests[-1]["json"]["messages"][-1]["content"]
    assert request.endswith("What does @cell:c1 do, next to @cell:c2 ?")
    assert page.console.errors == []
