"""Completions from the live kernel, as ghost text only when one is unambiguous (a wrong ghost
text costs the user more than none):

- ``key_completion``: a DataFrame column or a dict key being typed in a subscript
  (``df["rev`` → ``enue"]``), from the kernel's snapshot (probe.py): no round trip;
- ``name_completion``: a name being typed that one name of the kernel's namespace (and no
  builtin or keyword) starts with, from the snapshot too;
- the kernel's own ``complete_request`` for an attribute (``df.grou`` → ``pby``), when it lists
  exactly one match (``attribute_request`` says when to ask, ``pick_match`` reads the reply). Only
  after a dot: a bare name's completion can keep IPython's Jedi busy for seconds on first use,
  and the shell queue is the user's.
"""

from __future__ import annotations

import builtins
import keyword
import re

from .probe import Snapshot

# name["typed, name[["a", "typed, name.loc[rows, "typed (and the same with single quotes)
_QUOTED = r"""(?:\s*(?P<q>["'])[^"'\n]*(?P=q)\s*,)*"""
SUBSCRIPT = re.compile(
    r"(?P<var>[A-Za-z_]\w*)(?P<open>\.(?:loc|at)\[[^\[\]\n]*,\s*|\[\[?)"
    + _QUOTED
    + r"""\s*(?P<quote>["'])(?P<typed>[^"'\\\n]*)$"""
)
# an attribute being typed (anything after a dot), a name of at least three characters
ATTRIBUTE = re.compile(r"(?:[A-Za-z_][\w.]*\.)(?P<typed>\w*)$")
NAME = re.compile(r"(?<![\w.])(?P<typed>[A-Za-z_]\w{2,})$")
_BUILTIN_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist)
# A ghost text shorter than this saves less than it costs to read (benchmarks/bench_kernel.py:
# the one- and two-character completions of names were the most of the wrong ones); a shared
# prefix of several keys is shown when it adds at least this many too.
MIN_SHOWN = 3


def _line_before(source: str, offset: int) -> str:
    return source[source.rfind("\n", 0, offset) + 1 : offset]


def _common_prefix(names: list[str]) -> str:
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def key_completion(snapshot: Snapshot | None, source: str, offset: int) -> str:
    """The rest of the column or key typed at ``offset``, closed as the line needs; "" when the
    subscripted name is no DataFrame or dict the kernel knows, or when no single key fits."""
    if snapshot is None:
        return ""
    match = SUBSCRIPT.search(_line_before(source, offset))
    if match is None:
        return ""
    var = snapshot.get(match["var"])
    if var is None:
        return ""
    keys = [c for c, _ in var.columns] or list(var.keys)
    typed = match["typed"]
    fits = sorted({k for k in keys if k.startswith(typed) and k != typed})
    if typed in keys or not fits:
        return ""
    if len(fits) > 1:
        common = _common_prefix(fits)
        return common[len(typed) :] if len(common) - len(typed) >= MIN_SHOWN else ""
    text = fits[0][len(typed) :]
    after = source[offset : source.find("\n", offset) if "\n" in source[offset:] else None]
    quote = match["quote"]
    if not after.startswith(quote):
        text += quote
        if match["open"] != "[[" and not after.startswith("]"):
            text += "]"
    return text if len(text) >= MIN_SHOWN else ""


def _in_code(line: str) -> bool:
    return not (line.count('"') % 2 or line.count("'") % 2 or "#" in line)


def attribute_request(source: str, offset: int) -> bool:
    """An attribute is being typed (after a dot, in code): worth asking the kernel."""
    line = _line_before(source, offset)
    return _in_code(line) and ATTRIBUTE.search(line) is not None


def name_completion(snapshot: Snapshot | None, source: str, offset: int) -> str:
    """The rest of the one kernel name that the name being typed begins (no builtin or keyword
    begins it too), or ""."""
    line = _line_before(source, offset)
    match = NAME.search(line) if snapshot is not None and _in_code(line) else None
    if match is None:
        return ""
    typed = match["typed"]
    names = {n for n in snapshot.names() | _BUILTIN_NAMES if n.startswith(typed)}
    if len(names) != 1 or typed in names:
        return ""
    (name,) = names
    rest = name[len(typed) :]
    return rest if name in snapshot.names() and len(rest) >= MIN_SHOWN else ""


def pick_match(reply: dict | None, source: str, offset: int) -> str:
    """The insertion a ``complete_reply`` makes unambiguous: its one match (public names only,
    unless an underscore was typed) that extends what was typed by at least two characters."""
    if not reply:
        return ""
    start, end = reply.get("cursor_start"), reply.get("cursor_end")
    if not isinstance(start, int) or end != offset or not 0 <= start <= offset:
        return ""
    typed = source[start:offset]
    names = {
        m
        for m in reply.get("matches", [])
        if m.startswith(typed) and (typed.startswith("_") or not m.startswith("_"))
    }
    if len(names) != 1:
        return ""
    (name,) = names
    if not all(part.isidentifier() for part in name.split(".")):
        return ""
    rest = name[len(typed) :]
    return rest if len(rest) >= MIN_SHOWN else ""
