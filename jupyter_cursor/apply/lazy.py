"""Lazy snippets: runs of concrete lines separated by elision markers ("# ... existing code ...").

Each run is placed in the cell, in order, at the stretch of lines it differs least from: the
candidate stretches start at a line equal to one of the run's first lines and end at a line equal
to one of its last lines, and the one with the smallest line edit distance to the run wins. (In
repetitive code the same context lines recur; the stretch that also fits the rest of the run, and
spans no lines the run does not account for, is the one meant.) Two different stretches that fit
equally well are an ambiguity, refused rather than guessed. A marker keeps the cell's lines between
the runs around it; a run with no marker before it starts at the top of the cell, one with none
after it runs to its end.
"""

from __future__ import annotations

import ast
import difflib
from collections import defaultdict
from dataclasses import dataclass

from .markers import is_marker
from .matching import (
    indent_delta,
    indent_of,
    is_trivial,
    keep_original_text,
    reindent,
    strip_blank_edges,
    trim_blank_edges,
)

EDGE_LINES = 3  # lines at each end of a run whose occurrences in the cell start/end a stretch
MAX_EDGE_CANDIDATES = 60  # occurrences per edge considered (a line like `return x` recurs)
# A line the cell has this many times or more places a run whose edges are all new only when no
# rarer line of it does.
RECURRING = 3
MAX_EVALUATIONS = 300  # stretches scored per run, nearest in length to the run first
# Context lines at a run's edge that count towards placing it (a third would reward the run's new
# code where it copies the code next to it).
EDGE_DEPTH = 2
RESEMBLANCE = 0.6  # a changed line at a run's edge replaces a cell line at least this similar
# A run none of whose lines the cell has: at most this many lines, each at least this similar to
# its cell line, to place it by resemblance alone.
MAX_RESEMBLING_RUN = 5
CLOSE_RESEMBLANCE = 0.75
MAX_REWRAP = 12  # lines of one statement re-wrapped into one line (or one into as many)
REWRAPPED = 0.8  # how alike the statement must read, spaces aside
# Cell lines a run deletes between its last line and its trailing blank context (see
# _implied_deletion).
MAX_IMPLIED_DELETION = 2
MIN_PREFIX = 10  # characters of a line that another line extends, to take one for the other


@dataclass
class LazyResult:
    lines: list[str] | None
    reason: str = ""


@dataclass(frozen=True)
class _Run:
    lines: list[str]
    gap_before: bool  # a marker precedes the run
    gap_after: bool  # a marker follows it
    blank_after: int = 0  # blank lines between its last line and the marker after it


def _runs(original: list[str], snippet: list[str]) -> list[_Run]:
    literal = {line.strip() for line in original}
    filled = [i for i, line in enumerate(snippet) if line.strip()]
    beside = _neighbours(original)
    segments: list[list[str]] = [[]]
    for i, line in enumerate(snippet):
        if is_marker(line) and (
            line.strip() not in literal
            or _edge_elision(snippet, i, filled)
            or not _in_place(snippet, i, filled, beside)
        ):
            segments.append([])
        else:
            segments[-1].append(line)
    runs = []
    for index, segment in enumerate(segments):
        if any(line.strip() for line in segment):
            trail = trim_blank_edges(segment)[1]
            runs.append(
                _Run(strip_blank_edges(segment), index > 0, index < len(segments) - 1, trail)
            )
    return runs


def _neighbours(lines: list[str]) -> dict[str, set[str]]:
    """Each line (stripped) → the non-blank lines found right before and right after it."""
    filled = [line.strip() for line in lines if line.strip()]
    found: dict[str, set[str]] = defaultdict(set)
    for k, key in enumerate(filled):
        found[key].update(filled[max(0, k - 1) : k] + filled[k + 1 : k + 2])
    return found


def _in_place(snippet: list[str], i: int, filled: list[int], beside) -> bool:
    """A marker-like line that the cell also has ("..." as a stub body or in a docstring) is that
    code only where it stands next to one of its neighbours in the cell, or as a stub body: a
    "..." between two lines that never border one in the cell elides code (taken for code, it
    stayed in the cell and the lines it stood for were deleted)."""
    k = filled.index(i)
    near = {snippet[j].strip() for j in filled[max(0, k - 1) : k] + filled[k + 1 : k + 2]}
    return bool(near & beside[snippet[i].strip()]) or _stub_body(snippet, k, filled)


