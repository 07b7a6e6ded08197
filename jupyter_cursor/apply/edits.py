"""The edit formats models write, each as (old lines → new lines) replacements or a lazy snippet.

- SEARCH/REPLACE blocks (aider): the SEARCH lines, found in one cell, become the REPLACE lines.
- Unified diffs: each hunk's context and removed lines become its context and added lines; the
  ``@@`` line numbers are ignored (models get them wrong).

Lazy snippets (concrete lines with elision markers standing for unchanged lines) are merged by
``lazy``; their names are re-exported here so callers have one module for the formats.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .lazy import LazyResult, merge_lazy
from .markers import has_markers, is_marker
from .matching import (
    Match,
    indent_of,
    is_trivial,
    keep_original_text,
    reindent,
    strip_blank_edges,
    trim_blank_edges,
)


@dataclass(frozen=True)
class Replacement:
    old: list[str]
    new: list[str]
    # A diff hunk's context lines are in both texts, so one it lost is lost from both: the cell's
    # line must be kept. (A SEARCH that lost a line still has it in its REPLACE.)
    shared_context: bool = False
    # Where a diff hunk says it starts in the new text (0-based; often off by a few lines): only
    # to choose between equally good places far apart, never to place a hunk on its own.
    hint: int | None = None


# -- SEARCH/REPLACE ---------------------------------------------------------------------------------

_SR = re.compile(
    r"^<{5,9} ?SEARCH[^\n]*\n(?P<search>.*?)^={5,9}[ \t]*\n(?P<replace>.*?)^>{5,9} ?REPLACE[^\n]*$",
    re.MULTILINE | re.DOTALL,
)


def is_search_replace(code: str) -> bool:
    return "SEARCH" in code and _SR.search(code + "\n") is not None


def parse_search_replace(code: str) -> list[Replacement]:
    out = []
    for m in _SR.finditer(code + "\n"):
        out.append(Replacement(_lines(m["search"]), _lines(m["replace"])))
    return out


def _lines(text: str) -> list[str]:
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n") if text else []


# -- unified diffs ----------------------------------------------------------------------------------

_HUNK = re.compile(r"^@@.*@@")
_NEW_START = re.compile(r"\+(\d+)")


def is_udiff(code: str, language: str) -> bool:
    lines = code.split("\n")
    return (
        language in ("diff", "patch", "udiff")
        or any(_HUNK.match(l) for l in lines)
        or (len(lines) > 2 and lines[0].startswith("--- ") and lines[1].startswith("+++ "))
    )


def parse_udiff(code: str) -> list[Replacement]:
    hunks: list[Replacement] = []
    old: list[str] = []
    new: list[str] = []
    hint: list[int | None] = [None]

    def flush():
        if old or new:
            hunks.append(Replacement(list(old), list(new), shared_context=True, hint=hint[0]))
        old.clear()
        new.clear()

    for line in code.split("\n"):
        if line.startswith(("--- ", "+++ ", "diff --git", "index ")) and not (old or new):
            continue
        if _HUNK.match(line):
            flush()
            start = _NEW_START.search(line)
            hint[0] = max(0, int(start[1]) - 1) if start else None
            continue
        if line.startswith("\\"):  # "\ No newline at end of file"
            continue
        if line.startswith("+"):
            new.append(line[1:])
        elif line.startswith("-"):
            old.append(line[1:])
        else:
            # A context line; a model (or a trimmed answer) may drop the leading space of a blank.
            text = line[1:] if line.startswith(" ") else line
            old.append(text)
            new.append(text)
    flush()
    # Trailing blank context lines are usually the answer's own spacing, not the file's.
    return [_trim_common_blank_tail(h) for h in hunks]


def _trim_common_blank_tail(h: Replacement) -> Replacement:
    old, new = list(h.old), list(h.new)
    while old and new and not old[-1].strip() and not new[-1].strip():
        old.pop()
        new.pop()
    return Replacement(old, new, h.shared_context, h.hint)


# -- applying a replacement at a match ----------------------------------------------------------------


def replace_at(lines: list[str], match: Match, rep: Replacement) -> list[str]:
    """`lines` with the matched region replaced by `rep.new`, indented to fit the cell; lines the
    new text shares with the region keep the cell's own text (trailing whitespace included)."""
    new = _fitted_new(rep, match)
    if match.rung == "fuzzy" and rep.shared_context:
        new = _restore_dropped(lines[match.start : match.end], strip_blank_edges(rep.old), new)
    start, end = widen(lines, match, rep)
    if not rep.shared_context:
        start, end, new = _blank_edges(lines, start, end, rep, strip_blank_edges(new), match)
    return lines[:start] + keep_original_text(lines[start:end], new) + lines[end:]


