"""A fix for a cell whose execution failed, from rules (no model): the cell's new source, shown
as a next-edit suggestion in the cell (Tab accepts it; nothing runs until the user re-executes).

- ``NameError`` of a conventional name (``np``) → its import, at the top of the failed cell (so
  that re-executing that cell works), nextedit/imports.py's conventions;
- ``ModuleNotFoundError`` → a ``%pip install`` line with the package's real name (``sklearn`` →
  ``scikit-learn``) above the cell's code;
- ``NameError`` or ``AttributeError`` of a near-miss name (``revnue``, ``df.groupyb``) → the nearest
  known name: Python's own "Did you mean" when the message has one, else the kernel's names (or
  the object's attributes, from its ``complete_request``) and the names the notebook defines;
- ``KeyError`` of a near-miss DataFrame column or dict key (``df["revnue"]``) → the nearest key.

Precision first: one clear candidate or nothing.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Awaitable, Callable, Sequence

from ..apply.syntax import python_tree
from ..nextedit.imports import CONVENTIONAL, add_import
from .probe import Snapshot

MAX_TRACEBACK_CHARS = 20_000
CUTOFF = 0.75  # difflib ratio a near miss must reach
# The import name → the distribution pip installs, where they differ (the common ones).
PIP_NAMES = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "cv2": "opencv-python",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "Crypto": "pycryptodome",
    "attr": "attrs",
    "jwt": "PyJWT",
    "serial": "pyserial",
    "OpenSSL": "pyOpenSSL",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "fitz": "pymupdf",
    "magic": "python-magic",
    "Levenshtein": "python-Levenshtein",
    "google.protobuf": "protobuf",
    "tensorflow_hub": "tensorflow-hub",
    "umap": "umap-learn",
    "Bio": "biopython",
    "osgeo": "gdal",
    "mpl_toolkits.basemap": "basemap",
    "sentence_transformers": "sentence-transformers",
    "pytorch_lightning": "pytorch-lightning",
}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_QUOTED_NAME = re.compile(r"""['"]([^'"]+)['"]""")
_DID_YOU_MEAN = re.compile(r"Did you mean:? '?([A-Za-z_][\w.]*)'?\??")
_LITERAL = re.compile(r"""#[^\n]*|'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'[^'\n]*'|"[^"\n]*\"""")
_NO_ATTRIBUTE = re.compile(r"""has no attribute ['"](\w+)['"]""")

# An async lookup of an object's attributes (the kernel's complete_request of ``expr.``).
Attributes = Callable[[str], Awaitable[list[str]]]


def clean_traceback(error: dict) -> str:
    """The traceback as text (ANSI colours removed), bounded."""
    lines = error.get("traceback") or []
    text = "\n".join(_ANSI.sub("", str(line)) for line in lines if isinstance(line, str))
    return text[-MAX_TRACEBACK_CHARS:]


def _defined_names(cells: Sequence[dict]) -> set[str]:
    names: set[str] = set()
    for cell in cells:
        if cell.get("cell_type", "code") != "code":
            continue
        tree = python_tree(cell["source"])
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def _nearest(name: str, known: set[str] | list[str]) -> str | None:
    """The one known name closest to ``name`` (a clear winner above CUTOFF), or None."""
    close = difflib.get_close_matches(name, [k for k in known if k != name], n=2, cutoff=CUTOFF)
    if not close:
        return None
    if len(close) == 2:
        first, second = (difflib.SequenceMatcher(None, name, c).ratio() for c in close)
        if first - second < 0.05:
            return None
    return close[0]


def _replace_identifier(source: str, old: str, new: str, after_dot: bool = False) -> str:
    """``old`` → ``new`` where it stands as an identifier (after a dot when ``after_dot``), not
    inside strings or comments."""
    pattern = (r"(?<=\.)" if after_dot else r"(?<![\w.])") + re.escape(old) + r"\b"
    out, last = [], 0
    for start, end in _code_spans(source):
        out.append(source[last:start])
        out.append(re.sub(pattern, new, source[start:end]))
        last = end
    out.append(source[last:])
    return "".join(out)