def _stub_body(snippet: list[str], k: int, filled: list[int]) -> bool:
    """The k-th non-blank line is a whole block body: after a line that opens a block, last or
    before one indented less (`with f():` / `    ...` / `# output`: a new stub, not an elision)."""
    if k == 0 or not snippet[filled[k - 1]].rstrip().endswith(":"):
        return False
    return k + 1 == len(filled) or indent_of(snippet[filled[k + 1]]) < indent_of(snippet[filled[k]])


def _edge_elision(snippet: list[str], i: int, filled: list[int]) -> bool:
    """A marker-like line that the cell itself contains ("..." as a stub body) is code, except as
    the snippet's first non-blank line, or its last after a line that opens no block: code does
    not start with a stub body, and a "..." closing a snippet elides the rest (a cell quoting
    "..." in a docstring made the snippet read as the whole new cell)."""
    if i == filled[0]:
        return True
    return i == filled[-1] and not snippet[filled[-2]].rstrip().endswith(":")


def merge_lazy(original: list[str], snippet: list[str]) -> LazyResult:
    """The cell's lines after merging `snippet` (lines with elision markers) into `original`."""
    runs = _runs(original, snippet)
    if not runs:
        return LazyResult(None, "the snippet has no code besides its markers")
    keys = [line.strip() for line in original]
    where: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        where[key].append(i)
    out: list[str] = []
    pos = 0  # original lines before `pos` are placed
    for index, run in enumerate(runs):
        fixed_start = 0 if index == 0 and not run.gap_before else None
        fixed_end = len(original) if index == len(runs) - 1 and not run.gap_after else None
        if fixed_start is not None and fixed_end is not None:
            placed = _whole(run.lines, original)  # the whole cell, rewritten
        else:
            placed = _place(run, original, keys, where, pos, fixed_start, fixed_end)
        if isinstance(placed, str):
            return LazyResult(None, placed)
        start, end, new = placed
        if start < pos:
            return LazyResult(None, "the snippet's parts are out of order")
        out.extend(original[pos:start])
        out.extend(keep_original_text(original[start:end], new))
        pos = end
    out.extend(original[pos:])
    literal = {line.strip() for line in original}
    if any(is_marker(line) and line.strip() not in literal for line in out):
        return LazyResult(None, "an elision marker would be left in the cell")
    return LazyResult(out)


def _whole(run: list[str], original: list[str]):
    """A run that is the whole cell: re-indented to the cell's margin where the two share lines (a
    model may indent a whole block)."""
    matcher = difflib.SequenceMatcher(
        None, [l.strip() for l in run], [l.strip() for l in original], autojunk=False
    )
    pairs = [
        (original[b + k], run[a + k]) for a, b, n in matcher.get_matching_blocks() for k in range(n)
    ]
    # With no line in common, the cell's margin: a one-line cell rewritten and indented as a block
    # (`    __version__ = "1.6.4"`) stays at the left margin.
    delta = indent_delta(pairs) if pairs else _margin(original) - _margin(run)
    if delta < 0 and any(line.strip() and indent_of(line) < -delta for line in run):
        delta = 0  # not a uniform indentation: keep the run as written
    # The cell's leading blank lines are its layout; the answer's fence trimmed them from the run.
    lead = next((i for i, line in enumerate(original) if line.strip()), 0)
    return lead, len(original), reindent(run, delta)


def _margin(lines: list[str]) -> int:
    return min((indent_of(line) for line in lines if line.strip()), default=0)


