"""Python syntax of notebook cells, with IPython's own syntax (magics, shell escapes) set aside."""

from __future__ import annotations

import ast
import re
import warnings

# Line magics, shell escapes and help requests are not Python: they are blanked (kept as empty
# lines, so line numbers still point into the cell) before parsing.
_IPYTHON_LINE = re.compile(r"^\s*(%|!|\?)|^\s*\w[\w.]*\?\??\s*$")


def python_source(source: str) -> str | None:
    """The cell as plain Python, or None for a cell magic cell (%%bash, %%sql...)."""
    if source.lstrip().startswith("%%"):
        return None
    return "\n".join("" if _IPYTHON_LINE.match(line) else line for line in source.split("\n"))


def syntax_error(source: str) -> tuple[str, int | None] | None:
    """(message, line) of the cell's first syntax error, or None."""
    code = python_source(source)
    if code is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # "invalid escape sequence" and kin
            ast.parse(code)
    except SyntaxError as err:
        return err.msg, err.lineno
    return None
