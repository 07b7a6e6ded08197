"""The prefix and suffix a fill-in-the-middle model completes between, from a notebook.

The notebook is shown as the one file code models were trained on (nextedit/notebook_file.py's
rendering: the percent format, ``# %%`` before each cell, markdown cells as comments): the cells
above the cursor's cell and its text up to the cursor make the prefix, the rest of the cell and
the cells below the suffix. For a kernel language other than Python the language's line comment
takes the place of ``#`` (``// %%``, as jupytext writes such scripts); for a language whose
comment is not known here the cells are joined without markers and markdown is left out. A
notebook of one cell is just that cell's text.

Within ``budget_tokens`` (counted with ``count_tokens``) the text nearest the cursor is kept: the
prefix is cut from its start, the suffix from its end, both at line boundaries; the cursor's own
line is kept whole when it fits. The suffix gets at most a quarter of the budget when the prefix
needs the rest, and whatever the prefix leaves. A cursor's line longer than the whole budget (a
data literal pasted in a cell) is cut around the cursor by the same shares: a model is never sent
megabytes at a keystroke.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..nextedit.context import estimate_tokens
from ..nextedit.notebook_file import _render

TokenCounter = Callable[[str], int]

# The suffix's share of the budget when the prefix would use all of it.
SUFFIX_SHARE = 0.25
# Text further than this many characters per budget token from the cursor is never counted: no
# tokenizer packs more into a token, so it could not fit anyway (it bounds the counting work).
MAX_CHARS_PER_TOKEN = 24

# Line comments of kernel languages (lowercase, as a kernel's language_info.name says them).
_HASH = ("python", "r", "julia", "ruby", "perl", "bash", "sh", "shell", "zsh", "powershell")
_HASH += ("nim", "crystal", "elixir", "coconut", "sage", "octave-hash", "tcl", "make")
_SLASH = ("javascript", "typescript", "java", "c", "c++", "cpp", "c#", "csharp", "go", "rust")
_SLASH += ("scala", "kotlin", "swift", "dart", "groovy", "php", "f#", "fsharp", "zig", "d")
_DASH = ("sql", "lua", "haskell", "ada", "elm", "idris", "agda", "purescript")
_PERCENT = ("matlab", "octave", "erlang", "prolog", "tex", "latex", "wolfram language")
_SEMI = ("clojure", "scheme", "racket", "common lisp", "lisp", "hy")
COMMENTS: dict[str, str] = {
    **dict.fromkeys(_HASH, "#"),
    **dict.fromkeys(_SLASH, "//"),
    **dict.fromkeys(_DASH, "--"),
    **dict.fromkeys(_PERCENT, "%"),
    **dict.fromkeys(_SEMI, ";;"),
}


def line_comment(language: str | None) -> str | None:
    """The line comment of a kernel language; ``#`` when none is given; None when unknown."""
    if not language:
        return "#"
    return COMMENTS.get(language.strip().lower())


def _cell_text(cell: dict, comment: str | None) -> tuple[str, str, str] | None:
    """(header, body, end) of a cell in the file, as notebook_file renders it, with ``comment``
    in place of ``#``; None for a cell left out (raw cells; markdown without a comment)."""
    kind = cell.get("cell_type", "code")
    if kind == "raw" or (kind == "markdown" and comment is None):
        return None
    header, body, end = _render({**cell, "cell_type": kind})
    if comment is None:
        return "", body, end
    if comment != "#":
        header = comment + header[1:]
        if kind == "markdown":  # every rendered line starts with the "#" of its comment
            body = "".join(comment + line[1:] for line in body.splitlines(keepends=True))
    return header, body, end


def notebook_text(
    cells: Sequence[dict], cursor_cell_id: str, offset: int, language: str | None = "python"
) -> tuple[str, str]:
    """The whole (prefix, suffix) around ``offset`` in the cursor's cell, not yet budgeted."""
    index = next((i for i, c in enumerate(cells) if c["id"] == cursor_cell_id), None)
    if index is None:
        raise KeyError(f"no cell {cursor_cell_id!r} in the notebook")
    cell = cells[index]
    source = cell["source"]
    offset = min(max(int(offset), 0), len(source))
    if len(cells) == 1:
        return source[:offset], source[offset:]
    comment = line_comment(language)
    before: list[str] = []
    for other in cells[:index]:
        parts = _cell_text(other, comment)
        if parts is not None:
            before.extend(parts)
    # The cursor's cell is shown as code whatever its type: its text is what is completed.
    shown = _cell_text({**cell, "cell_type": "code"}, comment)
    assert shown is not None  # a code cell is always shown
    header, _, end = shown
    after = [source[offset:], end]
    for other in cells[index + 1 :]:
        parts = _cell_text(other, comment)
        if parts is not None:
            after.extend(parts)
    return "".join(before) + header + source[:offset], "".join(after)