def _edge_positions(run_keys: list[str], where, pos: int, from_end: bool) -> list[int]:
    """Cell lines (at or after `pos`) equal to one of the run's first (last) lines, as stretch
    starts (ends). Significant lines only, unless the run has none near that edge."""
    order = range(len(run_keys) - 1, -1, -1) if from_end else range(len(run_keys))
    edge = [i for i in order if run_keys[i]][:EDGE_LINES]
    if from_end and edge and _closes_new_code(run_keys, edge[0], set(where)):
        edge = edge[1:]  # the run's own new statement ends there: not context
    # The very edge line always counts (a closing `)` or `"""` is context too); lines further in
    # only when significant, as brackets recur everywhere.
    chosen = edge[:1] + [i for i in edge[1:] if not is_trivial(run_keys[i])]
    found: set[int] = set()
    for i in chosen:
        hits = [p for p in where.get(run_keys[i], ()) if p >= pos]
        found.update((p + 1 if from_end else p) for p in hits[:MAX_EDGE_CANDIDATES])
    if not found:
        # The run's edges were all changed: the significant line of it nearest that edge that
        # the cell has, and does not have all over (a stock `raise NotImplementedError()` in the
        # run's new code placed it on the method before, read as an edit that deleted it).
        hits_of = [
            [p for p in where.get(run_keys[i], ()) if p >= pos]
            for i in order
            if not is_trivial(run_keys[i])
        ]
        hits_of = [h for h in hits_of if h]
        hits = next((h for h in hits_of if len(h) < RECURRING), hits_of[0] if hits_of else [])
        found.update((p + 1 if from_end else p) for p in hits[:MAX_EDGE_CANDIDATES])
    return sorted(found)


def _place(run: _Run, original, keys, where, pos, fixed_start, fixed_end):
    """(start, end, new lines) of the stretch the run replaces, or the reason it has none."""
    lines = run.lines
    run_keys = [line.strip() for line in lines]
    starts = (
        [fixed_start] if fixed_start is not None else _edge_positions(run_keys, where, pos, False)
    )
    ends = [fixed_end] if fixed_end is not None else _edge_positions(run_keys, where, pos, True)
    filled = [0]  # non-blank cell lines before each line: a stretch's length, blank lines aside
    for key in keys:
        filled.append(filled[-1] + bool(key))
    size = sum(1 for key in run_keys if key)

    def excess(se):  # what the stretch's length alone costs (see _cost)
        return abs(filled[se[1]] - filled[se[0]] - size)

    pairs = sorted(((s, e) for s in starts for e in ends if e > s), key=excess)
    if not pairs:
        return _edge_edit(lines, original, fixed_start, fixed_end) or _resembling_place(
            lines, original, pos, fixed_start, fixed_end
        )
    best: list[tuple[tuple, int, int, list]] = []
    last = max((i for i, key in enumerate(run_keys) if key), default=0)
    new_close = _closes_new_code(run_keys, last, set(where))
    depth_cap = min(EDGE_DEPTH, sum(1 for key in run_keys if key))
    most_edges = depth_cap * ((fixed_start is None) + (fixed_end is None))
    moved = False  # a stretch was passed over as code the run moves (see _moved_from)
    for count, (s, e) in enumerate(pairs):
        if count >= MAX_EVALUATIONS or (
            best and best[0][0][0] == -most_edges and excess((s, e)) > best[0][0][1]
        ):
            break  # no later stretch can beat the best: its length alone costs more
        stretch = keys[s:e]
        matcher = difflib.SequenceMatcher(None, run_keys, stretch, autojunk=False)
        blocks = [(a, s + b, n) for a, b, n in matcher.get_matching_blocks() if n]
        anchors = sum(1 for a, _, n in blocks for k in range(n) if not is_trivial(run_keys[a + k]))
        if anchors == 0:
            continue  # matched by blank lines and brackets only: not a place
        matched_pairs = _pin_edges(
            [(a + k, b + k) for a, b, n in blocks for k in range(n)],
            run_keys,
            keys,
            s,
            e,
            (fixed_start is None, fixed_end is None),
        )
        extra = filled[e] - filled[s] - size
        if fixed_end is None and (
            _moved_from(lines, original, matched_pairs, extra)
            or _weak_end(run_keys, stretch, where, extra, size)
        ):
            moved = True
            continue
        if fixed_start is None and _copies_context(run_keys, matched_pairs, where, s):
            continue
        consistent = _indent_consistency(lines, original, matched_pairs)
        # The run's first and last lines are context a model shows to place it: a stretch that
        # starts and ends on them beats one that fits more lines of the run's new code (code that
        # copies an existing function resembles it). The deeper the context agrees line for line
        # at an edge, the likelier the place: `def g():` + `"""` beats a lone `"""` of `def h():`.
        edges = (fixed_start is None and _depth(run_keys, stretch, depth_cap)) + (
            fixed_end is None and not new_close and _depth(run_keys[::-1], stretch[::-1], depth_cap)
        )
        score = (-edges, _cost(run_keys, stretch, matcher), -consistent)
        if best and score > best[0][0]:
            continue
        if best and score < best[0][0]:
            best = []
        best.append((score, s, e, matched_pairs))
    if not best and moved:
        return _insertion(run, original, keys, starts, pos, fixed_start)
    if not best:
        return _resembling_place(lines, original, pos, fixed_start, fixed_end)
    placements = {_finish(run, original, pos, fixed_start, fixed_end, mp) for _, _, _, mp in best}
    if len(placements) > 1:
        return "a part of the snippet fits several places in the cell equally well"
    start, end, new = placements.pop()
    return start, end, list(new)


