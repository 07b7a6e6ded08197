"""Candidate edits that carry the last edit to analogous places, not only to identical text.

* ``analog``: the edit's token-level transformation, generalised (as IntelliCode's Blue-Pencil
  learns a rewrite from the user's example): each changed run of tokens, with one token of context
  on each side, becomes a rule (``attr . a (`` → ``attr . ib (``; ``` `field` ``` → ``:func:`field```),
  whitespace between tokens free, and the rules are applied together at the next runs of lines
  they match. A multi-line edit, which the word-level repeat cannot carry, is carried this way.
* ``argument``: an argument added to one call (``plot(x, y)`` → ``plot(x, y, alpha=0.5)``) added
  to the same function's next calls that lack it, in this cell and the cells below.
* ``unmove``: import lines the last edit deleted, put back at their sorted place in another block
  of imports (an import moved next to its kind).

Places follow the edited cell's kind: an edit of a markdown cell's prose goes on in markdown cells,
one of code in code cells (places.places_for).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from .places import places_for
from .repeat import literal_spans
from .spans import _ends, line_change

TOKEN = re.compile(r"\w+|[^\w\s]")
MAX_LINES = 8  # lines of an edit worth generalising
MAX_CHARS = 1200
MAX_RULES = 6
MAX_PLACES = 3


def _line_span(before: str, after: str) -> tuple[str, str]:
    """The changed lines of an edit, whole (old, new)."""
    old, new, _ = line_change(before, after)
    return old, new


def _tokens(text: str) -> list[re.Match]:
    return list(TOKEN.finditer(text))


def _joined(tokens: Sequence[str]) -> str:
    return r"\s*".join(re.escape(t) for t in tokens)


def _bounded(tokens: Sequence[str], body: str) -> str:
    """``body`` not starting or ending inside a longer word."""
    left = r"(?<!\w)" if tokens and re.match(r"\w", tokens[0]) else ""
    right = r"(?!\w)" if tokens and re.match(r"\w", tokens[-1]) else ""
    return left + body + right


def token_rules(before: str, after: str) -> list[tuple[re.Pattern, str]]:
    """(pattern, replacement) rules of an edit's token-level change: each changed run of tokens
    with one token of context each side (the context kept, the middle as the user typed it)."""
    old, new = _line_span(before, after)
    if not (old.strip() and new.strip()) or len(old) + len(new) > MAX_CHARS:
        return []
    if max(old.count("\n"), new.count("\n")) > MAX_LINES:
        return []
    a, b = _tokens(old), _tokens(new)
    ta, tb = [m.group() for m in a], [m.group() for m in b]
    matcher = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    rules, seen = [], set()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # One token of context each side; two on the left, else the right, when one is only
        # punctuation (which matches anywhere).
        for before, after_ in ((1, 1), (2, 1), (1, 2), (2, 2)):
            left = ta[max(0, i1 - before) : i1]
            right = ta[i2 : i2 + after_]
            context = left + ta[i1:i2] + right
            if any(re.match(r"\w", t) for t in context):
                break
        if not (left and right):
            return []  # whole lines inserted or deleted: the lines and move generators' job
        if not any(re.match(r"\w", t) for t in context):
            return []  # a part of the change would be lost: the whole transformation or none
        if tb[j1 - len(left) : j1] != left or tb[j2 : j2 + len(right)] != right:
            return []  # the context runs into another change
        key = (tuple(left), tuple(ta[i1:i2]), tuple(right), tuple(tb[j1:j2]))
        if key in seen:
            continue
        seen.add(key)
        # The new middle as typed: from the end of the left context to the start of the right.
        start, end = b[j1 - 1].end(), b[j2].start()
        middle = new[start:end]
        pattern = re.compile(_bounded(context, _joined(context)))
        # The context as it stood (two tokens: their spacing kept), the middle as typed.
        head = new[b[j1 - len(left)].start() : start]
        tail = new[end : b[j2 + len(right) - 1].end()]
        rules.append((pattern, head + middle + tail))
        if len(rules) > MAX_RULES:
            return []
    return rules


def _balance(old: str, new: str) -> bool:
    """Whether an edit leaves each kind of bracket as balanced as it was."""
    return all(
        old.count(a) - old.count(b) == new.count(a) - new.count(b) for a, b in ("()", "[]", "{}")
    )


def _apply(rules, text: str) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(lambda _m, r=replacement: r, text)
    return text


def analog_places(event: dict, cells: Sequence[dict], cursor_cell: str, offset: int, kind: str):
    """The edits of the next MAX_PLACES runs of lines (from the cursor on) where the event's token
    rules match, all rules applied on each run; and how many runs matched (up to 10)."""
    rules = token_rules(event["before"], event["after"])
    if not rules:
        return [], 0
    balance = _balance(*_line_span(event["before"], event["after"]))
    found, count = [], 0
    for cell, start in places_for(cells, cursor_cell, offset, kind):
        source = cell["source"]
        pos = start
        while count < 10:
            hits = [m for p, _ in rules if (m := p.search(source, pos)) is not None]
            if not hits:
                break
            first = min(m.start() for m in hits)
            line_start = source.rfind("\n", 0, first) + 1
            end = source.find("\n", first)
            end = len(source) if end < 0 else end + 1
            # A match may span lines (a rule over a line break): take the lines it covers.
            end = max([end] + [m.end() for m in hits if m.start() == first])
            while end < len(source):
                nxt = source.find("\n", end)
                nxt = len(source) if nxt < 0 else nxt + 1
                if not any(p.search(source[end:nxt]) for p, _ in rules):
                    break
                end = nxt
            head = source[line_start:first]
            run = head + _apply(rules, source[first:end])
            # The whole transformation, not a part of it (a half-rewritten call), its brackets
            # balanced as the user's were.
            whole = all(p.search(source, line_start, end) for p, _ in rules)
            whole = whole and _balance(source[line_start:end], run) == balance
            count += whole
            if whole and run != source[line_start:end] and len(found) < MAX_PLACES:
                found.append(
                    [{"cell_id": cell["id"], "source": source[:line_start] + run + source[end:]}]
                )
            pos = max(end, first + 1)
        if count >= 10:
            break
    return found, count


# -- an argument added to a call, added to the same function's other calls ---------------------

_CALLEE = re.compile(r"([A-Za-z_][\w.]*)\s*\Z")
_DEFINES = re.compile(r"\b(?:def|class)\s+[\w.]*\Z")
_KEYWORD = re.compile(r",\s*(\w+)\s*=")
_STRING = re.compile(r"'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"")


def _open_paren(text: str, at: int) -> int:
    """The index of the unmatched ``(`` before ``at``, or -1."""
    depth = 0
    for i in range(at - 1, -1, -1):
        char = text[i]
        if char in ")]}":
            depth += 1
        elif char in "([{":
            if depth == 0:
                return i if char == "(" else -1
            depth -= 1
    return -1


def _close_paren(text: str, at: int) -> int:
    """The index of the ``)`` closing the ``(`` at ``at`` (strings skipped), or -1."""
    depth, i = 0, at
    while i < len(text):
        char = text[i]
        if char in "'\"":
            match = _STRING.match(text, i)
            i = match.end() if match else i + 1
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return i if char == ")" else -1
        i += 1
    return -1


def argument_edit(before: str, after: str) -> tuple[re.Pattern, str, str | None] | None:
    """(the callee's pattern, the argument text inserted, its keyword or None) when the edit
    appended an argument to a call (``, alpha=0.5`` before its closing parenthesis)."""
    start, end = _ends(before, after)
    if len(before) - end != start:
        return None  # not a pure insertion
    inserted = after[start : len(after) - end]
    if not inserted.lstrip().startswith(",") or len(inserted) > 200 or "\n" in inserted:
        return None
    if _close_paren("(" + inserted.lstrip()[1:] + ")", 0) != len(inserted.lstrip()):
        return None  # unbalanced
    if not after[start + len(inserted) :].lstrip(" ").startswith(")"):
        return None
    paren = _open_paren(after, start)
    if paren < 0:
        return None
    callee = _CALLEE.search(after, 0, paren)
    if callee is None or _DEFINES.search(after, 0, callee.start()):
        return None  # a parameter added to a definition, not an argument to a call
    if any(a <= start < b for a, b in literal_spans(after)):
        return None  # inside a string or a comment
    name = callee.group(1)
    if "." in name:
        pattern = re.compile(r"\." + re.escape(name.rsplit(".", 1)[1]) + r"\s*\(")
    else:
        pattern = re.compile(r"(?<![\w.])" + re.escape(name) + r"\s*\(")
    keyword = _KEYWORD.match(inserted)
    return pattern, inserted, keyword.group(1) if keyword else None


def argument_places(event: dict, cells: Sequence[dict], cursor_cell: str, offset: int):
    """The argument the last edit appended to a call, appended to the same function's next calls
    that lack it (one candidate per call, the next MAX_PLACES), and how many such calls there are."""
    found_edit = argument_edit(event["before"], event["after"])
    if found_edit is None:
        return [], 0
    pattern, inserted, keyword = found_edit
    has = re.compile(r"(?<!\w)" + re.escape(keyword) + r"\s*=(?!=)") if keyword else None
    found, count = [], 0
    for cell, start in places_for(cells, cursor_cell, offset, "code"):
        if cell.get("cell_type", "code") != "code":
            continue
        source = cell["source"]
        literals = literal_spans(source)
        for match in pattern.finditer(source, start):
            if _DEFINES.search(source, 0, match.start() + 1) or any(
                a <= match.start() < b for a, b in literals
            ):
                continue
            close = _close_paren(source, match.end() - 1)
            if close < 0:
                continue
            args = source[match.end() : close]
            if inserted.strip() in args or (has is not None and has.search(args)):
                continue
            if args.rstrip().endswith(","):
                continue  # a trailing comma's style: left to the user
            text = inserted.lstrip(", ") if not args.strip() else inserted
            at = match.end() + len(args.rstrip())
            count += 1
            if len(found) < MAX_PLACES:
                found.append([{"cell_id": cell["id"], "source": source[:at] + text + source[at:]}])
    return found, count


# -- import lines deleted here, put back where the other imports stand -------------------------

_IMPORT = re.compile(r"(?:from\s+([\w.]+)\s+import\b|import\s+([\w.]+))")


def _module(line: str) -> tuple[bool, str] | None:
    """An import line's sort key (``import`` lines before ``from`` lines, then the module, as
    isort's default and black's own imports), None for another line."""
    match = _IMPORT.match(line)
    if match is None:
        return None
    return bool(match.group(1)), (match.group(1) or match.group(2)).lower()


def unmove_places(event: dict, cells: Sequence[dict], cursor_cell: str):
    """Import lines the last edit deleted, inserted at their sorted place in each other block of
    imports (nearest the edit first, up to MAX_PLACES)."""
    old, new = _line_span(event["before"], event["after"])
    lines = [line for line in old.split("\n") if line.strip()]
    if new.strip() or not lines or len(lines) > 4:
        return []
    if any(line != line.lstrip() or _module(line) is None for line in lines):
        return []
    key = _module(lines[0])
    order = [c["id"] for c in cells]
    here = order.index(event["cell_id"]) if event["cell_id"] in order else 0
    found = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type", "code") != "code":
            continue
        source = cell["source"].split("\n")
        if any(line in source for line in lines):
            continue
        i = 0
        while i < len(source):
            if _module(source[i]) is None:
                i += 1
                continue
            block_start = i
            while i < len(source) and _module(source[i]) is not None:
                i += 1
            block = source[block_start:i]
            at = next((block_start + k for k, line in enumerate(block) if _module(line) > key), i)
            edited = source[:at] + lines + source[at:]
            if cell["id"] == event["cell_id"] and "\n".join(edited) == event["before"]:
                continue  # the deletion undone
            # A block the line sorts into (not at its end) first, then the nearest.
            inside = block_start < at < i or (at == block_start and i - block_start > 1)
            line = event["before"].count("\n", 0, event["before"].find(old)) if index == here else 0
            distance = (not inside, abs(index - here), abs(at - line))
            found.append((distance, [{"cell_id": cell["id"], "source": "\n".join(edited)}]))
    found.sort(key=lambda item: item[0])
    return [edits for _, edits in found[:MAX_PLACES]]
