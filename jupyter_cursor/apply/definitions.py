"""A block that shows only whole definitions stands for those definitions, not for its cell.

Asked to change one function of a cell that holds several, a model most often answers with that
function alone (or one method of a class), with or without "... existing code ..." around it.
Merged as the cell's new text it deleted every other definition and statement of the cell, with no
warning. ``definitions_span`` finds the lines of the cell that such a block stands for: from the
first definition it names to the last, so the merge (lazy.merge_lazy) rewrites only those, and
the rest of the cell stays as it was. Checked on the apply data's train split (no row changed
for the worse but two, where a lazy block left out an import the commit deleted) and on the
shapes chat models answer with (tests/test_apply_answers.py).
"""

from __future__ import annotations

import ast
import textwrap

from .markers import is_marker
from .syntax import is_ipython_line, python_tree

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _span(node: ast.stmt) -> tuple[int, int]:
    """0-based (first line, line after the last) of a statement, its decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first - 1, node.end_lineno or node.lineno


def _only_definitions(block: list[str]) -> list[ast.stmt] | None:
    """The block's top-level definitions when it holds nothing else (comments, blank lines and
    elision markers aside), at least one of them; else None."""
    code = textwrap.dedent("\n".join("" if is_marker(line) else line for line in block))
    tree = python_tree(code)
    if tree is None or not tree.body:
        return None
    if not all(isinstance(node, _DEFINITIONS) for node in tree.body):
        return None
    return tree.body


def _preamble_line(line: str) -> bool:
    """A comment or an IPython line (``#export``, ``%nbdev_export``): what a notebook puts above a
    definition, outside it."""
    return line.lstrip().startswith("#") or is_ipython_line(line)


def _preamble(block: list[str]) -> int:
    """Comment and IPython lines of the block before its first line of code (blank lines and
    markers aside)."""
    count = 0
    for line in block:
        if not line.strip() or is_marker(line):
            continue
        if not _preamble_line(line):
            break
        count += 1
    return count


def _preamble_above(cell: list[str], start: int, most: int) -> int:
    """The first line of the (up to ``most``) comment and IPython lines above line ``start`` of
    the cell, blank lines between them aside; ``start`` when there is none."""
    top, seen, i = start, 0, start - 1
    while seen < most and i >= 0:
        if _preamble_line(cell[i]):
            top, seen = i, seen + 1
        elif cell[i].strip():
            break
        i -= 1
    return top


def _named(body: list[ast.stmt]) -> dict[str, list[ast.stmt]]:
    named: dict[str, list[ast.stmt]] = {}
    for node in body:
        if isinstance(node, _DEFINITIONS):
            named.setdefault(node.name, []).append(node)
    return named


def definitions_span(cell: list[str], block: list[str], lazy: bool) -> tuple[int, int] | None:
    """(start, end): the lines of ``cell`` that ``block`` stands for when the block holds only
    definitions (functions, classes) that the cell defines once each, at its top level or, all
    of them, in one class of it (methods); None when this does not apply and the caller merges
    the block into the whole cell as before:

    - a name the cell does not define (a new definition, or one of the cell's renamed), or
      defines twice, or methods that several classes define;
    - a block without markers that shows every top-level definition of the cell: it is the
      cell's new text (a commit that drops an import or a call around a function has this
      shape). A method alone never is: a cell does not become a bare method.

    A block without markers rewrites the span whole, so the span must hold nothing but the
    definitions the block names; a lazy block's markers may elide what lies between them."""
    shown = _only_definitions(block)
    tree = python_tree("\n".join(cell)) if shown is not None else None
    if tree is None:
        return None
    names = [node.name for node in shown]
    scopes = [tree.body] + [n.body for n in tree.body if isinstance(n, ast.ClassDef)]
    found = [(scope, named) for scope in scopes for named in [_named(scope)] if names[0] in named]
    if len(found) != 1:
        return None  # not defined, or methods of several classes
    scope, named = found[0]
    if any(len(named.get(name, ())) != 1 for name in names):
        return None
    spans = [_span(named[name][0]) for name in names]
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    # The block's comment and magic lines above its first definition (``#export``, a heading)
    # stand for the cell's own above that definition.
    start = _preamble_above(cell, start, _preamble(block))
    if not lazy:
        inside = [node for node in scope if _span(node)[0] < end and _span(node)[1] > start]
        if any(not isinstance(n, _DEFINITIONS) or n.name not in names for n in inside):
            return None
        outside = [n for n in scope if _span(n)[1] <= start or _span(n)[0] >= end]
        if scope is tree.body and not any(isinstance(n, _DEFINITIONS) for n in outside):
            return None
    if not any(line.strip() for line in cell[:start] + cell[end:]):
        return None  # the block is the whole cell
    return start, end
