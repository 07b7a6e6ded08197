"""Checks on a proposed notebook before the user accepts it: syntax of every changed code cell, and
names used but no longer defined anywhere before their use in execution order (pyflakes over the
cells joined top to bottom). Only problems the change introduces are reported: a notebook that was
already broken is not the refactor's fault.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from pyflakes import checker, messages

from ..apply.syntax import parse_python, python_source, syntax_error

# Names IPython defines in every kernel's namespace.
IPYTHON_BUILTINS = ("display", "get_ipython", "In", "Out", "exit", "quit")


@dataclass(frozen=True)
class CellWarning:
    code: str  # "syntax_error" | "undefined_name"
    message: str
    cell_id: str
    line: int | None = None  # 1-based, in the cell

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "cell_id": self.cell_id,
            "line": self.line,
        }


def _code_cells(cells: Sequence[dict]) -> list[tuple[str, str]]:
    out = []
    for cell in cells:
        if cell.get("cell_type") == "code":
            code = python_source(cell.get("source", ""))
            if code is not None:
                out.append((cell["id"], code))
    return out


def syntax_errors(cells: Sequence[dict]) -> dict[str, tuple[str, int | None]]:
    errors = {}
    for cell in cells:
        if cell.get("cell_type") == "code":
            error = syntax_error(cell.get("source", ""))
            if error:
                errors[cell["id"]] = error
    return errors


def undefined_names(cells: Sequence[dict]) -> dict[tuple[str, str], int]:
    """{(cell_id, name): line} for names read before any cell above (or the cell) defines them."""
    parsed = []
    for cell_id, code in _code_cells(cells):
        try:
            parsed.append((cell_id, code, parse_python(code)))
        except SyntaxError:
            continue  # reported by syntax_errors; its names would be noise here
    joined = ast.Module(body=[], type_ignores=[])
    owners: list[tuple[int, str]] = []  # (first line of the cell in the joined module, cell id)
    offset = 0
    for cell_id, code, tree in parsed:
        ast.increment_lineno(tree, offset)
        joined.body.extend(tree.body)
        owners.append((offset, cell_id))
        offset += code.count("\n") + 1
    starts = [start for start, _ in owners]
    try:
        reports = checker.Checker(joined, builtins=IPYTHON_BUILTINS).messages
    except RecursionError:  # a tree that parsed but is too deep for pyflakes' own recursion
        return {}
    found = {}
    for message in reports:
        if isinstance(message, messages.UndefinedName):
            # The cell that holds the line: the last one that starts above it.
            at = bisect.bisect_left(starts, message.lineno) - 1
            if at >= 0:
                start, cell_id = owners[at]
                found.setdefault((cell_id, message.message_args[0]), message.lineno - start)
    return found


def check_change(
    before: Sequence[dict], after: Sequence[dict], known: frozenset[str] = frozenset()
) -> list[CellWarning]:
    """Warnings for problems that `after` has and `before` did not; ``known``: names defined
    outside the cells (the live kernel's), never undefined."""
    warnings = []
    old_sources = {c["id"]: c.get("source") for c in before}
    changed = {c["id"] for c in after if old_sources.get(c["id"]) != c.get("source")}
    number = {c["id"]: i + 1 for i, c in enumerate(after)}  # as JupyterLab numbers cells
    for cell_id, (msg, line) in syntax_errors(after).items():
        if cell_id in changed:
            warnings.append(
                CellWarning(
                    "syntax_error",
                    f"Cell {number[cell_id]}, line {line}: syntax error: {msg}",
                    cell_id,
                    line,
                )
            )
    already = {name for (_, name) in undefined_names(before)} | known
    for (cell_id, name), line in undefined_names(after).items():
        if name not in already:
            warnings.append(
                CellWarning(
                    "undefined_name",
                    f"Cell {number[cell_id]}, line {line}: '{name}' is used but no longer defined "
                    "above it",
                    cell_id,
                    line,
                )
            )
    return warnings
