"""The edit formats models write, each as (old lines → new lines) replacements or a lazy snippet.

- SEARCH/REPLACE blocks (aider): the SEARCH lines, found in one cell, become the REPLACE lines.
- Unified diffs: each hunk's context and removed lines become its context and added lines; the
  ``@@`` line numbers are ignored (models get them wrong).
- Lazy snippets: concrete lines with elision markers ("# ... existing code ...") standing for
  unchanged lines of the original, merged by aligning the concrete lines with the cell.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .matching import Match, indent_delta, indent_of, is_trivial, reindent, trim_blank_edges

# Marker lines that stand for unchanged code: comments or bare ellipses saying "existing",
# "unchanged", "rest of", "previous", "same as before"... in Python, markdown, HTML or C styles.
_MARKER_WORDS = (
    r"(existing|unchanged|rest of|remaining|previous|same as (before|above)|omitted|"
    r"other (code|cells?|content|lines|methods|functions)|as before|no changes?)"
).replace(" ", r"\s+")  # the pattern below is verbose: its own spaces do not count
_MARKER = re.compile(
    rf"""^\s*(
        (\#|//|--|;)\s*(\.\.\.|…)?\s*[\(\[]?\s*{_MARKER_WORDS}.*       # "# ... existing code ..."
      | (\#|//)\s*(\.\.\.|…)\s*$                                        # "# ..."
      | (\.\.\.|…)\s*(\#.*)?$                                          # "..."  "... # comment"
      | [\[\(]\s*(\.\.\.|…)\s*[\]\)]\s*$                                # "[...]" "(...)"
      | <!--\s*(\.\.\.|…)?\s*{_MARKER_WORDS}?.*?(\.\.\.|…)?\s*-->\s*$  # "<!-- ... existing content ... -->"
      | /\*\s*(\.\.\.|…)?\s*{_MARKER_WORDS}.*\*/\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def is_marker(line: str) -> bool:
    return bool(_MARKER.match(line))


@dataclass(frozen=True)
class Replacement:
    old: list[str]
    new: list[str]
    # A diff hunk's context lines are in both texts, so one it lost is lost from both: the cell's
    # line must be kept. (A SEARCH that lost a line still has it in its REPLACE.)
    shared_context: bool = False


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


def is_udiff(code: str, language: str) -> bool:
    lines = code.split("\n")
    return language in ("diff", "patch", "udiff") or any(_HUNK.match(l) for l in lines) or (
        len(lines) > 2 and lines[0].startswith("--- ") and lines[1].startswith("+++ ")
    )


def parse_udiff(code: str) -> list[Replacement]:
    hunks: list[Replacement] = []
    old: list[str] = []
    new: list[str] = []

    def flush():
        if old or new:
            hunks.append(Replacement(list(old), list(new), shared_context=True))
        old.clear()
        new.clear()

    for line in code.split("\n"):
        if line.startswith(("--- ", "+++ ", "diff --git", "index ")) and not (old or new):
            continue
        if _HUNK.match(line):
            flush()
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
    return Replacement(old, new, h.shared_context)


# -- applying a replacement at a match ----------------------------------------------------------------


def replace_at(lines: list[str], match: Match, rep: Replacement) -> list[str]:
    """`lines` with the matched region replaced by `rep.new`, indented to fit the cell; lines the
    new text shares with the region keep the cell's own text (trailing whitespace included)."""
    new = _fitted_new(rep, match)
    if match.rung == "fuzzy" and rep.shared_context:
        new = _restore_dropped(lines[match.start : match.end], _strip_blank_edges(rep.old), new)
    start, end = widen(lines, match, rep)
    return lines[:start] + _keep_original_text(lines[start:end], new) + lines[end:]


def _restore_dropped(window: list[str], old: list[str], new: list[str]) -> list[str]:
    """Lines of the matched window that the old text lacks (context lines the model dropped) go
    back into the new text, after the new line that follows the same old line."""
    norm = lambda lines: [l.strip() for l in lines]  # noqa: E731
    old_in_window = difflib.SequenceMatcher(None, norm(old), norm(window), autojunk=False)
    old_in_new = difflib.SequenceMatcher(None, norm(old), norm(new), autojunk=False)
    missing = len(window) - len(old)  # only a window longer than the old text lost lines
    if missing <= 0:
        return new
    window_to_old = {b + k: a + k for a, b, n in old_in_window.get_matching_blocks() for k in range(n)}
    old_to_new = {a + k: b + k for a, b, n in old_in_new.get_matching_blocks() for k in range(n)}
    inserts: dict[int, list[str]] = {}
    last_new = -1  # the new line after which the next dropped line goes
    for w, line in enumerate(window):
        if w in window_to_old:
            last_new = old_to_new.get(window_to_old[w], last_new)
        elif last_new >= 0 and missing > 0:
            inserts.setdefault(last_new, []).append(line)
            missing -= 1
    if not inserts:
        return new
    out = []
    for i, line in enumerate(new):
        out.append(line)
        out.extend(inserts.get(i, []))
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
    line the two texts share that equal the cell's lines just before (after) the match."""
    old = [l.strip() for l in _strip_blank_edges(rep.old)]
    new = [l.strip() for l in _strip_blank_edges(rep.new)]
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
        # Nothing in common: the old lines became the first (or last) new lines, one for one.
        extra = max(0, len(new) - len(old))
        head = [l for l in new[:extra] if l]
        tail = [l for l in new[len(new) - extra :] if l] if extra else []
    for k in range(len(head), 0, -1):
        j, seen = _nonblank_before(lines, start, k)
        if seen == head[:k]:
            start = j
            break
    for k in range(len(tail), 0, -1):
        j, seen = _nonblank_after(lines, end, k)
        if seen == tail[-k:]:
            end = j
            break
    return start, end


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


def _strip_blank_edges(lines: list[str]) -> list[str]:
    a, b = 0, len(lines)
    while a < b and not lines[a].strip():
        a += 1
    while b > a and not lines[b - 1].strip():
        b -= 1
    return lines[a:b]


def _keep_original_text(region: list[str], new: list[str]) -> list[str]:
    """Lines of `new` equal to lines of `region` but for trailing whitespace take the region's text:
    a suggestion that lost trailing spaces does not change untouched lines. (A changed indentation
    is an edit, and stays.)"""
    matcher = difflib.SequenceMatcher(
        None, [l.strip() for l in region], [l.strip() for l in new], autojunk=False
    )
    out = list(new)
    for a, b, n in matcher.get_matching_blocks():
        for k in range(n):
            if region[a + k].strip() and region[a + k].rstrip() == new[b + k].rstrip():
                out[b + k] = region[a + k]
    return out


# -- lazy snippets ------------------------------------------------------------------------------------


@dataclass
class LazyResult:
    lines: list[str] | None
    reason: str = ""


def has_markers(lines: list[str]) -> bool:
    return any(is_marker(line) for line in lines)


def merge_lazy(original: list[str], snippet: list[str]) -> LazyResult:
    """Merge a snippet with elision markers into the original lines of one cell.

    The snippet is runs of concrete lines separated by markers. A run without a marker before it
    starts at the top of the cell; one without a marker after it runs to the end. Each run
    replaces the stretch of the original between its first and last lines that match (in order),
    and each marker keeps the original lines between the runs around it.
    """
    # A marker-like line that the cell itself contains ("..." as a stub body) is code.
    literal = {line.strip() for line in original}
    segments: list[list[str]] = [[]]
    for line in snippet:
        if is_marker(line) and line.strip() not in literal:
            segments.append([])
        else:
            segments[-1].append(line)
    runs: list[list[str]] = []
    gaps_before: list[bool] = []
    for index, segment in enumerate(segments):
        if any(line.strip() for line in segment):
            runs.append(segment)
            gaps_before.append(index > 0)
    tail_gap = len(segments) > 1 and not any(line.strip() for line in segments[-1])
    runs = [_strip_blank_edges(run) for run in runs]
    if not runs:
        return LazyResult(None, "the snippet has no code besides its markers")

    norm = [line.strip() for line in original]
    out: list[str] = []
    pos = 0  # original lines before `pos` are placed
    for index, run in enumerate(runs):
        gap_before = gaps_before[index]
        last = index == len(runs) - 1
        gap_after = tail_gap if last else True
        found = _align(run, original, norm, pos)
        if found is None:
            if not gap_before and not gap_after:
                out.extend(run)  # the whole cell, rewritten
                pos = len(original)
                continue
            return LazyResult(None, "a part of the snippet matches nothing in the cell")
        (first_a, first_b), (last_a, last_b), pairs = found
        start = first_b if gap_before else pos
        if not gap_before and index == 0:
            start = 0
        end = last_b + 1 if gap_after else len(original)
        # Changed lines at a run's edge, next to a marker, replace the cell's lines they resemble
        # (an edit with no context line on that side), rather than being inserted beside them.
        if gap_after:
            end += _resembling(run[last_a + 1 :], original[end:])
        if gap_before:
            start -= _resembling(run[:first_a][::-1], original[pos:start][::-1])
        if start < pos:
            return LazyResult(None, "the snippet's parts are out of order")
        delta = indent_delta([(original[b], run[a]) for a, b in pairs])
        new = reindent(run, delta)
        # Lines before the first match / after the last one belong inside the replaced stretch.
        out.extend(original[pos:start])
        out.extend(_keep_original_text(original[start:end], new))
        pos = end
    out.extend(original[pos:])
    if any(is_marker(line) and line.strip() not in literal for line in out):
        return LazyResult(None, "an elision marker would be left in the cell")
    return LazyResult(out)


RESEMBLANCE = 0.6


def _resembling(lines: list[str], following: list[str]) -> int:
    """How many of `lines` resemble, one for one, the lines `following` them in the cell."""
    count = 0
    for new, old in zip(lines, following):
        if not new.strip() or difflib.SequenceMatcher(None, new.strip(), old.strip()).ratio() < RESEMBLANCE:
            break
        count += 1
    return count


def _align(run: list[str], original: list[str], norm: list[str], pos: int):
    """Matched (run index, original index) pairs of `run` in original[pos:]; None when nothing
    significant matches. Lines are compared with their indentation first (a similar block at
    another depth is not this one), without it when that finds too little (a re-indented
    snippet)."""
    exact = _align_by(run, [l.rstrip() for l in run], [l.rstrip() for l in original], pos)
    significant = sum(1 for line in run if not is_trivial(line))
    if exact is not None and len(exact[2]) * 2 >= significant:
        return exact
    return _align_by(run, [l.strip() for l in run], norm, pos) or exact


def _align_by(run: list[str], want: list[str], have: list[str], pos: int):
    """Short matches at the edges of the run that lie far from the rest (a line like `return x`
    that also occurs much earlier) are not anchors."""
    matcher = difflib.SequenceMatcher(None, want, have[pos:], autojunk=False)
    blocks = []
    for a, b, n in matcher.get_matching_blocks():
        if n == 0:
            continue
        if n < 3 and all(is_trivial(run[a + k]) for k in range(n)):
            continue
        blocks.append((a, pos + b, n))
    while len(blocks) > 1 and _stray(blocks[0], blocks[1]):
        blocks.pop(0)
    while len(blocks) > 1 and _stray(blocks[-1], blocks[-2]):
        blocks.pop()
    pairs = [(a + k, b + k) for a, b, n in blocks for k in range(n)]
    if not pairs:
        return None
    # A long run matched only by a sliver of itself is not this place.
    significant = [i for i, line in enumerate(run) if not is_trivial(line)]
    if len(run) >= 4 and len(pairs) < max(1, len(significant) // 4):
        return None
    return pairs[0], pairs[-1], pairs


STRAY_GAP = 10  # original lines beyond the snippet's own gap that make an edge match suspect


def _stray(edge: tuple[int, int, int], neighbour: tuple[int, int, int]) -> bool:
    (a1, b1, n1), (a2, b2, n2) = sorted([edge, neighbour])
    run_gap = a2 - (a1 + n1)
    orig_gap = b2 - (b1 + n1)
    return edge[2] < 3 and edge[2] < neighbour[2] and orig_gap > run_gap + STRAY_GAP


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
