"""The refactor prompt: the whole notebook (cells with ids and types, outputs summarised and
bounded), retrieved workspace context, and the instruction, asking for cell-addressed edits in the
forms the apply engine places (the chat's conventions: ``# cell: <id>`` blocks)."""

from __future__ import annotations

from collections.abc import Sequence

from ..chat import prompts

MAX_OUTPUT_CHARS = 300  # per cell: enough to show what a cell printed, never a whole dataframe
MAX_NOTEBOOK_CHARS = 120_000

REFACTOR_RULES = """\

This is a notebook-wide refactor: apply the user's instruction to every cell it concerns, in one \
answer. Change only what the instruction asks for; keep behaviour otherwise identical. Keep cells \
in execution order: a name must be defined in a cell above the cells that use it. Answer with one \
block per changed, new or deleted cell, then one line saying what you changed."""


def summarise_outputs(outputs: Sequence[dict]) -> str:
    """A short text of what a cell showed: stream text and text/plain, others by their type."""
    parts = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(_text(output.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "text/plain" in data:
                parts.append(_text(data["text/plain"]))
            else:
                parts.append(f"[{', '.join(sorted(data)) or 'output'}]")
        elif kind == "error":
            parts.append(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
    text = "\n".join(p for p in parts if p)
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + f"… [{len(text) - MAX_OUTPUT_CHARS} more characters]"
    return text


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def build_messages(
    path: str,
    cells: Sequence[dict],
    instruction: str,
    outputs: dict[str, str] | None = None,
    snippets: Sequence[dict] = (),
    variables: str = "",
) -> list[dict[str, str]]:
    rendered, total, omitted = [], 0, 0
    for cell in cells:
        block = prompts.render_cell(cell["id"], cell["cell_type"], cell["source"])
        shown = (outputs or {}).get(cell["id"])
        if shown:
            block += f'\n<output cell="{cell["id"]}">\n{shown}\n</output>'
        if total + len(block) > MAX_NOTEBOOK_CHARS:
            omitted += 1
            continue
        rendered.append(block)
        total += len(block)
    blocks = [prompts.render_notebook(path, rendered, omitted)]
    blocks += [prompts.render_snippet(hit) for hit in snippets]
    if variables:
        blocks.append(prompts.render_variables(variables))
    return [
        {"role": "system", "content": prompts.system_prompt(path) + REFACTOR_RULES},
        {"role": "user", "content": prompts.user_turn(blocks, instruction)},
    ]
