"""Apply from chat and Refactor, reviewed cell by cell in a real JupyterLab."""

import json

import pytest
from browser_support import open_lab, screenshot, wait_connected
from fake_llm_server import FakeLLMServer
from lab_server import notebook_cell, start_lab_server

pytestmark = pytest.mark.browser

SOURCES = {"load": "df = load()", "use": "print(df.head())", "scratch": "1 + 1"}
# what a deleted cell must come back with on undo
SCRATCH = {
    "metadata": {"tags": ["keep-me"]},
    "execution_count": 3,
    "outputs": [
        {
            "output_type": "execute_result",
            "execution_count": 3,
            "data": {"text/plain": "2"},
            "metadata": {},
        }
    ],
}


@pytest.fixture
def lab(tmp_path, request):
    """JupyterLab and the scripted provider; an indirect parameter gives the notebook settings."""
    tracker = getattr(request, "param", None)
    if tracker:
        path = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
        path.mkdir(parents=True)
        path = path / "tracker.jupyterlab-settings"
        path.write_text(json.dumps(tracker))
    with FakeLLMServer() as llm:
        server = start_lab_server(
            tmp_path,
            extra=("--LabApp.expose_app_in_browser=True",),
            config={"CursorApp": {"index_embeddings": False, "providers": [llm.provider()]}},
        )
        cells = [notebook_cell(cid, src) for cid, src in SOURCES.items()]
        cells[-1].update(SCRATCH)
        server.put_notebook("nb.ipynb", cells)
        try:
            yield server, llm
        finally:
            server.stop()


NOTEBOOK = "[...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells).content"
# the notebook's cells as nbformat JSON, keys sorted, so that two states compare as strings (the
# notebook's metadata is left out: the kernel fills in its own while the test runs)
CELLS_JSON = (
    "(() => { const sorted = (k, v) => v && typeof v === 'object' && !Array.isArray(v)"
    " ? Object.fromEntries(Object.entries(v).sort()) : v;"
    f" return JSON.stringify({NOTEBOOK}.model.toJSON().cells, sorted); }})()"
)


def cells_json(page) -> str:
    return page.evaluate(f"() => {CELLS_JSON}")


def notebook_undo_steps(page) -> int:
    return page.evaluate(f"() => {NOTEBOOK}.model.sharedModel.undoManager.undoStack.length")


def open_notebook(page, server) -> None:
    """Open nb.ipynb and wait until its model holds the file (a cell on screen may be the empty
    one a notebook shows before it is loaded)."""
    open_lab(page, server, "lab/tree/nb.ipynb")
    cells = (
        "[...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        "?.content.model.cells"
    )
    page.wait_for_function(
        f"() => [...({cells} ?? [])].map(c => c.id).join() === {','.join(SOURCES)!r}",
        timeout=60_000,
    )


def notebook_sources(page):
    return page.evaluate(
        """() => {
          const panels = [...window.jupyterapp.shell.widgets('main')].filter(w => w.content?.model?.cells);
          return [...panels[0].content.model.cells].map(c => c.sharedModel.getSource());
        }"""
    )


def ask_and_apply(page, question: str):
    """Ask the chat, apply its answer's first block; the first review card."""
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
    page.locator(".jp-CursorChat-input").fill(question)
    page.locator(".jp-CursorChat-input").press("Enter")
    page.locator(".jp-CursorChat-apply").click(timeout=30_000)
    card = page.locator(".jp-CursorReview-card").first
    card.wait_for(timeout=30_000)
    return card


def test_chat_apply_review_accept_and_undo(lab, page):
    server, llm = lab
    llm.script({"text": "Like this:\n\n```python\n# cell: load\nsales = load()\n```\n"})
    open_notebook(page, server)
    card = ask_and_apply(page, "rename df in the first cell")
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


