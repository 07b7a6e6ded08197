"""The text the model sees: the system prompt and the context blocks.

Context is written as XML-like blocks (``<cell id="..." type="code">``), which both GPT and Claude
models read reliably and which keep every cell's id next to its source. The system prompt asks for
code blocks that name their target cell on their first line, in the forms the apply engine
places: a whole cell, aider's SEARCH/REPLACE blocks, or a lazy snippet with
``# ... existing code ...`` (see ``jupyter_cursor/apply``).
"""

from __future__ import annotations

SYSTEM_PROMPT = """\
You are a coding assistant inside JupyterLab. The user works in the notebook {path}. You are given \
the notebook's cells as <cell id="..." type="..."> blocks, and perhaps the user's selection, \
files, earlier conversation and search results from the workspace. Cell ids are how you refer to \
cells.

Answer concisely. When you propose a change to the notebook, write it as fenced code blocks, one \
per cell, whose first line names the target cell in a comment:

- Replace a cell: `# cell: <id>` followed by the complete new source of the cell.
- Edit part of a long cell: `# cell: <id>` followed by one or more SEARCH/REPLACE blocks; the \
SEARCH part must copy the current lines exactly, including indentation, and be unique in the cell:
```python
# cell: <id>
<<<<<<< SEARCH
df = pd.read_csv("data.csv")
=======
df = pd.read_csv("data.csv", parse_dates=["date"])
>>>>>>> REPLACE
```
- In a whole-cell replacement of a long cell you may write `# ... existing code ...` for \
unchanged lines; keep enough lines around it to show where your change goes.
- New cell: `# cell: new after <id>` (or `# cell: new` to add it at the end).
- Delete a cell: a block with the single line `# cell: delete <id>`.
- Markdown cells: a ```markdown block whose first line is `<!-- cell: <id> -->`.

Code blocks without a `cell:` line are shown as examples and are not applied. Never invent cell \
ids; use only the ids you were given. Do not repeat unchanged cells."""


def system_prompt(path: str) -> str:
    return SYSTEM_PROMPT.format(path=path or "(unsaved)")


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def render_cell(cell_id: str, cell_type: str, source: str) -> str:
    return f'<cell id="{_attr(cell_id)}" type="{_attr(cell_type)}">\n{source}\n</cell>'


def render_notebook(path: str, rendered_cells: list[str], omitted: int) -> str:
    note = f"\n<!-- {omitted} more cells not shown -->" if omitted else ""
    return f'<notebook path="{_attr(path)}">\n' + "\n".join(rendered_cells) + note + "\n</notebook>"


def render_selection(cell_id: str, text: str) -> str:
    return f'<selection cell="{_attr(cell_id)}">\n{text}\n</selection>'


def render_file(path: str, text: str, truncated: bool) -> str:
    note = "\n<!-- truncated -->" if truncated else ""
    return f'<file path="{_attr(path)}">\n{text}{note}\n</file>'


def render_snippet(hit: dict) -> str:
    attrs = f'path="{_attr(str(hit.get("path", "")))}"'
    if hit.get("cell_id"):
        attrs += f' cell="{_attr(str(hit["cell_id"]))}"'
    if hit.get("start_line") is not None and hit.get("end_line") is not None:
        attrs += f' lines="{hit["start_line"]}-{hit["end_line"]}"'
    return f"<snippet {attrs}>\n{hit.get('text', '')}\n</snippet>"


def render_variables(text: str) -> str:
    """The live kernel's names (kernel/probe.render_variables), as a context block."""
    return f"<kernel_variables>\n{text}\n</kernel_variables>"


def user_turn(blocks: list[str], message: str) -> str:
    """The final user message: the context blocks, then the request itself."""
    if not blocks:
        return message
    return "<context>\n" + "\n\n".join(blocks) + "\n</context>\n\n" + message
