"""Next-edit through the model in a real JupyterLab: the remote backend against a local
completions server (tests/completions_server.py) that streams, in pieces, the rewrite of the
editable region a good model would write for the cell (computed here with the server's own
context builder and prompt format). The rule predictors have nothing to say about these edits,
so the model answers; an insertion at the cursor is ghost text through JupyterLab's inline
completer (the provider's `stream`), in a notebook and in the file editor; Tab accepts it as one
undo step; typing that agrees keeps the rest without a request; the ghost text grows as the
server's partial replies arrive, before its final reply."""

import time

import pytest
from browser_support import screenshot
from completions_server import KEY, CompletionsServer
from lab_server import notebook_cell, start_lab_server
from test_nextedit import NOTEBOOK_JS, WAIT, Frames, cell

from jupyter_cursor.nextedit.context import build_context
from jupyter_cursor.nextedit.formats import get_format
from jupyter_cursor.nextedit.predictor import predict

pytestmark = pytest.mark.browser

FORMAT = get_format("jupyter-cursor")  # the remote backend's default format


@pytest.fixture(scope="module")
def llm():
    server = CompletionsServer(["<|end|>"])
    yield server
    server.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, llm):
    server = start_lab_server(
        tmp_path_factory.mktemp("nextedit_model"),
        extra=("--LabApp.expose_app_in_browser=True",),
        config={
            "CursorApp": {
                "index_embeddings": False,
                "engine_backend": "remote",
                "engine_remote_url": llm.url,
                "engine_remote_model": llm.model,
                "engine_remote_api_key": KEY,
            }
        },
    )
    deadline = time.monotonic() + 60
    while (model := server.api("jupyter-cursor/status")["services"]["model"])["state"] != "ready":
        assert time.monotonic() < deadline, f"the remote model never became ready: {model}"
        time.sleep(0.2)
    yield server
    server.stop()


def scripted_answer(
    path: str, typed: str, before: str, cursor: int, wanted: str, cell_id: str = "a"
) -> tuple[list[str], object]:
    """The completion a good model writes for the cell `typed` (was `before`, cursor at `cursor`)
    to become `wanted`, in one piece per line; and the context the server will build."""
    request = {
        "path": path,
        "cells": [{"id": cell_id, "cell_type": "code", "source": typed}],
        "cursor": {"cell_id": cell_id, "offset": cursor},
        "events": [{"cell_id": cell_id, "before": before, "after": typed}],
    }
    # The rules must have nothing to say, or the model is never asked.
    assert predict(request["cells"], cell_id, request["events"], cursor)["edits"] == []
    ctx = build_context(request)
    return FORMAT.target(ctx, {cell_id: wanted}).splitlines(keepends=True), ctx


def open_cell(lab, page, path: str, source: str) -> None:
    lab.put_notebook(path, [notebook_cell("a", source)])
    page.goto(lab.lab_url(f"lab/tree/{path}") + "&reset")
    cell(page, 0).wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('.jp-CursorStatus')?.dataset.state === 'ready'", timeout=WAIT
    )


def cursor_after(page, line: int, column: int) -> None:
    """Put the cursor of the (only) cell on `line` (0-based) after `column` characters."""
    cell(page, 0).locator(".cm-line").nth(line).click()
    page.keyboard.press("Home")
    for _ in range(column):
        page.keyboard.press("ArrowRight")


def source_of(page) -> str:
    return page.evaluate(f"() => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource()")


