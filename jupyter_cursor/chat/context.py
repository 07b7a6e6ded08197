"""Assemble what a chat message sends to the model, within a budget, and say exactly what that was.

Inputs, by priority (what is dropped last comes first): the selection, the cells and files the
user @-mentioned, the live kernel's variables (kernel/probe.render_variables), the rest of the
active notebook (nearest the active cell first), the earlier conversation (newest first), and
snippets retrieved from the workspace index (best first). Each item either fits the character
budget or is listed in ``dropped`` with the reason, so the browser can show the user what the model
saw and what it did not. The user removes the items of a kind (REMOVABLE) by naming it in
``exclude``: it is not sent, and is listed as dropped, "removed".
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from .. import protocol
from ..kernel.probe import Snapshot, render_variables
from . import prompts
from .files import FileRefused, read_workspace_file
from .mentions import cells_by_id, parse_mentions

log = logging.getLogger("jupyter_cursor.chat")

Retrieve = Callable[[str, int], list[dict]]
MIN_TRUNCATED_CHARS = 500  # below this, a truncated file or selection is not worth sending
BLOCK_SEP = len("\n\n")  # between the blocks of the context
CELL_SEP = len("\n")  # between the cells of a notebook
# The kinds of item the user can remove (the others they chose: the selection, the mentions).
REMOVABLE = ("variables", "notebook", "history", "retrieved")
REMOVED = "removed"  # the reason of a dropped item the user removed
VARIABLES_LABEL = "Kernel variables"


@dataclasses.dataclass(frozen=True)
class Selection:
    """The user's selection: in cell ``cell_id``, either the range [start, end) of its source,
    or ``text`` as the browser saw it."""

    cell_id: protocol.Identifier
    start: int | None = None
    end: int | None = None
    text: protocol.Source | None = None


class ContextError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass
class BuiltContext:
    messages: list[dict[str, str]]  # for Provider.stream_chat
    sent: list[dict[str, Any]]  # items {"kind", "label", "chars", "path"?, "cell_id"?}
    dropped: list[dict[str, Any]]  # items {"kind", "label", "reason", ...}
    chars: int  # all characters sent, system prompt included


class _Ledger:
    """One build's accounts: the characters left of the budget, and what was sent and dropped
    (with why), for the browser's list of what the model saw."""

    def __init__(self, chars: int, exclude: Collection[str] = ()):
        self.left = chars
        self.exclude = frozenset(exclude)
        self.sent: list[dict[str, Any]] = []
        self.dropped: list[dict[str, Any]] = []

    def removed(self, kind: str, label: str, **item: Any) -> bool:
        """Whether the user removed the items of ``kind`` (then listed as dropped, "removed")."""
        if kind not in self.exclude:
            return False
        self.dropped.append({"kind": kind, "label": label, **item, "reason": REMOVED})
        return True

    def take(self, n: int) -> bool:
        """Spend ``n`` characters if they are left."""
        if n > self.left:
            return False
        self.left -= n
        return True