def test_a_fuzzy_match_is_flagged_on_its_cells_card(lab, page):
    server, llm = lab
    server.put_notebook("fuzzy.ipynb", ["df = load()\ndf = df.dropna()\nprint(len(df))"])
    # the model's SEARCH spaces a context line its own way: applied, and said so on the card
    llm.script(
        {
            "text": "```python\n<<<<<<< SEARCH\ndf = load()\ndf = df.dropna( )\nprint(len(df))\n"
            "=======\ndf = load()\ndf = df.dropna( )\nprint(df.shape)\n>>>>>>> REPLACE\n```\n"
        }
    )
    open_lab(page, server, "lab/tree/fuzzy.ipynb")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    card = ask_and_apply(page, "print the shape")
    warning = card.locator(".jp-CursorReview-cardWarning")
    assert "matches only approximately" in warning.inner_text()
    assert page.locator(".jp-CursorReview-warnings").count() == 0  # not repeated above the cards
    card.locator(".jp-CursorReview-actions .jp-mod-accept").click()
    page.wait_for_function(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.model.cells.get(0).sharedModel.getSource()"
        " === 'df = load()\\ndf = df.dropna()\\nprint(df.shape)'"
    )
    assert page.console.errors == []


def test_refactor_command_reviews_many_cells(lab, page):
    server, llm = lab
    llm.script(
        {
            "text": "```python\n# cell: load\nsales = load()\n```\n\n```python\n# cell: use\n"
            "print(sales.head())\n```\n\n```python\n# cell: delete scratch\n```\n"
        }
    )
    open_notebook(page, server)
    page.evaluate(
        "() => window.jupyterapp.commands.execute('jupyter-cursor:refactor-notebook',"
        " {instruction: 'rename df to sales'})"
    )
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
    open_notebook(page, server)
    page.evaluate(
        "() => window.jupyterapp.commands.execute('jupyter-cursor:refactor-notebook',"
        " {instruction: 'rename'})"
    )
    card = page.locator(".jp-CursorReview-card").first
    card.wait_for(timeout=30_000)
    page.evaluate(
        "() => [...window.jupyterapp.shell.widgets('main')].find(w => w.content?.model?.cells)"
        ".content.model.cells.get(0).sharedModel.setSource('df = load()  # mine')"
    )
    card.locator(".jp-CursorReview-actions .jp-mod-accept").click()
    assert "edited during the review" in card.inner_text()
    assert notebook_sources(page)[0] == "df = load()  # mine"


REFACTOR = (
    "```python\n# cell: load\nsales = load()\n```\n\n"
    "```python\n# cell: new after load\nsales = sales.dropna()\n```\n\n"
    "```python\n# cell: use\nprint(sales.head())\n```\n\n"
    "```python\n# cell: delete scratch\n```\n"
)
REFACTORED = ["sales = load()", "sales = sales.dropna()", "print(sales.head())"]


def review_refactor(page, server, llm):
    """Open the notebook and review REFACTOR (a modify, an insert, a modify, a delete)."""
    llm.script({"text": REFACTOR})
    open_notebook(page, server)
    page.evaluate(
        "() => window.jupyterapp.commands.execute('jupyter-cursor:refactor-notebook',"
        " {instruction: 'rename df, drop missing rows, remove the scratch cell'})"
    )
    page.locator(".jp-CursorReview-card").nth(3).wait_for(timeout=60_000)
    assert (
        page.locator(".jp-CursorReview-summary")
        .inner_text()
        .startswith("2 changed, 1 inserted, 1 deleted")
    )


def card(page, title: str):
    return page.locator(".jp-CursorReview-card", has_text=title)


def press_on_notebook(page, key: str) -> None:
    """A key on the notebook in command mode, where "Undo Cell Operation" is Z, its redo Shift+Z."""
    focused = f"{NOTEBOOK}.mode === 'command' && {NOTEBOOK}.node.contains(document.activeElement)"
    if not page.evaluate(f"() => {focused}"):
        # a click beside the editor selects the cell in command mode
        page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").first.click()
        page.wait_for_function(f"() => {focused}")
    page.keyboard.press(key)


