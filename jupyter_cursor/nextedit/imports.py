"""The missing import: the user's last edit used a name that nothing in the notebook defines, and
the name has one conventional import (``pd.`` → ``import pandas as pd``). The import goes after the
last import of the first cell that has one (the notebook's imports cell, or the file's import
block), or into an existing ``from <module> import …`` line of the same module.

Precision first: nothing is proposed when the notebook could define the name some other way (a
star import, ``%run``, ``%pylab``; in a cell that does not parse, any mention that is not a use),
or when the name has more than one convention.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Sequence

from ..apply.syntax import python_tree

# Names whose import is a convention. Bare names count only as ``Name(``, ``@Name`` or
# ``Name.``; a name that is common as a variable in its own right (``F``, ``nn``, ``datetime``,
# ``tqdm``: two conventions each) is not listed.
CONVENTIONAL: dict[str, tuple[str, str | None]] = {
    # alias: (module, imported name or None for ``import module [as alias]``)
    "np": ("numpy", None),
    "pd": ("pandas", None),
    "plt": ("matplotlib.pyplot", None),
    "mpl": ("matplotlib", None),
    "sns": ("seaborn", None),
    "sm": ("statsmodels.api", None),
    "smf": ("statsmodels.formula.api", None),
    "px": ("plotly.express", None),
    "pl": ("polars", None),
    "xr": ("xarray", None),
    "gpd": ("geopandas", None),
    "nx": ("networkx", None),
    "tf": ("tensorflow", None),
    "torch": ("torch", None),
    "sklearn": ("sklearn", None),
    "scipy": ("scipy", None),
    "Path": ("pathlib", "Path"),
    "defaultdict": ("collections", "defaultdict"),
    "Counter": ("collections", "Counter"),
    "OrderedDict": ("collections", "OrderedDict"),
    "namedtuple": ("collections", "namedtuple"),
    "deque": ("collections", "deque"),
    "dataclass": ("dataclasses", "dataclass"),
    "partial": ("functools", "partial"),
    "reduce": ("functools", "reduce"),
    "lru_cache": ("functools", "lru_cache"),
    "pprint": ("pprint", "pprint"),
}
# Standard-library modules used as ``module.attribute``.
for _module in (
    "os",
    "sys",
    "re",
    "json",
    "math",
    "time",
    "random",
    "itertools",
    "collections",
    "functools",
    "pathlib",
    "subprocess",
    "shutil",
    "glob",
    "pickle",
    "csv",
    "logging",
    "typing",
    "string",
    "statistics",
    "copy",
    "warnings",
    "textwrap",
    "operator",
    "heapq",
    "bisect",
    "gzip",
    "zipfile",
    "tempfile",
    "uuid",
    "hashlib",
    "base64",
    "io",
    "inspect",
    "asyncio",
    "threading",
    "sqlite3",
    "dataclasses",
    "contextlib",
    "platform",
    "struct",
    "decimal",
    "fractions",
    "enum",
    "abc",
):
    CONVENTIONAL.setdefault(_module, (_module, None))

# Magics that define names the parser cannot see.
_DEFINING_MAGIC = re.compile(r"^\s*%(run|pylab|load|store)\b", re.M)
_STAR_IMPORT = re.compile(r"^\s*from\s+\S+\s+import\s+\*", re.M)
_IMPORT_LINE = re.compile(r"^[ \t]*(import|from)[ \t][^\n]*", re.M)
_TOP_IMPORT = re.compile(r"^(import|from)[ \t]", re.M)


def import_line(name: str) -> str:
    module, imported = CONVENTIONAL[name]
    if imported is not None:
        return f"from {module} import {imported}"
    return f"import {module} as {name}" if name != module else f"import {module}"


# One pass finds every use: ``@name``, ``name.attribute`` or ``name(`` (never ``x.name``).
_NAMES = "|".join(re.escape(name) for name in sorted(CONVENTIONAL, key=len, reverse=True))
_USE = re.compile(rf"@({_NAMES})\b|(?<![\w.@])({_NAMES})\s*(\.\s*[A-Za-z_]|\()")


def _uses(code: str) -> Counter:
    """How often ``code`` (from ``_code_only``) uses each conventional name: a module only as
    ``module.attribute``, an imported name in any of the three ways."""
    uses: Counter = Counter()
    for match in _USE.finditer(code):
        decorator, name, follow = match.groups()
        if decorator:
            if CONVENTIONAL[decorator][1] is not None:
                uses[decorator] += 1
        elif CONVENTIONAL[name][1] is not None or follow.startswith("."):
            uses[name] += 1
    return uses


def _without_literals(source: str) -> str:
    """The source without comments and string literals, where a name is not a use."""
    source = re.sub(r"(?s)(\"\"\"|''').*?(\1|\Z)", "", source)
    source = re.sub(r"\"(\\.|[^\"\\\n])*\"|'(\\.|[^'\\\n])*'", "", source)
    return re.sub(r"#[^\n]*", "", source)


def _code_only(source: str) -> str:
    """Where uses are counted: no literals, and no import statements either (``from
    collections.abc import X`` does not use ``collections``)."""
    return _IMPORT_LINE.sub("", _without_literals(source))


def _defined(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            names.add(node.name)
    return names


def missing_import(cells: Sequence[dict], event: dict) -> list[dict]:
    """The import of each conventional name the last edit started to use and nothing defines, as
    an edit of the cell that holds the imports ([] when there is none to add)."""
    if not _USE.search(event["after"]):
        return []  # the common case, kept cheap: called on every keystroke
    after, before = _uses(_code_only(event["after"])), _uses(_code_only(event["before"]))
    new_names = [name for name in after if after[name] > before[name]]
    if not new_names:
        return []
    code_cells = [cell for cell in cells if cell.get("cell_type", "code") == "code"]
    defined: set[str] = set()
    trees: dict[str, ast.Module] = {}
    # The first cell that has imports but does not parse (the user is typing in it): the import
    # may belong there, so nothing is proposed for a cell after it.
    unparsed_imports: int | None = None
    for position, cell in enumerate(code_cells):
        source = cell["source"]
        if _DEFINING_MAGIC.search(source) or _STAR_IMPORT.search(source):
            return []
        tree = python_tree(source)
        if tree is None:
            # Not Python as it stands (the line being typed, a %%time cell): any mention of a
            # name that is not a use (``import numpy as np``, ``np = ...``) defines it.
            if unparsed_imports is None and _TOP_IMPORT.search(source):
                unparsed_imports = position
            mentions, uses = _without_literals(source), _uses(_code_only(source))
            defined |= {
                name
                for name in new_names
                if len(re.findall(rf"(?<![\w.]){re.escape(name)}\b", mentions)) > uses[name]
            }
            continue
        trees[cell["id"]] = tree
        defined |= _defined(tree)
    missing = [name for name in new_names if name not in defined]
    if not missing:
        return []
    target = next(
        (cell for cell in code_cells if cell["id"] in trees and _top_imports(trees[cell["id"]])),
        None,
    )
    if target is None:
        target = next((cell for cell in code_cells if cell["id"] in trees), None)
    if target is None or (
        unparsed_imports is not None and code_cells.index(target) > unparsed_imports
    ):
        return []
    source = target["source"]
    for name in missing:
        source = add_import(source, name)
    return [{"cell_id": target["id"], "source": source}]


def _top_imports(tree: ast.Module) -> list[ast.stmt]:
    """The first run of module-level import statements (a file's import block), in order."""
    run: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            run.append(node)
        elif run:
            break
    return run


def add_import(source: str, name: str) -> str:
    """``source`` with ``name``'s import: into a one-line ``from module import …`` of the same
    module in its import block, else at the end of that block, else at the top (after a module
    docstring)."""
    module, imported = CONVENTIONAL[name]
    lines = source.split("\n")
    tree = python_tree(source)
    imports = _top_imports(tree) if tree is not None else []
    if imported is not None:
        for node in imports:
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == module
                and node.level == 0
                and node.lineno == node.end_lineno
                and all(alias.asname is None for alias in node.names)
            ):
                row = node.lineno - 1
                line = lines[row]
                code, comment = (line.split("#", 1) + [None])[:2]
                extended = code.rstrip() + f", {imported}"
                lines[row] = extended + (f"  #{comment}" if comment is not None else "")
                return "\n".join(lines)
    new_line = import_line(name)
    if imports:
        row = imports[-1].end_lineno
    else:
        row = 0
        if tree is not None and tree.body:
            first = tree.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                row = first.end_lineno
    lines.insert(row, new_line)
    return "\n".join(lines)