def _weak_end(run_keys: list[str], stretch: list[str], where, extra: int, size: int) -> bool:
    """A stretch over many more cell lines than the run has (`extra` more non-blank lines than
    its `size`, over twice as many), closed only by the run's last line, a line the cell has all
    over (`return None`), the line before it new: no context says those lines go (a new function
    ending in `return None` read as the deletion of the hundred lines up to the cell's next
    `return None`). A deletion shows its context: a line the cell has once, or two lines that
    agree; a rewrite shows about as many lines as it replaces."""
    if extra <= max(MAX_IMPLIED_DELETION, 2 * size):
        return False
    last = next(key for key in reversed(run_keys) if key)
    return (
        len(where.get(last, ())) >= RECURRING
        and _depth(run_keys[::-1], stretch[::-1], EDGE_DEPTH) < EDGE_DEPTH
    )


def _moved_from(lines, original, matched_pairs, extra: int) -> bool:
    """A stretch reaching the run's last lines only where the cell has them at another depth than
    its first, over cell lines the run does not have (`extra` more non-blank lines than the run):
    the run moves that code (a function nested in a method, moved to the top of the module), it
    does not replace everything between (the whole class went)."""
    filled = [(a, b) for a, b in matched_pairs if lines[a].strip()]
    if extra <= MAX_IMPLIED_DELETION or len(filled) < 2:
        return False
    (a0, b0), (a1, b1) = filled[0], filled[-1]
    shift = indent_of(original[b0]) - indent_of(lines[a0])
    return indent_of(original[b1]) - indent_of(lines[a1]) != shift


def _copies_context(run_keys: list[str], matched_pairs, where, s: int) -> bool:
    """The run's first line, next to its marker, left out of a stretch while the cell has it
    once, before the stretch: that line is the context the run opens on, and the stretch would
    write it a second time (a module-level import read as new code over a nested function)."""
    if matched_pairs[0][0] == 0 or is_trivial(run_keys[0]):
        return False
    hits = where.get(run_keys[0], ())
    return len(hits) == 1 and hits[0] < s


def _insertion(run: _Run, original, keys, starts, pos, fixed_start):
    """The run read as its opening context, the cell's lines it starts on, then new code inserted
    after them (the code it moves there): the one start where that context holds a significant
    line, or the reason there is none."""
    found = []
    for s in starts:
        k = 0
        while k < len(run.lines) and s + k < len(keys) and run.lines[k].strip() == keys[s + k]:
            k += 1
        context = [i for i in range(k) if not is_trivial(run.lines[i])]
        if context and k < len(run.lines):
            found.append([(i, s + i) for i in range(context[-1] + 1)])
    if len(found) != 1:
        return (
            "a part of the snippet fits several places in the cell equally well"
            if found
            else ("a part of the snippet matches nothing in the cell")
        )
    start, end, new = _finish(run, original, pos, fixed_start, None, found[0])
    return start, end, list(new)


def _pin_edges(
    pairs: list[tuple[int, int]], run_keys, keys, s: int, e: int, free: tuple[bool, bool]
):
    """The matched (run line, cell line) pairs with the run's first (last) line paired to the
    stretch's first (last) line when the two are the same significant line and that edge of the
    run is next to a marker (`free`): the edge line is the context the model showed. The
    longest-block matcher may pair that cell line with a later copy of it in the run's new code
    (`raise ...` / new method / `raise ...`), and the run's lines before it then read as an edit
    of the cell's line before the stretch (the method's `def` was rewritten)."""
    last = len(run_keys) - 1
    if free[0] and pairs and pairs[0][1] == s and pairs[0][0] != 0:
        if run_keys[0] == keys[s] and not is_trivial(keys[s]):
            pairs = [(0, s)] + pairs[1:]
    if free[1] and pairs and pairs[-1][1] == e - 1 and pairs[-1][0] != last:
        if run_keys[last] == keys[e - 1] and not is_trivial(keys[e - 1]):
            pairs = pairs[:-1] + [(last, e - 1)]
    return pairs


