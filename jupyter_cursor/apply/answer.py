"""A model's answer → a NotebookDiff, deterministically.

Each fenced block is read for what it is (SEARCH/REPLACE blocks, a unified diff, or a whole or
lazy cell), where it goes (``targeting``: a directive in the prose before it or on its first line,
or else the cell its content matches), and merged into that one cell. What cannot be placed with
confidence is refused with a warning that says why (and names the candidates when several cells
fit); a cell no block targets never changes.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from .. import protocol
from . import directives, edits, markdown
from .directives import CellRef, Directive
from .matching import locate
from .notebook_diff import NotebookDiff, operations
from .syntax import introduced_error
from .targeting import find_index, find_target, pick_candidates, resolve

# (original cell source, snippet) -> new cell source, or None when the model gave none
Rewrite = Callable[[str, str], str | None]

# Blocks in these languages are not cell edits (shell commands, output samples).
NOT_CELL_LANGUAGES = {"bash", "sh", "shell", "console", "text", "output", "json", "yaml", "toml"}
# How many lines a diff hunk's own line number may be off and still tell two identical matches in
# one cell apart: the nearer match must lie within this many lines of it, the other more than twice
# as many away.
HINT_SLACK = 10


class _Apply:
    def __init__(self, cells: list[dict], rewrite: Rewrite | None):
        self.original = cells
        self.cells = [dict(c) for c in cells]
        self.rewrite = rewrite
        self.warnings: list[dict] = []
        self.last_inserted: str | None = None
        self.inserted: set[str] = set()  # ids of the cells the answer added
        self.deleted: list[str] = []  # ids of the cells it deleted
        self.pending_deletions: list[tuple[CellRef, list[str]]] = []

    # -- helpers ------------------------------------------------------------------------------------
    def warn(self, code: str, message: str, **extra: Any) -> None:
        self.warnings.append({"code": code, "message": message, **extra})

    def make_id(self) -> str:
        taken = {c["id"] for c in self.cells}
        while True:
            candidate = uuid.uuid4().hex[:8]
            if candidate not in taken:
                return candidate

    # -- the answer ---------------------------------------------------------------------------------
    def run(self, answer: str) -> None:
        blocks, tail = markdown.parse(answer)
        for block in blocks:
            for ref in directives.deletions(block.prose):
                self.delete(ref)
            self.apply_block(block)
        for ref in directives.deletions(tail):
            self.delete(ref)
        for ref, ids in self.pending_deletions:
            self._delete_beside_new_cell(ref, ids)

    def delete(self, ref: CellRef) -> None:
        ids = resolve(ref, self.original, self.cells)
        if len(ids) > 1:
            # Decided at the end: "delete X" next to "add Y" is often one cell replaced by another.
            self.pending_deletions.append((ref, ids))
            return
        if not ids:
            self._warn_unresolved("delete", ref, ids)
            return
        self.deleted.append(ids[0])
        self.cells.pop(find_index(self.cells, ids[0]))

    def _delete_beside_new_cell(self, ref: CellRef, ids: list[str]) -> None:
        """Of several cells a deletion names, the one right next to a cell the answer added."""
        present = [cid for cid in ids if find_index(self.cells, cid) >= 0]
        beside = [
            cid
            for cid in present
            if any(
                0 <= j < len(self.cells) and self.cells[j]["id"] in self.inserted
                for j in (find_index(self.cells, cid) - 1, find_index(self.cells, cid) + 1)
            )
        ]
        if len(beside) != 1:
            self._warn_unresolved("delete", ref, present)
            return
        self.deleted.append(beside[0])
        self.cells.pop(find_index(self.cells, beside[0]))

    def _warn_unresolved(self, action: str, ref: CellRef, ids: list[str]) -> None:
        label = ref.id or (f"number {ref.number}" if ref.number else f"`{ref.text}`")
        if ids:
            self.warn(
                "ambiguous", f"Not applied ({action}): several cells match {label}.", candidates=ids
            )
        else:
            self.warn("not_found", f"Not applied ({action}): no cell matches {label}.")

    def apply_block(self, block: markdown.Block) -> None:
        if block.language in NOT_CELL_LANGUAGES:
            return
        header, code = directives.header_directive(block.code)
        directive = header or directives.block_directive(block.prose)
        if directive is not None and directive.action == "delete":
            self.delete(directive.anchor)
            return
        if directive is not None and directive.action == "insert":
            self.insert(directive, code, block.language)
            return
        target = None
        if directive is not None and directive.action == "modify":
            ids = resolve(directive.anchor, self.original, self.cells)
            if len(ids) == 1:
                target = ids[0]
            elif header is not None:
                self._warn_unresolved("edit", directive.anchor, ids)
                return
        self.modify(code, block.language, target)

    def insert(self, directive: Directive, code: str, language: str) -> None:
        cell_type = directive.cell_type or (
            "markdown" if language in ("markdown", "md") else "code"
        )
        if directive.where == "top":
            position = 0
        elif directive.where == "end":
            position = len(self.cells)
        elif directive.where == "previous":
            if self.last_inserted is None or find_index(self.cells, self.last_inserted) < 0:
                self.warn(
                    "not_found", "Not applied (insert): 'right after it' follows no new cell."
                )
                return
            position = find_index(self.cells, self.last_inserted) + 1
        else:
            ids = resolve(directive.anchor, self.original, self.cells)
            if len(ids) > 1:
                ids = self._keep_beside_deleted(ids, directive.where) or ids
            if len(ids) != 1:
                self._warn_unresolved("insert", directive.anchor, ids)
                return
            position = find_index(self.cells, ids[0]) + (1 if directive.where == "after" else 0)
        # A cell starts at the left margin: a block indented as a whole is the answer's layout (in
        # markdown too, where four leading spaces on every line would make it a code block).
        code = textwrap.dedent(code)
        cell = {"id": self.make_id(), "cell_type": cell_type, "source": code}
        self.cells.insert(position, cell)
        self.last_inserted = cell["id"]
        self.inserted.add(cell["id"])

    def _keep_beside_deleted(self, ids: list[str], where: str) -> list[str]:
        """Of several anchors for a new cell, the one that stood right next to (on the side of the
        new cell) a cell the answer deleted: the new cell takes the deleted one's place."""
        order = [c["id"] for c in self.original]
        at = {cid: i for i, cid in enumerate(order)}
        step = 1 if where == "after" else -1
        return [
            cid
            for cid in ids
            if cid in at
            and 0 <= at[cid] + step < len(order)
            and order[at[cid] + step] in self.deleted
        ]

    # -- modifying one cell -------------------------------------------------------------------------
    def modify(self, code: str, language: str, target: str | None) -> None:
        if edits.is_search_replace(code):
            for rep in edits.parse_search_replace(code):
                self.replace(rep, target, "SEARCH/REPLACE block")
            return
        if edits.is_udiff(code, language):
            for rep in edits.parse_udiff(code):
                self.replace(rep, target, "diff hunk")
            return
        self.merge_snippet(code.split("\n"), language, target)

    def replace(self, rep: edits.Replacement, target: str | None, what: str) -> None:
        cells = pick_candidates(self.cells, "", target)
        if not rep.old:
            self.warn("empty_search", f"Not applied: a {what} has nothing to search for.")
            return
        matches = locate(rep.old, [(c["id"], c["source"].split("\n")) for c in cells])
        if not matches:
            self.warn(
                "not_found",
                f"Not applied: a {what} matches no cell.",
                search="\n".join(rep.old[:3]),
            )
            return
        if len(matches) > 1:
            # A context line dropped from the search may survive in the replacement: the place
            # where it stands next to the match is the one meant.
            sources = {c["id"]: c["source"].split("\n") for c in cells}
            widened = [
                m for m in matches if edits.widen(sources[m.cell_id], m, rep) != (m.start, m.end)
            ]
            if len(widened) == 1:
                matches = widened
        if len(matches) > 1 and rep.hint is not None and len({m.cell_id for m in matches}) == 1:
            # One cell (a module) with the same lines twice, and a diff that edits both, hunk by
            # hunk: each hunk's own line number, though a few lines off, tells the two apart.
            near = sorted(matches, key=lambda m: abs(m.start - rep.hint))
            if (
                abs(near[0].start - rep.hint)
                <= HINT_SLACK
                < abs(near[1].start - rep.hint) - HINT_SLACK
            ):
                matches = near[:1]
        if len(matches) > 1:
            places = [f"{m.cell_id} line {m.start + 1}" for m in matches]
            self.warn(
                "ambiguous",
                f"Not applied: a {what} matches {len(matches)} places ({', '.join(places[:5])}).",
                candidates=sorted({m.cell_id for m in matches}),
            )
            return
        (match,) = matches
        cell = self.cells[find_index(self.cells, match.cell_id)]
        lines = edits.replace_at(cell["source"].split("\n"), match, rep)
        cell["source"] = "\n".join(lines)

    def merge_snippet(self, lines: list[str], language: str, target: str | None) -> None:
        lazy = edits.has_markers(lines)
        if target is None and not self.cells:
            # A notebook with no cell: a block of code can only be its first cell.
            if lazy:
                self.warn(
                    "not_found",
                    "Not applied: a block with '... existing code ...' in a notebook with no cell.",
                )
            else:
                self.insert(Directive("insert", where="end"), "\n".join(lines), language)
            return
        if target is None:
            target = find_target(self.cells, lines, language, lazy, self.warn)
            if target is None:
                return
        cell = self.cells[find_index(self.cells, target)]
        # A whole cell goes through the same merge: it aligns the block with the cell, so a block
        # the model indented as a whole comes back to the cell's indentation.
        merged = edits.merge_lazy(cell["source"].split("\n"), lines)
        if merged.lines is not None:
            cell["source"] = "\n".join(merged.lines)
            return
        new = self.rewrite(cell["source"], "\n".join(lines)) if self.rewrite else None
        if new is None or edits.has_markers(new.split("\n")):
            reason = merged.reason + (" (nor did the model fallback)" if self.rewrite else "")
            self.warn("not_merged", f"Not applied: {reason}.", cell_id=target)
            return
        cell["source"] = new
        self.warn(
            "model_rewrite", "Merged by the model fallback: review this cell.", cell_id=target
        )

    # -- result -------------------------------------------------------------------------------------
    def build_diff(self) -> NotebookDiff:
        original = {c["id"]: c["source"] for c in self.original}
        for cell in self.cells:
            before = original.get(cell["id"])
            if cell["cell_type"] != "code" or before == cell["source"]:
                continue  # an unchanged cell introduces nothing (and parsing each took most of the time)
            error = introduced_error(before, cell["source"])
            if error:
                message, line = error
                self.warn(
                    "syntax_error",
                    f"The edit introduces a syntax error: {message}.",
                    cell_id=cell["id"],
                    line=line,
                )
        return NotebookDiff(self.cells, operations(self.original, self.cells), self.warnings)


def apply_suggestion(
    cells: Sequence[Any], suggestion: str, *, rewrite: Rewrite | None = None
) -> NotebookDiff:
    """The NotebookDiff that `suggestion` (a model's markdown answer) makes to `cells`.

    ``rewrite``, when given, is the model fallback (``fallback.ModelFallback``): it gets one cell's
    source and a snippet the deterministic merge refused, and returns the new cell source or None.
    """
    job = _Apply(protocol.cell_dicts(cells), rewrite)
    job.run(suggestion)
    return job.build_diff()
