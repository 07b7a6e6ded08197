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
from collections import Counter
from dataclasses import dataclass

from .lazy import LazyResult, merge_lazy
from .markdown import SR_CLOSE, SR_DIVIDER, SR_OPEN, closed_later
from .markers import has_markers, is_marker
from .matching import (
    Match,
    indent_of,
    is_trivial,
    keep_original_text,
    reindent,
    similar,
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
    # The file a diff hunk's header names (several files' diffs may share one fence).
    path: str | None = None


# -- SEARCH/REPLACE ---------------------------------------------------------------------------------


def is_sr_marker(line: str) -> bool:
    """A line of SEARCH/REPLACE markup: it is never cell content."""
    return bool(SR_OPEN.match(line) or SR_DIVIDER.match(line) or SR_CLOSE.match(line))


def is_search_replace(code: str) -> bool:
    return any(SR_OPEN.match(line) for line in code.split("\n"))


@dataclass(frozen=True)
class SearchReplace:
    """The SEARCH/REPLACE blocks of a code block, and what could not be read as one."""

    replacements: list[Replacement]
    malformed: int = 0  # a SEARCH with no divider, or markers out of place


def parse_search_replace(code: str) -> SearchReplace:
    """Every block, as models write them: closed by ``>>>>>>> REPLACE``, or by a second divider
    (``=======``), or by the next SEARCH or the end of the code. A divider inside REPLACE is
    content when a closing marker still follows before the next block (an RST underline)."""
    lines = code.split("\n")
    out: list[Replacement] = []
    malformed = 0
    i = 0
    while i < len(lines):
        if not SR_OPEN.match(lines[i]):
            # Stray markers outside a block: markup that lost its other half.
            malformed += bool(SR_DIVIDER.match(lines[i]) or SR_CLOSE.match(lines[i]))
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not (SR_DIVIDER.match(lines[j]) or SR_OPEN.match(lines[j])):
            j += 1
        if j == len(lines) or SR_OPEN.match(lines[j]):
            malformed += 1  # a SEARCH with no divider
            i = j
            continue
        search = lines[i + 1 : j]
        k = j + 1
        while k < len(lines):
            if SR_CLOSE.match(lines[k]) or SR_OPEN.match(lines[k]):
                break
            if SR_DIVIDER.match(lines[k]) and not closed_later(lines, k + 1):
                break
            k += 1
        out.append(Replacement(search, lines[j + 1 : k]))
        i = k + 1 if k < len(lines) and not SR_OPEN.match(lines[k]) else k
    return SearchReplace(out, malformed)


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
    """Each hunk of each file: one fence may hold several files' diffs, each starting at a
    ``--- old`` / ``+++ new`` header pair (a header inside a hunk starts the next file, it is not
    a removed and an added line); a hunk's ``path`` is the new side's file name."""
    hunks: list[Replacement] = []
    old: list[str] = []
    new: list[str] = []
    hint: int | None = None
    path: str | None = None
    lines = code.split("\n")

    def flush():
        if old or new:
            hunks.append(Replacement(list(old), list(new), True, hint, path))
        old.clear()
        new.clear()

    for i, line in enumerate(lines):
        if line.startswith("+++ ") and i > 0 and lines[i - 1].startswith("--- "):
            path = _diff_path(line[4:])
            continue
        if line.startswith("diff --git ") or (
            line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")
        ):
            flush()  # the next file's header, even right after a hunk
            continue
        if line.startswith(("--- ", "+++ ", "diff --git", "index ")) and not (old or new):
            continue
        if _HUNK.match(line):
            flush()
            start = _NEW_START.search(line)
            hint = max(0, int(start[1]) - 1) if start else None
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


def _diff_path(name: str) -> str | None:
    """The file a ``+++`` header names, without git's ``b/`` and a trailing timestamp."""
    name = name.split("\t")[0].strip()
    if name == "/dev/null":
        return None
    return name[2:] if name.startswith(("a/", "b/")) else name


def _trim_common_blank_tail(h: Replacement) -> Replacement:
    old, new = list(h.old), list(h.new)
    while old and new and not old[-1].strip() and not new[-1].strip():
        old.pop()
        new.pop()
    return Replacement(old, new, h.shared_context, h.hint, h.path)


# -- applying a replacement at a match ----------------------------------------------------------------


# What a replacement does to a cell's lines: lines[start:end] become the new lines.
Splice = tuple[int, int, list[str]]


def replace_at(lines: list[str], match: Match, rep: Replacement) -> Splice | None:
    """The matched region and its replacement, `rep.new` indented to fit the cell; lines the new
    text shares with the region keep the cell's own text (trailing whitespace included). None when
    a fuzzy match would remove a line the block does not show (see ``_aligned``)."""
    if match.rung == "fuzzy":
        return _aligned(lines, match, rep)
    new = _fitted_new(rep, match)
    start, end = widen(lines, match, rep)
    if not rep.shared_context:
        start, end, new = _blank_edges(lines, start, end, rep, strip_blank_edges(new), match)
    return start, end, keep_original_text(lines[start:end], new)


def _aligned(lines: list[str], match: Match, rep: Replacement) -> Splice | None:
    """A fuzzy match applied line by line, so that it never invents or swallows a line: the
    block's old lines are aligned with the window's (equal, or similar for context lines); a
    context line takes the cell's text, a removed line takes the cell's line it aligns with, a
    cell line the block does not show stays where it is, and an old line that is in no cell is
    not written (a context line) or has nothing to remove (a removed one; see _removes_unseen). The new lines go between
    the old lines they stood between; a new line equal to a cell line the block did not show is
    that line, not a second copy."""
    old = strip_blank_edges(rep.old)
    lead, trail = trim_blank_edges(rep.old)
    new_lead, new_trail = trim_blank_edges(rep.new)
    new_raw = rep.new[min(lead, new_lead) : len(rep.new) - min(trail, new_trail)]
    new = reindent(new_raw, match.indent)
    window = lines[match.start : match.end]
    pairs = _align(old, window)
    if pairs is None:
        return None
    # old index -> its new index when the line stays; the new lines inserted before an old index
    # (between two old lines), and those that take the place of old lines removed from there.
    kept: dict[int, int] = {}
    inserted: dict[int, list[str]] = {}
    instead: dict[int, list[str]] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, old, new_raw, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            kept.update({i1 + k: j1 + k for k in range(i2 - i1)})
        elif tag == "insert":
            inserted[i1] = new[j1:j2]
        elif tag == "replace":
            instead[i1] = new[j1:j2]
    if _removes_unseen(pairs, kept, window):
        return None
    aligned = [j for i, j in pairs if i is not None and j is not None]
    first, last = min(aligned), max(aligned)
    items: list[tuple[str, str]] = []  # (kind, line): "kept", "added", "unshown" (a cell line)
    unshown: list[str] = []  # cell lines since the last aligned one that the block does not show
    for i, j in pairs:
        if j is not None and not first <= j <= last:
            continue  # outside the aligned span: left as it is, around the region
        if i is None:
            unshown.append(window[j])
            continue
        items += _place_added(unshown, inserted.get(i, []))
        items += [("added", line) for line in instead.get(i, [])]
        unshown = []
        if j is not None and i in kept:
            items.append(("kept", window[j]))
    items += _place_added(unshown, inserted.get(len(old), []))
    # A diff's context lines are in both texts, so a line it lost is in neither: only a SEARCH that
    # lost a line can still have it in its REPLACE.
    out = [line for _, line in items] if rep.shared_context else _drop_shown_twice(items)
    start, end = match.start + first, match.start + last + 1
    if not rep.shared_context:
        start, end, out = _blank_edges(
            lines, start, end, rep, strip_blank_edges(out), Match(match.cell_id, start, end, "")
        )
    return start, end, out


def _removes_unseen(pairs, kept: dict[int, int], window: list[str]) -> bool:
    """A line to remove that the cell does not have, where the cell may have the line it stood
    for: other lines the block does not show, or the block's edge (the cell goes on past it).
    The cell's line would stay next to its replacement. Between two aligned lines with nothing
    of the cell's between them, there is nothing to remove (a line the model imagined)."""
    stretch_has_cell_line = False
    unseen_removal = False
    opened = False  # an aligned line came before this stretch
    for i, j in pairs:
        if i is not None and j is not None:  # an aligned line closes the stretch
            if unseen_removal and (stretch_has_cell_line or not opened):
                return True
            stretch_has_cell_line = unseen_removal = False
            opened = True
        elif i is None:
            stretch_has_cell_line |= bool(window[j].strip())
        elif i not in kept:
            unseen_removal = True
    return unseen_removal  # after the last aligned line: at the block's edge


def _squash(line: str) -> str:
    return "".join(line.split())


def _align(old: list[str], window: list[str]) -> list[tuple[int | None, int | None]] | None:
    """The old lines and the window's in order, as pairs (old index, window index), a side None
    where the other has a line of its own; None when no line that says something aligns."""
    a = [_squash(line) for line in old]
    b = [_squash(line) for line in window]
    pairs: list[tuple[int | None, int | None]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            pairs.extend((i1 + k, j1 + k) for k in range(i2 - i1))
            continue
        # Within a changed stretch, each old line pairs with the next similar window line.
        j = j1
        for i in range(i1, i2):
            found = next((k for k in range(j, j2) if similar(a[i], b[k])), None)
            if found is None:
                pairs.append((i, None))
                continue
            pairs.extend((None, k) for k in range(j, found))
            pairs.append((i, found))
            j = found + 1
        pairs.extend((None, k) for k in range(j, j2))
    if not any(i is not None and j is not None and not is_trivial(old[i]) for i, j in pairs):
        return None
    return pairs


def _place_added(unshown: list[str], added: list[str]) -> list[tuple[str, str]]:
    """Cell lines the block did not show, and the new lines that go at that place: the new lines
    follow the cell's, above the blank lines that close the stretch (a blank line separates what
    follows it)."""
    blank = len(unshown)
    while blank > 0 and not unshown[blank - 1].strip():
        blank -= 1
    return (
        [("unshown", l) for l in unshown[:blank]]
        + [("added", l) for l in added]
        + [("unshown", l) for l in unshown[blank:]]
    )


def _drop_shown_twice(items: list[tuple[str, str]]) -> list[str]:
    """The lines, once each: between two kept lines that say something, a new line equal to a cell line the block did
    not show is that line (a SEARCH that lost a context line its REPLACE still has, a blank line
    included), so the cell's copy goes and the new text's place holds."""
    out: list[str] = []
    stretch: list[tuple[str, str]] = []

    def flush():
        added = Counter(l.strip() for kind, l in stretch if kind == "added")
        for kind, line in stretch:
            if kind == "unshown" and added[line.strip()] > 0:
                added[line.strip()] -= 1
                continue
            out.append(line)
        stretch.clear()

    for kind, line in items:
        if kind == "kept" and line.strip():  # a blank line anchors nothing: which blank is which
            flush()
            out.append(line)
        else:
            stretch.append((kind, line))
    flush()
    return out


def _blank_edges(lines, start, end, rep, core, match):
    """A SEARCH/REPLACE block's blank edge lines are layout around the match. The SEARCH side
    shows the cell's blank lines nearest the match (a run of many may be shown in part), so the
    run changes by the difference between the two sides: 3 blank lines with SEARCH 2 and REPLACE 5
    become 6. But a REPLACE showing just as many as the cell has keeps that number: its SEARCH
    lost one (counted apart, a third blank line appeared between two functions), and so does one
    showing fewer than the cell has where the SEARCH shows none. Blank lines the
    SEARCH shows and the cell lacks are not there to remove. A side widened over a lost context
    line has its blank lines inside the region already."""
    old_lead, old_trail = trim_blank_edges(rep.old)
    new_lead, new_trail = trim_blank_edges(rep.new)
    if start != match.start:
        old_lead = new_lead = 0
    if end != match.end:
        old_trail = new_trail = 0

    def count(available: int, old: int, new: int) -> int:
        if available == new > old or available >= new > old == 0:
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