def test_accept_all_of_a_refactor_is_one_undo_step(lab, page):
    server, llm = lab
    review_refactor(page, server, llm)
    original = cells_json(page)
    steps = notebook_undo_steps(page)

    page.locator(".jp-CursorReview-header button", has_text="Accept all").click()
    page.wait_for_function(f"() => {NOTEBOOK}.model.cells.length === 3")
    assert notebook_sources(page) == REFACTORED
    assert notebook_undo_steps(page) == steps + 1
    accepted = cells_json(page)
    screenshot(page, "refactor_accept_all")

    press_on_notebook(page, "z")
    page.wait_for_function(f"() => {CELLS_JSON} !== {accepted!r}", timeout=10_000)
    assert cells_json(page) == original  # sources, ids, metadata, outputs, order
    cells = json.loads(original)
    assert [c["id"] for c in cells] == list(SOURCES)
    assert cells[2]["outputs"] == SCRATCH["outputs"]
    assert cells[2]["execution_count"] == 3
    assert cells[2]["metadata"]["tags"] == ["keep-me"]
    screenshot(page, "refactor_accept_all_undone")

    press_on_notebook(page, "Shift+z")
    page.wait_for_function(f"() => {CELLS_JSON} === {accepted!r}", timeout=10_000)
    assert notebook_sources(page) == REFACTORED
    screenshot(page, "refactor_accept_all_redone")
    assert page.console.errors == []


def test_each_accepted_insert_or_delete_is_one_undo_step(lab, page):
    server, llm = lab
    review_refactor(page, server, llm)
    original = cells_json(page)
    steps = notebook_undo_steps(page)

    card(page, "Delete cell").locator(".jp-mod-accept").click()
    card(page, "New code cell").locator(".jp-mod-accept").click()
    page.wait_for_function(
        f"() => {NOTEBOOK}.model.cells.length === 3 && {NOTEBOOK}.model.cells"
        f".get(1).sharedModel.getSource() === {REFACTORED[1]!r}"
    )
    assert notebook_sources(page) == ["df = load()", REFACTORED[1], "print(df.head())"]
    assert notebook_undo_steps(page) == steps + 2

    press_on_notebook(page, "z")  # the insertion
    page.wait_for_function(f"() => {NOTEBOOK}.model.cells.length === 2")
    assert notebook_sources(page) == ["df = load()", "print(df.head())"]
    press_on_notebook(page, "z")  # the deletion
    page.wait_for_function(f"() => {NOTEBOOK}.model.cells.length === 3")
    assert cells_json(page) == original
    assert page.console.errors == []


def test_accept_all_leaves_a_cell_edited_during_review_and_its_undo_keeps_the_edit(lab, page):
    server, llm = lab
    review_refactor(page, server, llm)
    page.evaluate(f"() => {NOTEBOOK}.model.cells.get(1).sharedModel.setSource('print(df.tail())')")
    steps = notebook_undo_steps(page)

    page.locator(".jp-CursorReview-header button", has_text="Accept all").click()
    page.wait_for_function(f"() => {NOTEBOOK}.model.cells.length === 3")
    assert notebook_sources(page) == [REFACTORED[0], REFACTORED[1], "print(df.tail())"]
    assert "edited during the review" in card(page, "Change cell 2").inner_text()
    assert notebook_undo_steps(page) == steps + 1
    screenshot(page, "refactor_accept_all_edited_cell")

    press_on_notebook(page, "z")
    page.wait_for_function(
        f"() => {NOTEBOOK}.model.cells.length === 3 && {NOTEBOOK}.model.cells"
        ".get(0).sharedModel.getSource() === 'df = load()'"
    )
    assert notebook_sources(page) == ["df = load()", "print(df.tail())", "1 + 1"]
    assert page.console.errors == []


@pytest.mark.parametrize("lab", [{"documentWideUndoRedo": True}], indirect=True)
def test_with_document_wide_undo_a_cell_undo_takes_back_the_whole_accept_all(lab, page):
    server, llm = lab
    review_refactor(page, server, llm)
    assert page.evaluate(f"() => {NOTEBOOK}.model.sharedModel.disableDocumentWideUndoRedo") is False
    original = cells_json(page)

    page.locator(".jp-CursorReview-header button", has_text="Accept all").click()
    page.wait_for_function(f"() => {NOTEBOOK}.model.cells.length === 3")
    assert notebook_sources(page) == REFACTORED
    accepted = cells_json(page)

    # the editor's undo, in the last cell the refactor changed
    page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".cm-content").click()
    page.keyboard.press("Control+z")
    page.wait_for_function(f"() => {CELLS_JSON} !== {accepted!r}", timeout=10_000)
    assert cells_json(page) == original
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function(f"() => {CELLS_JSON} === {accepted!r}", timeout=10_000)
    assert page.console.errors == []


