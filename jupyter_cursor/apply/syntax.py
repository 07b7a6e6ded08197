"""Python syntax of notebook cells, with IPython's own syntax (magics, shell escapes) set aside."""

from __future__ import annotations

import ast
import re
import warnings

from .matching import common_ends

# Line magics, shell escapes and help requests are not Python: they are blanked (kept as empty
# lines, so line numbers still point into the cell) before parsing.
_IPYTHON_LINE = re.compile(r"^\s*(%|!|\?)|^\s*\w[\w.]*\?\??\s*$")


def is_ipython_line(line: str) -> bool:
    """A line magic, shell escape or help request: IPython's, not Python."""
    return bool(_IPYTHON_LINE.match(line))


def python_source(source: str) -> str | None:
    """The cell as plain Python, or None for a cell magic cell (%%bash, %%sql...)."""
    if source.lstrip().startswith("%%"):
        return None
    return "\n".join("" if _IPYTHON_LINE.match(line) else line for line in source.split("\n"))


def parse_python(code: str) -> ast.Module:
    """``ast.parse``, quiet about the SyntaxWarnings user code draws ("invalid escape sequence"
    and kin); SyntaxError for anything it cannot parse: also a NUL byte (a ValueError) and code
    nested too deeply for the parser's recursion (``1+1+…`` 100,000 times: a RecursionError)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        try:
            return ast.parse(code)
        except (RecursionError, MemoryError):
            raise SyntaxError("the code is nested too deeply to parse") from None
        except ValueError as err:
            raise SyntaxError(str(err)) from None


def python_tree(source: str) -> ast.Module | None:
    """The cell's syntax tree, or None for a cell magic cell or a cell that does not parse."""
    code = python_source(source)
    if code is None:
        return None
    try:
        return parse_python(code)
    except SyntaxError:
        return None


def syntax_error(source: str) -> tuple[str, int | None] | None:
    """(message, line) of the cell's first syntax error, or None."""
    code = python_source(source)
    if code is None:
        return None
    try:
        parse_python(code)
    except SyntaxError as err:
        return err.msg, err.lineno
    return None


# A line that starts a top-level statement (not `else:`/`except:`, which continue one): the cell
# may be cut there into parts that parse on their own.
_TOP_LEVEL = re.compile(r"^(?!(else|elif|except|finally)\b)[A-Za-z_@]")


def introduced_error(before: str | None, after: str) -> tuple[str, int | None] | None:
    """The syntax error that the edit from `before` (None: a new cell) to `after` introduces.

    Only the top-level statements around the changed lines are parsed first: parsing a whole
    3000-line module took most of the time of applying an edit to it. Where they do not parse
    (or the cut falls inside a string), the whole cell decides."""
    if before is not None and _changed_part_parses(before, after):
        return None
    error = syntax_error(after)
    if error and (before is None or not syntax_error(before)):
        return error
    return None


def _changed_part_parses(before: str, after: str) -> bool:
    new = after.split("\n")
    head, tail = common_ends(before.split("\n"), new)
    start = min(head, len(new) - 1)
    while (
        start > 0
        and not _TOP_LEVEL.match(new[start])
        or start > 0
        and new[start - 1].endswith("\\")
    ):
        start -= 1
    end = max(len(new) - tail, start + 1)
    while end < len(new) and not (_TOP_LEVEL.match(new[end]) and not new[end - 1].endswith("\\")):
        end += 1
    return syntax_error("\n".join(new[start:end])) is None