def _code_spans(source: str) -> list[tuple[int, int]]:
    """The spans of ``source`` outside string literals and comments."""
    spans, start = [], 0
    for match in _LITERAL.finditer(source):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(source)))
    return spans


def _pip_line(module: str) -> str:
    top = module.split(".")[0]
    package = PIP_NAMES.get(module) or PIP_NAMES.get(top) or top
    return f"%pip install {package}"


def _above_code(source: str, line: str) -> str:
    """``line`` inserted above the cell's first line of code (after leading comments and cell
    magics' first line, which must stay first)."""
    lines = source.split("\n")
    row = 1 if lines and lines[0].startswith("%%") else 0
    return "\n".join(lines[:row] + [line] + lines[row:])


async def fix_error(
    cells: Sequence[dict],
    cell_id: str,
    error: dict,
    snapshot: Snapshot | None = None,
    attributes: Attributes | None = None,
) -> str | None:
    """The failed cell's fixed source, or None when no rule has one clear fix."""
    cell = next((c for c in cells if c["id"] == cell_id), None)
    if cell is None or cell.get("cell_type", "code") != "code":
        return None
    source = cell["source"]
    ename, evalue = str(error.get("ename", "")), str(error.get("evalue", ""))
    traceback = clean_traceback(error)
    suggested = _DID_YOU_MEAN.search(evalue) or _DID_YOU_MEAN.search(traceback[-500:])
    fixed = None
    if ename in ("ModuleNotFoundError", "ImportError") and "No module named" in evalue:
        quoted = _QUOTED_NAME.search(evalue)
        if quoted and "%pip install" not in source:
            fixed = _above_code(source, _pip_line(quoted.group(1)))
    elif ename == "NameError":
        quoted = _QUOTED_NAME.search(evalue)
        if quoted is None:
            return None
        name = quoted.group(1)
        if name in CONVENTIONAL:
            fixed = add_import(source, name)
        else:
            known = _defined_names(cells) | (snapshot.names() if snapshot else set())
            new = suggested.group(1) if suggested else _nearest(name, known)
            if new:
                fixed = _replace_identifier(source, name, new)
    elif ename == "AttributeError":
        missing = _NO_ATTRIBUTE.search(evalue)
        if missing is None:
            return None
        name = missing.group(1)
        new = suggested.group(1) if suggested else None
        if new is None:
            candidates = await _attributes_of(source, name, snapshot, attributes)
            new = _nearest(name, candidates)
        if new:
            fixed = _replace_identifier(source, name, new, after_dot=True)
    elif ename == "KeyError":
        fixed = _fix_key(source, evalue, snapshot)
    return fixed if fixed is not None and fixed != source else None


async def _attributes_of(
    source: str, name: str, snapshot: Snapshot | None, attributes: Attributes | None
) -> set[str]:
    """What ``X.name`` could have meant: the attributes of each ``X`` the cell uses it on (the
    kernel's completions of ``X.``), and a DataFrame's columns."""
    known: set[str] = set()
    for obj in set(re.findall(rf"([A-Za-z_][\w.]*)\.{re.escape(name)}\b", source)):
        if attributes is not None:
            known |= set(await attributes(obj + "."))
        var = snapshot.get(obj) if snapshot else None
        if var is not None:
            known |= {c for c, _ in var.columns if c.isidentifier()}
    return {k.rsplit(".", 1)[-1] for k in known}


def _fix_key(source: str, evalue: str, snapshot: Snapshot | None) -> str | None:
    quoted = _QUOTED_NAME.search(evalue)
    if quoted is None or snapshot is None:
        return None
    key = quoted.group(1)
    for var_name, _quote in re.findall(rf"""(\w+)\[\s*(["']){re.escape(key)}\2""", source):
        var = snapshot.get(var_name)
        if var is None:
            continue
        new = _nearest(key, [c for c, _ in var.columns] or list(var.keys))
        if new:
            return re.sub(
                rf"""(\b{re.escape(var_name)}\[\s*)(["']){re.escape(key)}\2""",
                lambda m, new=new: f"{m.group(1)}{m.group(2)}{new}{m.group(2)}",
                source,
            )
    return None
