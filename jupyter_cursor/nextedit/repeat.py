"""Repeat the user's last edit at the next place it applies: the same whole words replaced the
same way (a repeated argument change, a renamed call, a fixed typo), after the cursor in its cell,
else in a code cell below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .places import kind_of, next_run, places_for
from .spans import changed_span, word_span

IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")


def pattern_of(old: str) -> re.Pattern:
    """``old`` where it stands as whole words (not inside a longer identifier)."""
    left = r"(?<!\w)" if old[:1].isalnum() or old[:1] == "_" else ""
    right = r"(?!\w)" if old[-1:].isalnum() or old[-1:] == "_" else ""
    return re.compile(left + re.escape(old) + right)


# Python string literals (prefixes, triple quotes, escapes) and comments, scanned left to right so
# that a quote inside a comment or a hash inside a string is what it is there.
_LITERAL = re.compile(
    r"(?P<string>(?:[rRbBfFuU]{1,2})?"
    r"(?:\"\"\"(?:\\.|[^\\])*?(?:\"\"\"|\Z)|'''(?:\\.|[^\\])*?(?:'''|\Z)"
    r"|\"(?:\\.|[^\"\\\n])*(?:\"|$)|'(?:\\.|[^'\\\n])*(?:'|$)))"
    r"|(?P<comment>\#[^\n]*)",
    re.MULTILINE,
)


def literal_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of the string literals and comments of ``text`` (Python's syntax)."""
    return [match.span() for match in _LITERAL.finditer(text)]


def _outside(spans: list[tuple[int, int]], match: re.Match) -> bool:
    return not any(start <= match.start() < end for start, end in spans)


class CodePattern:
    """A pattern that matches only outside string literals and comments: an identifier renamed in
    code is renamed as an identifier, not in ``'report.txt'`` or a comment. It answers ``search``
    and ``sub`` as a compiled pattern does."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern

    def search(self, text: str, pos: int = 0) -> re.Match | None:
        spans = literal_spans(text)
        return next((m for m in self.pattern.finditer(text, pos) if _outside(spans, m)), None)

    def sub(self, repl, text: str) -> str:
        spans = literal_spans(text)

        def replace(match: re.Match) -> str:
            if not _outside(spans, match):
                return match.group(0)
            return repl(match) if callable(repl) else repl

        return self.pattern.sub(replace, text)


def patterns_for(event: dict, old: str, new: str) -> list:
    """Where ``old`` is to be changed again, in the order to look: an identifier the user changed
    in code (the new name stands outside literals in the edited text) first where it is code, and
    only then in strings and comments (renaming ``report`` proposed ``'report.txt'`` first); any
    other change anywhere as whole words (a file name changed in a string goes on in strings)."""
    pattern = pattern_of(old)
    if IDENTIFIER.match(old) and IDENTIFIER.match(new):
        if CodePattern(pattern_of(new)).search(event["after"]) is not None:
            return [CodePattern(pattern), pattern]
    return [pattern]


def repeatable(before: str, after: str) -> tuple[str, str] | None:
    """(old, new) whole words of an edit worth repeating, or None.

    Measured on nes_train (benchmarks/eval_nextedit.py, where a repeat is right about half the
    time): edits that span lines are rarely repeated (8% right), and a pure insertion only when it
    completes a word (``violin`` → ``violinplot``: 72% right; other insertions: 3%).
    """
    old, new = word_span(before, after)
    if not old.strip() or "\n" in old:
        return None
    inserted_only = not changed_span(before, after)[0].strip()
    if inserted_only and not (IDENTIFIER.match(old) and IDENTIFIER.match(new)):
        return None
    return old, new


def repeat_next(event: dict, cells: Sequence[dict], cursor_cell: str, offset: int) -> list[dict]:
    """The event's change made again at its next place ([] when there is none)."""
    edit = repeatable(event["before"], event["after"])
    if edit is None:
        return []
    old, new = edit
    kind = kind_of(cells, event["cell_id"])
    for pattern in patterns_for(event, old, new):
        for cell, start in places_for(cells, cursor_cell, offset, kind):
            source = next_run(pattern, new, cell["source"], start)
            if source is not None:
                return [{"cell_id": cell["id"], "source": source}]
    return []
