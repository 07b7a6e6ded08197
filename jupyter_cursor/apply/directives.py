"""What the prose around a code block (or its first line) says the block is for: a new cell
(after/before a cell, at the top or end), another new cell right after the previous one, a cell
to delete, or a named target cell (by id, by number, by its first line)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# `code`, ``code with ` inside``: CommonMark code spans, one space of padding stripped.
_SPAN = r"(?P<tick>`+)\s?(?P<quoted>.+?)\s?(?P=tick)"
_HOW = r"(?P<how>that starts with|starting with|beginning with|that begins with|containing|that contains|with the id|with id|id)"
_KIND = r"(?P<kind>markdown |code |raw |python )?"

_ADD_RELATIVE = re.compile(
    rf"add (?:a )?new {_KIND}cell (?:right |just |directly )?(?P<where>after|below|before|above) "
    rf"(?:the )?cell {_HOW} {_SPAN}",
    re.IGNORECASE,
)
_ADD_EDGE = re.compile(
    rf"add (?:a )?new {_KIND}cell at the (?P<edge>top|start|beginning|end|bottom) of the notebook",
    re.IGNORECASE,
)
_ADD_ANOTHER = re.compile(
    rf"add another {_KIND}cell (?:right |just |directly )?(?:after|below) (?:it|that)",
    re.IGNORECASE,
)
_DELETE = re.compile(rf"(?:delete|remove) the cell {_HOW} {_SPAN}", re.IGNORECASE)
_PROSE_TARGET = re.compile(
    r"\bcell\s+(?:(?P<number>\d+)\b|(?:id\s+)?`(?P<id>[\w-]+)`)", re.IGNORECASE
)
# First line of a block: "# cell: <id>", "# cell: new after <id>", "# cell: delete <id>",
# "<!-- cell: <id> -->", "# Cell 3".
_HEADER = re.compile(
    r"^\s*(?:#|//|<!--)\s*cell(?:\s*:\s*|\s+)(?P<what>new(?:\s+(?P<rel>after|before)\s+(?P<anchor>[\w-]+))?"
    r"|delete\s+(?P<deleted>[\w-]+)|(?P<target>[\w-]+))\s*(?:-->)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CellRef:
    """A cell named by the answer: by id, by 1-based number, or by its first text."""

    id: str | None = None
    number: int | None = None
    text: str | None = None
    how: str = "starts"  # "starts" | "contains"


@dataclass(frozen=True)
class Directive:
    action: str  # "insert" | "modify" | "delete"
    anchor: CellRef | None = None  # insert: relative to this cell; modify/delete: the target
    where: str = "after"  # insert: "after" | "before" | "top" | "end" | "previous"
    cell_type: str | None = None


def _ref(how: str, quoted: str) -> CellRef:
    how = how.lower()
    if "id" in how:
        return CellRef(id=quoted.strip())
    return CellRef(text=quoted, how="contains" if "contain" in how else "starts")


def _kind(match) -> str | None:
    kind = (match.group("kind") or "").strip().lower()
    return {"markdown": "markdown", "raw": "raw", "code": "code", "python": "code"}.get(kind)


def block_directive(prose: str) -> Directive | None:
    """The directive of the prose just before a block (its last sentence that says one)."""
    tail = prose.strip().split("\n")[-3:]
    text = " ".join(line.strip() for line in tail)
    best = None
    for pattern in (_ADD_RELATIVE, _ADD_EDGE, _ADD_ANOTHER):
        for m in pattern.finditer(text):
            if best is None or m.start() > best[0].start():
                best = (m, pattern)
    if best is not None:
        m, pattern = best
        if pattern is _ADD_RELATIVE:
            where = "after" if m["where"].lower() in ("after", "below") else "before"
            return Directive("insert", _ref(m["how"], m["quoted"]), where, _kind(m))
        if pattern is _ADD_EDGE:
            edge = "top" if m["edge"].lower() in ("top", "start", "beginning") else "end"
            return Directive("insert", None, edge, _kind(m))
        return Directive("insert", None, "previous", _kind(m))
    last = tail[-1] if tail else ""
    target = _PROSE_TARGET.search(last)
    if target and last.rstrip().endswith(":"):
        if target["number"]:
            return Directive("modify", CellRef(number=int(target["number"])))
        return Directive("modify", CellRef(id=target["id"]))
    return None


def deletions(prose: str) -> list[CellRef]:
    return [_ref(m["how"], m["quoted"]) for m in _DELETE.finditer(prose)]


def header_directive(code: str) -> tuple[Directive | None, str]:
    """A directive on the block's first line, and the code without that line."""
    first, _, rest = code.partition("\n")
    m = _HEADER.match(first)
    if m is None:
        return None, code
    if m["deleted"]:
        return Directive("delete", CellRef(id=m["deleted"])), rest
    if m["what"].lower().startswith("new"):
        if m["anchor"]:
            return Directive("insert", CellRef(id=m["anchor"]), m["rel"].lower()), rest
        return Directive("insert", None, "end"), rest
    target = m["target"]
    ref = CellRef(number=int(target)) if target.isdigit() else CellRef(id=target)
    return Directive("modify", ref), rest