def wait_until(page, condition, timeout_s: float = WAIT / 1000) -> None:
    """Wait for a condition on what Playwright reports to Python (websocket frames): Playwright
    delivers its events while the page is being waited on."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def ghost_js(text: str) -> str:
    """Ghost text of the inline completer reads `text` (its line breaks are <br>s)."""
    return f"() => document.querySelector('.jp-GhostText')?.innerText === {text!r}"


def prompt_region(llm) -> str:
    """The editable region of the prompt the completions server last received."""
    prompt = llm.requests[-1]["json"]["prompt"]
    return prompt.split("<|region|>\n", 1)[1].split("<|/region|>", 1)[0].replace("<|cursor|>", "")


# The one-line case: `s` typed after `math.`, the model completes `math.sqrt(2)`.
BEFORE, TYPED = "import math\nx = math.", "import math\nx = math.s"
WANTED = TYPED + "qrt(2)"


def type_s_after_math(lab, llm, page, path: str):
    """Script the model's answer, open a notebook of one cell `BEFORE`, type `s` at its end.
    The websocket frames, the context the server builds, the completions asked before."""
    llm.pieces, ctx = scripted_answer(path, TYPED, BEFORE, len(TYPED), WANTED)
    llm.delay = 0.05
    frames = Frames(page)
    open_cell(lab, page, path, BEFORE)
    cursor_after(page, 1, len("x = math."))
    asked = len(llm.requests)
    page.keyboard.type("s")
    return frames, ctx, asked


def test_ghost_text_from_the_model_tab_accepts_undo_restores(lab, llm, page):
    before, typed, wanted = BEFORE, TYPED, WANTED
    frames, ctx, asked = type_s_after_math(lab, llm, page, "ghost.ipynb")

    # Ghost text at the cursor, drawn by JupyterLab's inline completer (not our inline diff).
    page.wait_for_function(ghost_js("qrt(2)"), timeout=WAIT)
    screenshot(page, "nextedit_model_ghost_text")
    assert page.locator(".jp-CursorNextEdit-insert").count() == 0
    assert source_of(page) == typed  # shown, not applied
    # The model was asked, about the region the scripted answer rewrites.
    assert len(llm.requests) > asked
    assert prompt_region(llm) == ctx.region.text
    result = [
        m
        for d, m in frames.log
        if d == "in" and m.get("type") == "result" and str(m.get("id", "")).startswith("nextedit")
    ][-1]["result"]
    assert result["predictor"] == "model"
    assert result["edits"] == [{"cell_id": "a", "source": wanted}]

    sent = len(frames.nextedit_requests())
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource() === {wanted!r}",
        timeout=WAIT,
    )
    page.wait_for_function("() => !document.querySelector('.jp-GhostText')", timeout=WAIT)
    # The cursor after the accepted text.
    assert page.evaluate(
        f"() => {NOTEBOOK_JS}.activeCell.editor.editor.state.selection.main.head"
    ) == len(wanted)
    screenshot(page, "nextedit_model_ghost_accepted")
    # The next place of the edit is asked for, with the acceptance an event of its own.
    wait_until(page, lambda: len(frames.nextedit_requests()) > sent)
    assert frames.nextedit_requests()[-1]["events"][-2:] == [
        {"cell_id": "a", "before": before, "after": typed},
        {"cell_id": "a", "before": typed, "after": wanted},
    ]

    # One undo takes back the acceptance only, and its undo is not predicted again.
    sent = len(frames.nextedit_requests())
    page.keyboard.press("Control+z")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource() === {typed!r}",
        timeout=WAIT,
    )
    page.wait_for_timeout(500)  # a request or ghost text that must not come would have time to
    assert len(frames.nextedit_requests()) == sent
    assert page.locator(".jp-GhostText").count() == 0
    screenshot(page, "nextedit_model_ghost_undone")
    assert page.console.errors == []


def test_ghost_text_grows_as_the_stream_arrives(lab, llm, page):
    """The model writes the region line by line; the server sends a partial reply once a written
    line is a copy of the region again (`print(x)`), which shows the first line of the insertion
    as ghost text; the rest comes with the final reply, seconds later."""
    before = "import math\nx = math.\nprint(x)\ndel x"
    typed = "import math\nx = math.s\nprint(x)\ndel x"
    at = typed.index("math.s") + len("math.s")
    insertion = "qrt(2)\nprint(x)\ny = math.cos(x)"
    wanted = typed[:at] + insertion + typed[at:]
    llm.pieces, ctx = scripted_answer("grow.ipynb", typed, before, at, wanted)
    llm.delay = 0.6
    frames = Frames(page)
    open_cell(lab, page, "grow.ipynb", before)
    cursor_after(page, 1, len("x = math."))
    page.keyboard.type("s")

    def replies():
        """The partial replies and results received for next-edit requests so far."""
        return [
            m for d, m in frames.log if d == "in" and str(m.get("id", "")).startswith("nextedit")
        ]

    page.wait_for_function(ghost_js("qrt(2)"), timeout=WAIT)
    seen = replies()
    screenshot(page, "nextedit_model_ghost_partial")
    # Shown from a partial reply: the final one has not come yet.
    assert [m["type"] for m in seen if m["type"] != "partial"] == [], seen
    partials = [m for m in seen if m["type"] == "partial"]
    assert partials and partials[-1]["data"]["partial"] is True
    assert partials[-1]["data"]["edits"] == [
        {"cell_id": "a", "source": typed[:at] + "qrt(2)" + typed[at:]}
    ]

    page.wait_for_function(ghost_js(insertion), timeout=WAIT)
    final = [m for m in replies() if m["type"] == "result"]
    assert final and final[-1]["result"]["edits"] == [{"cell_id": "a", "source": wanted}]
    screenshot(page, "nextedit_model_ghost_final")
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource() === {wanted!r}",
        timeout=WAIT,
    )
    assert page.console.errors == []


FILE_JS = "[...window.jupyterapp.shell.widgets('main')].find(w => w.content?.editor).content"


def test_ghost_text_from_the_model_in_the_file_editor(lab, llm, page):
    """A .py file is one code cell (id `file`) for the server: the same ghost text, Tab, undo."""
    before, typed = "import math\nx = math.\n", "import math\nx = math.s\n"
    at = len("import math\nx = math.s")
    wanted = typed[:at] + "qrt(2)" + typed[at:]
    llm.pieces, ctx = scripted_answer("ghost.py", typed, before, at, wanted, cell_id="file")
    llm.delay = 0.05
    (lab.root / "ghost.py").write_text(before)
    page.goto(lab.lab_url("lab/tree/ghost.py") + "&reset")
    page.locator(".jp-FileEditor .cm-content").wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('.jp-CursorStatus')?.dataset.state === 'ready'", timeout=WAIT
    )
    page.locator(".jp-FileEditor .cm-line").nth(1).click()
    page.keyboard.press("End")
    page.keyboard.type("s")

    page.wait_for_function(ghost_js("qrt(2)"), timeout=WAIT)
    assert page.locator(".jp-FileEditor .jp-GhostText").count() == 1
    assert prompt_region(llm) == ctx.region.text
    screenshot(page, "nextedit_model_ghost_file_editor")
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"() => {FILE_JS}.model.sharedModel.getSource() === {wanted!r}", timeout=WAIT
    )
    page.keyboard.press("Control+z")
    page.wait_for_function(
        f"() => {FILE_JS}.model.sharedModel.getSource() === {typed!r}", timeout=WAIT
    )
    assert page.console.errors == []


def test_typing_that_agrees_with_the_ghost_text_keeps_it_without_a_new_request(lab, llm, page):
    """Typing the start of the model's ghost text leaves the rest shown, with no request; Tab then
    accepts the rest as its own undo step."""
    typed, wanted = TYPED, WANTED
    frames, _, _ = type_s_after_math(lab, llm, page, "agree.ipynb")
    page.wait_for_function(ghost_js("qrt(2)"), timeout=WAIT)
    wait_until(
        page,
        lambda: any(
            m["type"] == "result"
            for d, m in frames.log
            if d == "in" and str(m.get("id", "")).startswith("nextedit")
        ),
    )
    sent, asked = len(frames.nextedit_requests()), len(llm.requests)

    page.keyboard.type("q")
    page.wait_for_function(ghost_js("rt(2)"), timeout=WAIT)
    screenshot(page, "nextedit_model_ghost_typing_agrees")
    page.wait_for_timeout(500)  # time for a request that must not come
    assert len(frames.nextedit_requests()) == sent
    assert len(llm.requests) == asked
    assert page.evaluate(ghost_js("rt(2)"))

    # One more letter and Tab at once (well within the half second in which Yjs would merge
    # them into one undo step): undo takes back the acceptance, not the letter.
    page.keyboard.type("r")
    page.wait_for_function(ghost_js("t(2)"), timeout=WAIT)
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource() === {wanted!r}",
        timeout=WAIT,
    )
    page.keyboard.press("Control+z")
    page.wait_for_function(
        f"() => {NOTEBOOK_JS}.model.cells.get(0).sharedModel.getSource() === {typed + 'qr'!r}",
        timeout=WAIT,
    )
    assert page.console.errors == []