class ContextBuilder:
    def __init__(
        self,
        root_dir: str | Path,
        *,
        retrieve: Retrieve | None = None,
        budget_chars: int = 48_000,
        max_file_bytes: int = 1_000_000,
        max_file_chars: int = 20_000,
        retrieve_k: int = 6,
        allow_hidden: bool = False,
        max_variables_chars: int = 1500,
    ):
        self.root_dir = Path(root_dir)
        self.retrieve = retrieve
        self.budget_chars = budget_chars
        self.max_file_bytes = max_file_bytes
        self.max_file_chars = max_file_chars
        self.retrieve_k = retrieve_k
        self.allow_hidden = allow_hidden
        self.max_variables_chars = max_variables_chars

    def build(
        self,
        message: str,
        *,
        cells: Sequence[Any],
        path: str,
        selection: Selection | None = None,
        history: Sequence[dict[str, str]] = (),
        budget_chars: int | None = None,
        kernel: Snapshot | None = None,
        exclude: Collection[str] = (),
    ) -> BuiltContext:
        """``kernel``: the notebook's kernel's snapshot, if it has one; ``exclude``: the kinds of
        REMOVABLE items the user removed."""
        ledger = _Ledger(budget_chars or self.budget_chars, exclude)
        system = prompts.system_prompt(path)
        cells = protocol.cell_dicts(cells)
        # The model knows the cells by id: a cell the user named by number is named by its id.
        request = cells_by_id(message, [c["id"] for c in cells])
        if not ledger.take(len(system) + len(request) + len(prompts.user_turn([""], ""))):
            raise ContextError(
                "context_too_long",
                f"The message is {len(message)} characters, over this provider's context budget.",
            )
        mentions = parse_mentions(request)
        mentioned_cells = [m.target for m in mentions if m.kind == "cell"]
        mentioned_files = [m.target for m in mentions if m.kind == "file"]

        selection_block = self._selection(selection, cells, ledger)
        file_blocks = [b for p in mentioned_files if (b := self._file(p, ledger)) is not None]
        variables_block = self._variables(kernel, ledger)
        active = (
            selection.cell_id if selection else (mentioned_cells[0] if mentioned_cells else None)
        )
        notebook_block, in_prompt = self._notebook(path, cells, mentioned_cells, active, ledger)
        history_messages = self._history(history, ledger)
        snippet_blocks = self._retrieved(message, path, in_prompt, set(mentioned_files), ledger)

        # Render order is not priority order: the big picture first, the selection last, next to
        # the request, where models attend most.
        parts = [notebook_block, variables_block, *file_blocks, *snippet_blocks, selection_block]
        blocks = [b for b in parts if b]
        user = prompts.user_turn(blocks, request)
        messages = [
            {"role": "system", "content": system},
            *history_messages,
            {"role": "user", "content": user},
        ]
        return BuiltContext(
            messages, ledger.sent, ledger.dropped, sum(len(m["content"]) for m in messages)
        )

    # -- the items, each taking its share of the budget ------------------------------------------
    def _selection(self, selection, cells, ledger) -> str | None:
        if selection is None:
            return None
        # Named as the user sees it: cells by number; no range selected is the cell they are in.
        index = next((i for i, c in enumerate(cells) if c["id"] == selection.cell_id), None)
        where = f"cell {index + 1}" if index is not None else f"cell {selection.cell_id}"
        ranged = selection.text is not None or selection.start is not None
        label = f"selection in {where}" if ranged else f"the current cell ({where})"
        text = selection.text
        if text is None:
            cell = next((c for c in cells if c["id"] == selection.cell_id), None)
            if cell is None:
                ledger.dropped.append(
                    {"kind": "selection", "label": label, "reason": "no such cell"}
                )
                return None
            text = cell["source"][selection.start or 0 : selection.end]
        if not text.strip():
            return None
        block = prompts.render_selection(selection.cell_id, text)
        if not ledger.take(len(block) + BLOCK_SEP):
            keep = ledger.left - BLOCK_SEP - (len(block) - len(text)) - 20
            if keep < MIN_TRUNCATED_CHARS:
                ledger.dropped.append(
                    {"kind": "selection", "label": label, "reason": "over the budget"}
                )
                return None
            block = prompts.render_selection(selection.cell_id, text[:keep] + "\n[… truncated]")
            ledger.take(len(block) + BLOCK_SEP)
        ledger.sent.append(
            {"kind": "selection", "label": label, "cell_id": selection.cell_id, "chars": len(block)}
        )
        return block

    def _file(self, rel: str, ledger) -> str | None:
        item = {"kind": "file", "label": rel, "path": rel}
        try:
            text = read_workspace_file(
                self.root_dir, rel, max_bytes=self.max_file_bytes, allow_hidden=self.allow_hidden
            )
        except FileRefused as err:
            ledger.dropped.append({**item, "reason": str(err)})
            return None
        except OSError as err:
            ledger.dropped.append({**item, "reason": f"unreadable ({type(err).__name__})"})
            return None
        limit = min(
            self.max_file_chars, ledger.left - BLOCK_SEP - len(prompts.render_file(rel, "", True))
        )
        truncated = len(text) > limit
        if truncated:
            if limit < MIN_TRUNCATED_CHARS:
                ledger.dropped.append({**item, "reason": "over the budget"})
                return None
            text = text[:limit]
        block = prompts.render_file(rel, text, truncated)
        ledger.take(len(block) + BLOCK_SEP)
        ledger.sent.append(
            {**item, "chars": len(block), **({"truncated": True} if truncated else {})}
        )
        return block

    def _variables(self, snapshot: Snapshot | None, ledger) -> str | None:
        """What the notebook's live kernel defines (no snapshot, no item: a busy kernel is not
        waited for), capped at ``max_variables_chars``."""
        if snapshot is None or ledger.removed("variables", VARIABLES_LABEL):
            return None
        text = render_variables(snapshot, self.max_variables_chars)
        if not text:
            return None
        block = prompts.render_variables(text)
        item = {"kind": "variables", "label": VARIABLES_LABEL}
        if not ledger.take(len(block) + BLOCK_SEP):
            ledger.dropped.append({**item, "reason": "over the budget"})
            return None
        ledger.sent.append({**item, "chars": len(block)})
        return block

    def _notebook(self, path, cells, mentioned, active, ledger) -> tuple[str | None, set[str]]:
        """The notebook's cells in order, as many as fit: mentioned cells first, then by distance
        from the active cell (the last cell when none is active)."""
        index = {c["id"]: i for i, c in enumerate(cells)}
        for cell_id in mentioned:
            if cell_id not in index:
                ledger.dropped.append(
                    {
                        "kind": "cell",
                        "label": f"cell {cell_id}",
                        "cell_id": cell_id,
                        "reason": "no such cell in this notebook",
                    }
                )
        forced = [index[c] for c in mentioned if c in index]
        # Removed, the notebook is its mentioned cells alone.
        removed = bool(cells) and ledger.removed(
            "notebook", f"{len(cells) - len(forced)} cells of {path}", path=path
        )
        if not cells or (removed and not forced):
            return None, set()
        if not ledger.take(len(prompts.render_notebook(path, [], len(cells))) + BLOCK_SEP):
            ledger.dropped.append(
                {
                    "kind": "notebook",
                    "label": f"{len(cells)} cells of {path}",
                    "path": path,
                    "reason": "over the budget",
                }
            )
            return None, set()
        centre = index.get(active, len(cells) - 1)
        rest = sorted(
            (i for i in range(len(cells)) if i not in forced and not removed),
            key=lambda i: (abs(i - centre), i),
        )
        rendered: dict[int, str] = {}
        for i in [*forced, *rest]:
            cell = cells[i]
            block = prompts.render_cell(cell["id"], cell["cell_type"], cell["source"])
            if ledger.take(len(block) + CELL_SEP):
                rendered[i] = block
                if i in forced:
                    ledger.sent.append(
                        {
                            "kind": "cell",
                            "label": f"cell {i + 1}",  # by number, as the user sees cells
                            "cell_id": cell["id"],
                            "path": path,
                            "chars": len(block),
                        }
                    )
            elif i in forced:
                ledger.dropped.append(
                    {
                        "kind": "cell",
                        "label": f"cell {i + 1}",
                        "cell_id": cell["id"],
                        "reason": "over the budget",
                    }
                )
        omitted = len(cells) - len(rendered)
        others = [i for i in rendered if i not in forced]
        if others:
            ledger.sent.append(
                {
                    "kind": "notebook",
                    "label": f"{path} ({len(others)} of {len(cells)} cells)",
                    "path": path,
                    "chars": sum(len(rendered[i]) for i in others),
                }
            )
        if omitted and not removed:
            ledger.dropped.append(
                {
                    "kind": "notebook",
                    "label": f"{omitted} cells of {path}",
                    "path": path,
                    "reason": "over the budget",
                }
            )
        if not rendered:
            return None, set()
        block = prompts.render_notebook(path, [rendered[i] for i in sorted(rendered)], omitted)
        return block, {cells[i]["id"] for i in rendered}

    def _history(self, history, ledger) -> list[dict[str, str]]:
        """The newest earlier messages that fit; the first that does not ends them (a gap in a
        conversation reads as a different conversation)."""
        if history and ledger.removed("history", f"{len(history)} earlier messages"):
            return []
        kept: list[dict[str, str]] = []
        for m in reversed(history):
            if not ledger.take(len(m["content"])):
                break
            kept.append({"role": m["role"], "content": m["content"]})
        kept.reverse()
        if kept:
            ledger.sent.append(
                {
                    "kind": "history",
                    "label": f"{len(kept)} earlier messages",
                    "chars": sum(len(m["content"]) for m in kept),
                }
            )
        if len(kept) < len(history):
            ledger.dropped.append(
                {
                    "kind": "history",
                    "label": f"{len(history) - len(kept)} older messages",
                    "reason": "over the budget",
                }
            )
        return kept

    def _retrieved(self, message, path, in_prompt, files, ledger) -> list[str]:
        if self.retrieve is None or not message.strip():
            return []
        if ledger.removed("retrieved", "workspace search"):
            return []
        try:
            hits = list(self.retrieve(message, self.retrieve_k))
        except Exception as err:  # the index is an aid: a broken one must not break chat
            log.warning("chat: retrieval failed: %s", err)
            ledger.dropped.append(
                {
                    "kind": "retrieved",
                    "label": "workspace search",
                    "reason": f"search failed ({type(err).__name__})",
                }
            )
            return []
        blocks = []
        for hit in sorted(hits, key=lambda h: -float(h.get("score") or 0)):
            hit_path, cell_id = str(hit.get("path", "")), hit.get("cell_id")
            if hit_path in files or (hit_path == path and cell_id in in_prompt):
                continue  # already in the prompt whole
            label = hit_path + (f" cell {cell_id}" if cell_id else "")
            if hit.get("start_line") is not None:
                label += f" lines {hit['start_line']}-{hit.get('end_line')}"
            item = {
                "kind": "retrieved",
                "label": label,
                "path": hit_path,
                **({"cell_id": cell_id} if cell_id else {}),
            }
            block = prompts.render_snippet(hit)
            if ledger.take(len(block) + BLOCK_SEP):
                blocks.append(block)
                ledger.sent.append({**item, "chars": len(block), "score": hit.get("score")})
            else:
                ledger.dropped.append({**item, "reason": "over the budget"})
        return blocks