def test_refactor_without_a_chat_model_says_so_before_asking_for_an_instruction(lab_server, page):
    lab_server.put_notebook("norefactor.ipynb", ["df = load()"])
    open_lab(page, lab_server, "lab/tree/norefactor.ipynb")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    wait_connected(page)
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('jupyter-cursor:refactor-notebook'); }"
    )
    page.get_by_text("Refactor needs a chat model").wait_for(timeout=15_000)
    assert "c.CursorApp.providers" in page.get_by_text("Refactor needs a chat model").inner_text()
    assert page.locator(".jp-Dialog").count() == 0
    assert page.console.errors == []


def test_an_empty_review_offers_nothing_to_accept(lab, page):
    server, llm = lab
    llm.script({"text": "It already reads:\n\n```python\n# cell: load\ndf = load()\n```\n"})
    open_notebook(page, server)
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-cursor:open-chat')")
    page.locator(".jp-CursorChat-input").fill("anything to change?")
    page.locator(".jp-CursorChat-input").press("Enter")
    page.locator(".jp-CursorChat-apply").click(timeout=30_000)
    page.locator(".jp-CursorReview-empty").wait_for(timeout=30_000)
    assert "No change to apply." in page.locator(".jp-CursorReview").inner_text()
    assert page.locator(".jp-CursorReview-header .jp-mod-accept").count() == 0
    assert page.locator(".jp-CursorReview-header .jp-mod-reject").count() == 0
    assert page.console.errors == []


def test_the_refactor_progress_toast_and_its_stop_go_when_the_review_opens(lab, page):
    server, llm = lab
    review_refactor(page, server, llm)
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.Toastify__toast')]"
        ".some(t => t.innerText.includes('Refactor'))",
        timeout=3_000,  # at once, but for its exit animation (a "ready" toast stayed 4 s, with Stop)
    )
    assert page.get_by_role("button", name="Stop").count() == 0
    screenshot(page, "refactor_review_without_toast")


def test_accept_all_of_one_cell_is_undone_by_z(lab, page):
    """With one cell changed, Accept all is still one step of the notebook's undo (Z in command
    mode), as with several."""
    server, llm = lab
    llm.script({"text": "```python\n# cell: load\nsales = load()\n```\n"})
    open_notebook(page, server)
    card = ask_and_apply(page, "rename df in the first cell")
    assert "Change cell 1" in card.inner_text()
    steps = notebook_undo_steps(page)
    page.locator(".jp-CursorReview-header button", has_text="Accept all").click()
    page.wait_for_function(
        f"() => {NOTEBOOK}.model.cells.get(0).sharedModel.getSource() === 'sales = load()'"
    )
    assert notebook_undo_steps(page) == steps + 1
    press_on_notebook(page, "z")
    page.wait_for_function(
        f"() => {NOTEBOOK}.model.cells.get(0).sharedModel.getSource() === 'df = load()'",
        timeout=10_000,
    )
    screenshot(page, "accept_all_one_cell_undone")
    assert page.console.errors == []


# the metadata of a notebook saved by a Python kernel
PYTHON_NOTEBOOK = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python", "codemirror_mode": {"name": "ipython", "version": 3}},
}
HIGHLIGHTED = "for x in range(3):\n    total = total + x * 2  # " + "a long comment " * 12