def _cost(run_keys: list[str], stretch: list[str], matcher) -> int:
    """The line edits that turn the stretch into the run: a new line costs 1, a line of the cell
    the run drops 2, a changed line (one resembling the line it replaces) 1, blank lines nothing.
    A lazy snippet shows its new code, while a deletion shows only as context around a gap: a
    stretch that reads the run's new code as an edit of the lines beside it (a new function copied
    from its neighbour) was a likelier reading than the insertion under plain edit distance, and
    silently deleted the neighbour."""
    cost = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        new = [key for key in run_keys[i1:i2] if key]
        old = [key for key in stretch[j1:j2] if key]
        changed = sum(1 for a, b in zip(new, old) if _resemble(a, b))
        cost += len(new) + 2 * len(old) - 2 * changed
    return cost


def _closes_new_code(run_keys: list[str], last: int, cell_keys: set[str]) -> bool:
    """The run's line `last` is only closing brackets (`)`, `],`) whose opening line is in the run
    and not in the cell: the end of a statement the run writes anew (a changed import turned into
    `from a import (` ... `)`), not context; its `)` anchored the run on a distant call's."""
    key = run_keys[last]
    if not key or not is_trivial(key) or not any(c in _CLOSERS for c in key):
        return False
    balance = 0
    for i in range(last, -1, -1):
        code = _code(run_keys[i])
        balance += sum(c in _CLOSERS for c in code) - sum(c in _OPENERS for c in code)
        if balance <= 0:
            return i < last and run_keys[i] not in cell_keys
    return False


_OPENERS, _CLOSERS = "([{", ")]}"


def _code(line: str, strings: bool = False) -> str:
    """A line with its comment dropped, and its string literals unless `strings` (roughly: enough
    to count brackets, or to compare statements with a comment added or dropped)."""
    out, quote = [], ""
    for c in line:
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#":
            break
        if strings or not quote and c not in "'\"":
            out.append(c)
    return "".join(out)


def _depth(run_keys: list[str], stretch: list[str], cap: int) -> int:
    """Non-blank lines, up to `cap`, that the run and the stretch share from their first lines on,
    in order (blank lines skipped on both sides: models add and drop them)."""
    run_lines = (key for key in run_keys if key)
    stretch_lines = (key for key in stretch if key)
    depth = 0
    for a, b in zip(run_lines, stretch_lines):
        if a != b or depth == cap:
            break
        depth += 1
    return depth


def _edge_edit(lines, original, fixed_start, fixed_end):
    """A run at the top (bottom) of the cell none of whose lines the cell has: the changed first
    (last) lines, replacing the cell's lines they resemble one for one (None if none do)."""
    if fixed_start is not None:
        count = _resembling(lines, original[fixed_start:])
        if count:
            return fixed_start, fixed_start + count, list(lines)
    if fixed_end is not None:
        count = _resembling(lines[::-1], original[:fixed_end][::-1], backwards=True)
        if count:
            return fixed_end - count, fixed_end, list(lines)
    return None


def _resembling_place(lines, original, pos, fixed_start, fixed_end):
    """A short run that the cell has no line of as it stands (each line changed a little, its
    context elided: `from werkzeug.utils import x` for `from werkzeug import x`): the one stretch
    of the cell whose non-blank lines resemble the run's one for one. Several are an ambiguity."""
    run = [line for line in lines if line.strip()]
    if not run or len(run) > MAX_RESEMBLING_RUN:
        return "a part of the snippet matches nothing in the cell"
    filled = [i for i in range(pos, len(original)) if original[i].strip()]
    # One matcher per run line: difflib caches its second sequence.
    matchers = [difflib.SequenceMatcher(None, "", line.strip(), autojunk=False) for line in run]

    def resemblance(matcher, text) -> float:
        """The line's likeness to the run's line, 0 below RESEMBLANCE."""
        matcher.set_seq1(text.strip())
        for ratio in (matcher.real_quick_ratio, matcher.quick_ratio, matcher.ratio):
            if ratio() < RESEMBLANCE:
                return 0.0
        return matcher.ratio()

    def resembles(k: int) -> bool:
        """Each line alike, and the stretch as a whole close to the run (its likeness weighted
        by the lines' lengths: a reworded heading over a paragraph that kept most of its
        words)."""
        weight = total = 0.0
        for j, matcher in enumerate(matchers):
            ratio = resemblance(matcher, original[filled[k + j]])
            if not ratio:
                return False
            size = len(original[filled[k + j]].strip()) + len(run[j].strip())
            weight, total = weight + ratio * size, total + size
        return weight >= CLOSE_RESEMBLANCE * total

    found = []
    for k in range(len(filled) - len(run) + 1):
        if fixed_start is not None and k > 0:
            break  # a run with no marker before it starts at the cell's first line
        if fixed_end is not None and k + len(run) != len(filled):
            continue  # one with none after it ends at the last
        if resembles(k):
            found.append(k)
    if len(found) != 1:
        return (
            "a part of the snippet fits several places in the cell equally well"
            if found
            else "a part of the snippet matches nothing in the cell"
        )
    (k,) = found
    pairs = [(original[filled[k + j]], line) for j, line in enumerate(run)]
    return filled[k], filled[k + len(run) - 1] + 1, reindent(list(lines), indent_delta(pairs))