def _blank_edges(lines, start, end, rep, core, match):
    """A SEARCH/REPLACE block's blank edge lines are layout around the match. The SEARCH side
    shows the cell's blank lines nearest the match (a run of many may be shown in part), so the
    run changes by the difference between the two sides: 3 blank lines with SEARCH 2 and REPLACE 5
    become 6. But a REPLACE showing just as many as the cell has keeps that number: its SEARCH
    lost one (counted apart, a third blank line appeared between two functions). Blank lines the
    SEARCH shows and the cell lacks are not there to remove. A side widened over a lost context
    line has its blank lines inside the region already."""
    old_lead, old_trail = trim_blank_edges(rep.old)
    new_lead, new_trail = trim_blank_edges(rep.new)
    if start != match.start:
        old_lead = new_lead = 0
    if end != match.end:
        old_trail = new_trail = 0

    def count(available: int, old: int, new: int) -> int:
        if available == new > old:
            return available
        return available + new - old if available >= old else available + max(0, new - old)

    before = 0
    while before < start and not lines[start - 1 - before].strip():
        before += 1
    after = 0
    while end + after < len(lines) and not lines[end + after].strip():
        after += 1
    lead, trail = count(before, old_lead, new_lead), count(after, old_trail, new_trail)
    # The cell's own blank lines (whitespace and all) as far as their number allows.
    head = (lines[start - before : start] + [""] * lead)[:lead]
    tail = (lines[end : end + after] + [""] * trail)[:trail]
    return start - before, end + after, head + core + tail


def _restore_dropped(window: list[str], old: list[str], new: list[str]) -> list[str]:
    """Lines of the matched window that the old text lacks (context lines the model dropped) go
    back into the new text, next to the kept line they stood by: after the previous one, or,
    when that one was removed, before the next one (a line dropped between a changed line and
    the context after it follows the change; put after the context before, it landed above it)."""
    norm = lambda lines: [l.strip() for l in lines]  # noqa: E731
    old_in_window = difflib.SequenceMatcher(None, norm(old), norm(window), autojunk=False)
    # Old and new come from one diff, indented alike: a removed line re-indented in the new text
    # (`x()` under a new `if`) is not the same line.
    old_in_new = difflib.SequenceMatcher(None, old, new, autojunk=False)
    missing = len(window) - len(old)  # only a window longer than the old text lost lines
    if missing <= 0:
        return new
    window_to_old = {
        b + k: a + k for a, b, n in old_in_window.get_matching_blocks() for k in range(n)
    }
    old_to_new = {a + k: b + k for a, b, n in old_in_new.get_matching_blocks() for k in range(n)}
    kept = [
        old_to_new.get(window_to_old[w]) if w in window_to_old else None for w in range(len(window))
    ]
    inserts: dict[int, list[str]] = {}  # new index -> dropped lines that go before it
    for w, line in enumerate(window):
        if w in window_to_old or missing <= 0:
            continue
        before = next((w2 for w2 in range(w - 1, -1, -1) if w2 in window_to_old), None)
        after = next((w2 for w2 in range(w + 1, len(window)) if w2 in window_to_old), None)
        if before is None:
            continue  # nothing of the old text before it: not inside the edit
        # A blank line separates what follows it (the added lines go above it); a line of code
        # follows what it stood after.
        next_kept = after is not None and kept[after] is not None
        if kept[before] is not None and not (next_kept and not line.strip()):
            at = kept[before] + 1
        elif next_kept:
            at = kept[after]
        else:  # both neighbours removed: after the last kept line before it
            at = max((k for k in kept[:w] if k is not None), default=-1) + 1
        inserts.setdefault(at, []).append(line)
        missing -= 1
    if not inserts:
        return new
    out = []
    for i, line in enumerate(new):
        out.extend(inserts.get(i, []))
        out.append(line)
    out.extend(inserts.get(len(new), []))
    return out