def test_a_hunk_is_highlighted_and_its_buttons_cover_none_of_its_text(lab, page):
    """The diff is highlighted as the notebook's cells are (keywords coloured, in deleted lines
    too), and a hunk's Accept and Reject sit on a line of their own, not over the end of the
    deleted line (a long one here, wrapped across the card)."""
    server, llm = lab
    server.put_notebook("loop.ipynb", [HIGHLIGHTED], metadata=PYTHON_NOTEBOOK)
    llm.script({"text": "```python\n# cell: c0\nfor x in range(10):\n    total = total + x\n```\n"})
    open_lab(page, server, "lab/tree/loop.ipynb")
    # the notebook's own cells highlighted (the language loaded), as a user sees them
    page.locator(".jp-Notebook .jp-Cell .cm-line span").first.wait_for(timeout=30_000)
    card = ask_and_apply(page, "simplify the loop")
    card.locator(".cm-deletedLine").first.wait_for()
    screenshot(page, "review_hunk_highlighted")

    colours = page.evaluate(
        """() => {
          const editor = document.querySelector('.jp-CursorReview .cm-editor');
          const plain = getComputedStyle(editor.querySelector('.cm-content')).color;
          // the colour of the innermost element holding the word `for`, in each part of the diff
          const colour = root => {
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              if (/^for\\b/.test(node.textContent) && node.parentElement.textContent.trim() === 'for') {
                return getComputedStyle(node.parentElement).color;
              }
            }
            return null;
          };
          return {
            plain,
            deleted: colour(editor.querySelector('.cm-deletedLine')),
            inserted: colour(editor.querySelector('.cm-changedLine')),
          };
        }"""
    )
    assert colours["deleted"] and colours["deleted"] != colours["plain"], colours
    assert colours["inserted"] and colours["inserted"] != colours["plain"], colours

    overlaps = page.evaluate(
        """() => {
          const editor = document.querySelector('.jp-CursorReview .cm-editor');
          const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
          const out = [];
          for (const buttons of editor.querySelectorAll('.cm-chunkButtons')) {
            const box = buttons.getBoundingClientRect();
            if (!box.width || !box.height) out.push('buttons not shown');
            for (const line of editor.querySelectorAll('.cm-deletedLine, .cm-line')) {
              const range = document.createRange();
              range.selectNodeContents(line);
              for (const rect of range.getClientRects()) {
                if (rect.width && meet(box, rect)) out.push(line.textContent.slice(0, 40));
              }
            }
          }
          return out;
        }"""
    )
    assert overlaps == []
    # the hunk's own Accept still works
    card.locator(".cm-chunkButtons button[name=accept]").dispatch_event("mousedown")
    card.locator(".cm-deletedChunk").wait_for(state="detached")
    assert "0 open hunks" in page.locator(".jp-CursorReview-summary").inner_text()
    assert page.console.errors == []


def test_a_narrow_review_keeps_its_header_in_place(lab, page):
    """Beside a notebook in a narrow window the header's title gets a line of its own, cut short
    with an ellipsis; the summary and the buttons share the next line, no word wrapped."""
    server, llm = lab
    page.set_viewport_size({"width": 900, "height": 800})
    review_refactor(page, server, llm)
    screenshot(page, "review_narrow_header")
    boxes = page.evaluate(
        """() => {
          const header = document.querySelector('.jp-CursorReview-header');
          const box = el => { const r = el.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, height: r.height, left: r.left, right: r.right,
                    cut: el.scrollWidth > el.clientWidth}; };
          const line = parseFloat(getComputedStyle(header).lineHeight) || 18;
          return {
            width: header.getBoundingClientRect().width,
            line,
            title: box(header.querySelector('.jp-CursorReview-title')),
            summary: box(header.querySelector('.jp-CursorReview-summary')),
            buttons: [...header.querySelectorAll('button')].map(box),
          };
        }"""
    )
    assert boxes["width"] < 420, boxes  # narrow indeed
    title, summary, buttons = boxes["title"], boxes["summary"], boxes["buttons"]
    assert title["height"] < 1.6 * boxes["line"] and title["cut"], boxes  # one line, ellipsis
    assert summary["height"] < 1.6 * boxes["line"], boxes
    assert len(buttons) == 2
    centre = lambda b: (b["top"] + b["bottom"]) / 2  # noqa: E731
    # the summary and both buttons on one line, below the title; no button wrapped inside
    assert all(abs(centre(b) - centre(summary)) < 3 for b in buttons), boxes
    assert summary["top"] >= title["bottom"] - 1, boxes
    assert buttons[0]["height"] == buttons[1]["height"] < 2 * boxes["line"], boxes
    assert buttons[0]["right"] <= buttons[1]["left"], boxes
    title_text = page.locator(".jp-CursorReview-title")
    assert title_text.get_attribute("title").startswith("Refactor: rename df, drop missing rows")
    assert page.console.errors == []