def _indent_consistency(lines, original, matched_pairs) -> int:
    """Matched line pairs that agree with the most common indentation change (the same code at
    another depth is less likely the place)."""
    deltas = defaultdict(int)
    for a, b in matched_pairs:
        if lines[a].strip():
            deltas[indent_of(original[b]) - indent_of(lines[a])] += 1
    return max(deltas.values(), default=0)


def _finish(run: _Run, original, pos, fixed_start, fixed_end, matched_pairs):
    lines = run.lines
    (first_a, first_b), (last_a, last_b) = matched_pairs[0], matched_pairs[-1]
    start = fixed_start if fixed_start is not None else first_b
    end = fixed_end if fixed_end is not None else last_b + 1
    # Changed lines at a run's edge, next to a marker, replace the cell's lines they resemble
    # (an edit with no context line on that side), rather than being inserted beside them.
    if fixed_end is None:
        end += _resembling(lines[last_a + 1 :], original[end:], changed_only=True)
        end += _implied_deletion(run, last_a, original, end)
        end += _superseded_imports(lines, last_a, original, end)
        if end == last_b + 1:
            end += _shared_blanks(run, last_a, original, end)
    if fixed_start is None:
        start -= _resembling(
            lines[:first_a][::-1], original[pos:start][::-1], backwards=True, changed_only=True
        )
    return start, end, tuple(reindent(lines, _run_indent(lines, original, matched_pairs)))


def _implied_deletion(run: _Run, last_a: int, original: list[str], end: int) -> int:
    """Cell lines after a run's place that the run deletes without showing them: a run ending in
    new code, then a blank line, then a marker, shows that blank line as the context after its
    change, so the (few) cell lines between its place and the cell's next blank line are gone
    (`from a import x` / `from b import y` / blank, rewritten as `from a import x, y` / blank: the
    second import stayed). A run ending on a cell line, or with no blank line before its marker,
    says nothing of what follows."""
    if not run.gap_after or not run.blank_after or last_a == len(run.lines) - 1:
        return 0
    count = 0
    while end + count < len(original) and original[end + count].strip():
        count += 1
    if count > MAX_IMPLIED_DELETION or end + count == len(original):
        return 0
    return count


def _superseded_imports(lines: list[str], last_a: int, original: list[str], end: int) -> int:
    """Cell import lines right after a run's place that bind only names the run's new imports
    bind there: the new import replaces them (`from previous_chapters import GPTModel` made
    `from llms_from_scratch.ch04 import GPTModel` shows as the new line alone, and the old one
    stayed beside it, importing the name twice). Blank lines opening the run's new code are the
    cell's, when it has as many there."""
    new = lines[last_a + 1 :]
    have = {line.strip() for line in original}
    bound = set().union(*(_bound_names(line) for line in new if line.strip() not in have))
    if not bound:
        return 0
    lead = trim_blank_edges(new)[0]
    first = end + lead
    if first > len(original) or any(line.strip() for line in original[end:first]):
        return 0
    shown = {line.strip() for line in lines}
    stop = first
    while stop < len(original) and original[stop].strip() not in shown:
        names = _bound_names(original[stop])
        if not names or not names <= bound:
            break
        stop += 1
    return stop - end if stop > first else 0


