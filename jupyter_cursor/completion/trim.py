"""What of a model's middle is shown as ghost text: its first block, nothing the suffix already has.

A completion model often writes past what the user wants shown: the next statement, the next
function, or the text after the cursor all over again. ``trim_completion`` keeps the part a Tab
should insert, by these rules, in order:

1. **Nothing that repeats what follows the cursor.** A completion whose first line is the rest
   of the cursor's line, or which the suffix already begins with, is empty.
2. **Inside a line, one line.** When the cursor's line goes on after the cursor (an auto-closed
   bracket, the middle of an expression), only the completion's first line is kept; so too when
   the user began the line and the completion's first line ends it as a whole simple statement
   (brackets closed, no ``:`` opening a block): the next statement was not asked for.
3. **Rejoining the suffix.** A line of the completion (past its first) equal to the suffix's next
   non-blank line is where the model copies what follows: the completion stops before it.
4. **The end of the block.** The cursor's line sets the block's indentation (its own, or that of
   the completion's first line when the cursor's line is blank): the completion stops before a
   line indented less (a dedent out of the block), and at a blank line followed by a line at the
   block's indentation or less (the next statement after the block).
5. **The tail that is the suffix's head is cut.** Across lines always (the model rejoined the
   text below); within the cursor's line when cutting leaves the line's brackets and quotes no
   less balanced and is either the whole rest of the line or makes them more balanced: after
   ``print(f(`` with ``)`` after the cursor, ``x)`` stays (``print(f(x))``), while after
   ``print(`` it becomes ``x``.
6. Trailing whitespace-only lines are dropped, and a completion of whitespace only is empty.

The rules read indentation and brackets only, so they hold for any language laid out by its
indentation, Python first.
"""

from __future__ import annotations

_OPENERS = {")": "(", "]": "[", "}": "{"}


def _width(line: str) -> int:
    """The indentation of ``line`` in columns (a tab counts as 4)."""
    stripped = line.lstrip(" \t")
    return len(line[: len(line) - len(stripped)].expandtabs(4))


def _imbalance(line: str) -> int:
    """Unmatched brackets plus unclosed quote kinds in ``line``: how far it is from balanced."""
    stack: list[str] = []
    unmatched = 0
    for char in line:
        if char in "([{":
            stack.append(char)
        elif char in _OPENERS:
            if stack and stack[-1] == _OPENERS[char]:
                stack.pop()
            else:
                unmatched += 1
    quotes = sum(line.count(q) % 2 for q in ("'", '"'))
    return unmatched + len(stack) + quotes


def _block_end(lines: list[str], line_start: str) -> int:
    """How many of ``lines`` stay in the cursor's block (rule 4)."""
    first = line_start + lines[0]
    if first.strip():
        base = _width(first)
    else:
        base = next((_width(line) for line in lines[1:] if line.strip()), 0)
    for i in range(1, len(lines)):
        line = lines[i]
        if line.strip():
            if _width(line) < base:
                return i
            continue
        after = next((other for other in lines[i + 1 :] if other.strip()), None)
        if after is not None and _width(after) <= base:
            return i
    return len(lines)


def _same_line_tail(text: str, line_start: str, rest: str) -> str:
    """``text`` without a tail that the rest of the cursor's line begins with (rule 5, in a line)."""
    for k in range(min(len(text), len(rest)), 0, -1):
        head = rest[:k]
        if not head.strip() or not text.endswith(head):
            continue
        kept = line_start + text + rest
        cut = line_start + text[:-k] + rest
        before, after = _imbalance(kept), _imbalance(cut)
        if after < before or (k == len(rest) and after <= before):
            return text[:-k]
    return text


def _cross_line_tail(text: str, suffix: str) -> str:
    """``text`` without a tail, reaching across a line break, that ``suffix`` begins with."""
    for k in range(min(len(text), len(suffix)), 0, -1):
        head = suffix[:k]
        if "\n" in head and head.strip() and text.endswith(head):
            return text[:-k]
    return text


def _ends_statement(line: str) -> bool:
    """A line that is a whole simple statement: its brackets balanced, opening no block."""
    code = line.rstrip()
    return bool(code) and _imbalance(code) == 0 and not code.endswith((":", "\\", ","))


def trim_completion(text: str, prefix: str, suffix: str) -> str:
    """The part of ``text``, a model's middle between ``prefix`` and ``suffix``, to show."""
    text = text.replace("\r\n", "\n")
    if not text.strip():
        return ""
    line_start = prefix[prefix.rfind("\n") + 1 :]  # the cursor's line up to the cursor
    rest = suffix.split("\n", 1)[0]  # and after it
    lines = text.split("\n")
    # 1. Nothing that repeats what follows.
    if suffix.startswith(text) or (rest.strip() and lines[0].rstrip() == rest.rstrip()):
        return ""
    # 2. Inside a line, one line; and a line begun that the first line ends as a whole simple
    # statement (brackets closed, no block opened) ends there: the next statement is not asked.
    if rest.strip() or (line_start.strip() and _ends_statement(line_start + lines[0])):
        lines = lines[:1]
    # 3. Rejoining the suffix's next line.
    following = next((line for line in suffix.split("\n")[1:] if line.strip()), None)
    if following is not None:
        for i in range(1, len(lines)):
            if lines[i].rstrip() == following.rstrip():
                lines = lines[:i]
                break
    # 4. The end of the block.
    lines = lines[: _block_end(lines, line_start)]
    # 6. Trailing whitespace-only lines.
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    text = "\n".join(lines)
    # 5. The suffix's head at the tail.
    if rest.strip():
        text = _same_line_tail(text, line_start, rest)
    else:
        text = _cross_line_tail(text, suffix)
        lines = text.split("\n")
        while len(lines) > 1 and not lines[-1].strip():
            lines.pop()
        text = "\n".join(lines)
    return text if text.strip() else ""