def _fitted_new(rep: Replacement, match: Match) -> list[str]:
    # The match covers the old lines without their blank edges: drop as many from the new ones.
    lead, trail = trim_blank_edges(rep.old)
    new_lead, new_trail = trim_blank_edges(rep.new)
    new = rep.new[min(lead, new_lead) : len(rep.new) - min(trail, new_trail)]
    return reindent(new, match.indent)


def widen(lines: list[str], match: Match, rep: Replacement) -> tuple[int, int]:
    """The region to replace: the match, grown over context lines that the old text lost but the
    new text kept (they would be doubled otherwise): new lines before the first (after the last)
    line the two texts share that equal the cell's lines just before (after) the match. The lost
    line may stand at the outer edge of the new text (`C` + added + shared) or next to the shared
    lines (shared + `C` + added: a SEARCH that lost its last line)."""
    old = [l.strip() for l in strip_blank_edges(rep.old)]
    new = [l.strip() for l in strip_blank_edges(rep.new)]
    start, end = match.start, match.end
    shared = [
        (a, b)
        for a, b, n in difflib.SequenceMatcher(None, old, new, autojunk=False).get_matching_blocks()
        if n
        for a, b in [(a, b), (a + n - 1, b + n - 1)]
    ]
    if shared:
        head = [l for l in new[: shared[0][1]] if l]
        tail = [l for l in new[shared[-1][1] + 1 :] if l]
    else:
        # Nothing in common: any new line may be a context line that the old text lost (a SEARCH
        # of one deleted line whose REPLACE holds just the line after it), if it says something.
        head = tail = [l for l in new if l] if _says_something(new) else []
    # Next to the shared lines, a line equal to the cell's is as likely new code copying its
    # neighbours: only one that says something, and only where the new text does not itself end
    # (start) as the old one does, nor the old text with a blank line that the cell has there
    # (then the old text lost nothing on that side).
    lead, trail = trim_blank_edges(rep.old)
    blank_before = lead and start > 0 and not lines[start - 1].strip()
    blank_after = trail and end < len(lines) and not lines[end].strip()
    inner_head = bool(old and new) and old[0] != new[0] and not blank_before
    inner_tail = bool(old and new) and old[-1] != new[-1] and not blank_after
    for k in range(len(head), 0, -1):
        j, seen = _nonblank_before(lines, start, k)
        if seen == head[:k] or inner_head and seen == head[-k:] and _says_something(seen):
            start = j
            break
    for k in range(len(tail), 0, -1):
        j, seen = _nonblank_after(lines, end, k)
        if seen == tail[-k:] or inner_tail and seen == tail[:k] and _says_something(seen):
            end = j
            break
    return start, end


def _says_something(lines: list[str]) -> bool:
    return any(not is_trivial(line) for line in lines)


def _nonblank_before(lines: list[str], pos: int, k: int) -> tuple[int, list[str]]:
    seen: list[str] = []
    while pos > 0 and len(seen) < k:
        pos -= 1
        if lines[pos].strip():
            seen.append(lines[pos].strip())
    return pos, seen[::-1]


def _nonblank_after(lines: list[str], pos: int, k: int) -> tuple[int, list[str]]:
    seen: list[str] = []
    while pos < len(lines) and len(seen) < k:
        if lines[pos].strip():
            seen.append(lines[pos].strip())
        pos += 1
    return pos, seen


__all__ = [
    "LazyResult",
    "Replacement",
    "has_markers",
    "indent_of",
    "is_marker",
    "is_search_replace",
    "is_udiff",
    "merge_lazy",
    "parse_search_replace",
    "parse_udiff",
    "replace_at",
    "widen",
]