def _bound_names(line: str) -> set[str]:
    """The names an import statement on this one line binds (none for any other line)."""
    text = line.strip()
    if not text.startswith(("import ", "from ")):
        return set()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Import | ast.ImportFrom):
        return set()
    return {alias.asname or alias.name.split(".")[0] for alias in tree.body[0].names}


def _shared_blanks(run: _Run, last_a: int, original: list[str], end: int) -> int:
    """Blank lines after a run's last context line that open its new code, when the cell has
    there as many blank lines as the run shows around that code (`raise` / blank / new method /
    2 blank lines / marker, on a cell with 3 blank lines after `raise`): they are the cell's, the
    new code goes between them, not before all of them (a fourth blank line appeared)."""
    if not run.gap_after or not run.blank_after:
        return 0
    opening = trim_blank_edges(run.lines[last_a + 1 :])[0]
    if not opening or last_a + 1 + opening == len(run.lines):
        return 0
    have = trim_blank_edges(original[end:])[0]
    return opening if have >= opening + run.blank_after else 0


def _run_indent(lines, original, matched_pairs) -> int:
    """Spaces to add to the run to fit the cell: what its matched edge lines (context, which keeps
    its indentation) say when they agree, else the most common change over all matched lines
    (lines of rewritten code may match at other depths)."""
    edge = [(a, b) for a, b in (matched_pairs[0], matched_pairs[-1]) if lines[a].strip()]
    # The run's own first or last line, when matched, is the context the model copied: the lines
    # between may be re-indented by the edit itself (a function body turned into module code).
    outer = [(a, b) for a, b in edge if a in (0, len(lines) - 1)]
    for pairs in (edge, outer):
        deltas = {indent_of(original[b]) - indent_of(lines[a]) for a, b in pairs}
        if len(deltas) == 1:
            return deltas.pop()
    return indent_delta([(original[b], lines[a]) for a, b in matched_pairs])


def _resembling(
    lines: list[str], following: list[str], backwards: bool = False, changed_only: bool = False
) -> int:
    """How many of the cell's lines `following` the run's `lines` are replaced by them: lines
    resembling one for one, or a statement re-wrapped (one line for several, several for one:
    `def f(\\n    a,\\n) -> None:` made `def f(a) -> None:`), up to the last non-blank pair (blank
    lines pair with blank lines: one between the context and the changed line stopped the count,
    and the old line stayed beside the new one). `backwards`: both lists run bottom up.
    `changed_only`: lines past a run's matched context, which stop at a significant line equal to
    the cell's:
    there the run goes on with the cell's own code, which the run then inserts before (a new
    function copied from the one after its context read as a rewrite of that one)."""
    i = j = resembled = 0
    while i < len(lines) and j < len(following):
        new, old = lines[i].strip(), following[j].strip()
        if not new and not old:
            i, j = i + 1, j + 1
            continue
        if not new or changed_only and new == old and not is_trivial(new):
            break
        if old and _resemble(new, old):
            i, j = i + 1, j + 1
        elif k := _rewrapped(new, following[j:], backwards):
            i, j = i + 1, j + k
        elif old and (k := _rewrapped(old, lines[i:], backwards)):
            i, j = i + k, j + 1
        else:
            break
        resembled = j
    return resembled


def _resemble(a: str, b: str) -> bool:
    """Two lines one of which is an edit of the other: alike, or one begins with the other (a
    comment or an argument appended to a line: `class T(tqdm):  # pylint: ...` for `class
    T(tqdm):` read as new, and the old line stayed beside it)."""
    short, long = sorted((a, b), key=len)
    return _similar(a, b) >= RESEMBLANCE or len(short) >= MIN_PREFIX and long.startswith(short)


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _rewrapped(line: str, lines: list[str], backwards: bool) -> int:
    """How many of `lines` (2 or more), joined, read as `line` with its spaces aside, or 0."""
    want = "".join(_code(line, strings=True).split())
    best, count = REWRAPPED, 0
    for k in range(2, min(MAX_REWRAP, len(lines)) + 1):
        if not lines[k - 1].strip():
            break  # a statement does not run over a blank line
        part = lines[:k][::-1] if backwards else lines[:k]
        joined = "".join("".join(_code(x, strings=True) for x in part).split())
        if len(joined) > 2 * len(want):
            break
        ratio = _similar(want, joined)
        if ratio > best or ratio == best and not count:
            best, count = ratio, k
    return count