def _fit(lines: list[str], budget: int, count: TokenCounter) -> int:
    """How many of ``lines`` (nearest the cursor first) fit in ``budget`` tokens together: the
    largest ``n`` with ``count(lines[:n])`` within it, by bisection (a tokenizer call each)."""
    low, high = 0, len(lines)
    while low < high:
        middle = (low + high + 1) // 2
        if count("".join(lines[:middle])) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def _split_prefix(prefix: str, limit: int) -> tuple[str, list[str]]:
    """(the cursor's line up to the cursor, the whole lines above it nearest first), the latter
    never reaching further than ``limit`` characters from the cursor."""
    start = prefix.rfind("\n") + 1
    above = prefix[max(0, start - limit) : start]
    lines = above.splitlines(keepends=True)
    if start > limit and lines:
        lines = lines[1:]  # a line cut by the limit is not a whole line
    return prefix[start:], lines[::-1]


def _split_suffix(suffix: str, limit: int) -> tuple[str, list[str]]:
    """(the rest of the cursor's line with its line break, the whole lines below nearest first)."""
    end = suffix.find("\n") + 1 or len(suffix)
    below = suffix[end : end + limit]
    lines = below.splitlines(keepends=True)
    if len(suffix) - end > limit and lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    return suffix[:end], lines


def _fit_chars(text: str, budget: int, count: TokenCounter, from_end: bool) -> str:
    """The longest end (``from_end``) or start of ``text`` within ``budget`` tokens."""
    if budget <= 0:
        return ""
    limit = budget * MAX_CHARS_PER_TOKEN  # what no tokenizer packs in fewer tokens
    text = text[-limit:] if from_end else text[:limit]
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count(text[len(text) - middle :] if from_end else text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return text[len(text) - low :] if from_end else text[:low]


def _cut_line(head: str, tail: str, budget: int, count: TokenCounter) -> tuple[str, str]:
    """The cursor's line, over the whole budget, cut around the cursor: the text after it to its
    share, the text before it to the rest, the text after it to what that leaves."""
    share = _fit_chars(tail, int(budget * SUFFIX_SHARE), count, from_end=False)
    head = _fit_chars(head, budget - (count(share) if share else 0), count, from_end=True)
    rest = budget - (count(head) if head else 0)
    return head, _fit_chars(tail, rest, count, from_end=False)


def fit_budget(
    prefix: str,
    suffix: str,
    budget_tokens: int,
    count_tokens: TokenCounter = estimate_tokens,
) -> tuple[str, str]:
    """``prefix`` cut from its start and ``suffix`` from its end, at line boundaries, so that both
    fit ``budget_tokens`` together; the cursor's line is kept whole unless it alone is over."""
    limit = max(0, budget_tokens) * MAX_CHARS_PER_TOKEN
    head, above = _split_prefix(prefix, limit)
    tail, below = _split_suffix(suffix, limit)
    # A line longer than ``limit`` is over any tokenizer's budget: cut without counting it all.
    left = budget_tokens - count_tokens(head + tail) if len(head + tail) <= limit else -1
    if left < 0:
        return _cut_line(head, tail, max(0, budget_tokens), count_tokens)
    if left == 0:
        return head, tail
    # The suffix's lines first get their share (or less, when they need less); the prefix then
    # takes what is left, and the suffix whatever the prefix did not use.
    suffix_share = int(left * SUFFIX_SHARE)
    kept_below = _fit(below, suffix_share, count_tokens) if below else 0
    used_below = count_tokens("".join(below[:kept_below])) if kept_below else 0
    kept_above = _fit(above, left - used_below, count_tokens) if above else 0
    if kept_below < len(below):
        used_above = count_tokens("".join(above[:kept_above])) if kept_above else 0
        kept_below = _fit(below, left - used_above, count_tokens)
    return "".join(reversed(above[:kept_above])) + head, tail + "".join(below[:kept_below])


def completion_prompt(
    cells: Sequence[dict],
    cursor_cell_id: str,
    offset: int,
    language: str | None = "python",
    count_tokens: TokenCounter = estimate_tokens,
    budget_tokens: int = 2048,
) -> tuple[str, str]:
    """(prefix, suffix) for a FIM format's ``render``: the notebook around the cursor (``offset``
    in the source of cell ``cursor_cell_id``; cells are ``{"id", "cell_type", "source"}``) as one
    file, within ``budget_tokens``. KeyError when the cell is not in ``cells``."""
    prefix, suffix = notebook_text(cells, cursor_cell_id, offset, language)
    return fit_budget(prefix, suffix, budget_tokens, count_tokens)
