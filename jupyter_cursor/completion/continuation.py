"""The embedded default completer: the continuation of an earlier line that starts the same way.

No model, no GPU, well under a millisecond on most notebooks. The current line up to the cursor
(its indentation left out) is looked up among the lines the user already wrote: the cursor cell's
lines above the cursor, the notebook's other code cells (the nearer first) and, last, any
``extra_lines`` the caller passes (the workspace). Every line that starts with the typed text
gives a candidate continuation: the rest of that line. Each weighs by how near the cursor it is,
and equal continuations add up (how often and how recently).

Precision is the target (a wrong ghost text costs the user more than none):

* nothing before ``MIN_TYPED`` non-blank characters of the line are typed;
* the completion is the longest text that candidates holding ``MAJORITY`` of the weight agree
  on, walked a character at a time: where the candidates part, it stops (at the start of the
  word they part in), and a start shorter than ``MIN_PARTIAL`` characters is not shown;
* one candidate line alone is trusted only after ``MIN_UNIQUE_PREFIX`` typed characters;
* when no line starts with the typed text, the end of it (from a word's start, at least
  ``ANCHOR_MIN`` non-blank characters, the longest that occurs) is looked up anywhere in the
  lines: ``pred = clf.pred`` continues like ``y_train_pred = clf.predict(X_train)`` did, under a
  stricter gate (``FALLBACK_MIN_LINES`` lines, ``FALLBACK_MAJORITY``);
* only to the end of the line, and text already after the cursor on the line (an auto-closed
  bracket) is never proposed again: a candidate must end with it, and the completion stops
  before it.

The thresholds were chosen on the notebooks of the dev split only, with
benchmarks/eval_completion.py: on 4,868 positions of 170 dev notebooks this shows at 25% of
positions, is right on 72% of what it shows and saves 9.3% of the characters (the copy-the-
earlier-line baseline: 32%, 36%, 7.6%).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

# Non-blank characters of the current line typed before anything is proposed (dev: 2 shows more
# than 3 and 4 and is no less precise; the gates below do the filtering).
MIN_TYPED = 2
# Share of the candidates' weight that must agree on every character shown (dev: 0.6 -> 0.8
# costs 2 points of shown rate and gains 5 of precision).
MAJORITY = 0.8
# A start of the continuations (they part later) is shown only from this many characters.
MIN_PARTIAL = 3
# With one candidate line only, the typed text (indentation left out) must be this long
# (dev: 4 -> 68%, 6 -> 70%, 8 -> 72%, 12 -> 74% right when shown; shown 28%, 27%, 25%, 24%).
MIN_UNIQUE_PREFIX = 8
# Recency: a line ``d`` lines from the cursor weighs 1 + RECENCY / (1 + d / HALF_DISTANCE)
# (a tie-break more than a vote: on dev any of 0..3 and 5..100 are within half a point).
RECENCY = 1.0
HALF_DISTANCE = 20.0
# Workspace lines count as this far from the cursor.
EXTRA_DISTANCE = 100_000
# The fallback (the end of the typed text anywhere in a line): its shortest anchor, the lines
# it needs and its majority (dev: +6 points of shown rate, +1 of characters saved).
ANCHOR_MIN = 4
FALLBACK_MIN_LINES = 2
FALLBACK_MAJORITY = 0.9
# Lines longer than this are not candidates (data, minified output pasted in a cell).
MAX_LINE = 400


def complete(
    cells: Sequence[dict],
    cursor_cell_id: str,
    offset: int,
    events: Sequence[dict] | None = None,
    language: str = "python",
    extra_lines: Iterable[str] | None = None,
) -> str:
    """The text to insert at ``offset`` in the cell ``cursor_cell_id`` ("" = show nothing).

    ``cells`` are ``{"id", "cell_type", "source"}`` (markdown cells are not looked at);
    ``extra_lines`` are more lines to learn from (the workspace), weighed as the farthest.
    ``events`` and ``language`` are the request's; the continuation does not need them.
    """
    cell = next((c for c in cells if c.get("id") == cursor_cell_id), None)
    if cell is None:
        return ""
    source = cell.get("source") or ""
    offset = max(0, min(offset, len(source)))
    line_start = source.rfind("\n", 0, offset) + 1
    line_end = source.find("\n", offset)
    if line_end < 0:
        line_end = len(source)
    typed = source[line_start:offset].lstrip()
    after = source[offset:line_end].rstrip()
    if sum(not ch.isspace() for ch in typed) < MIN_TYPED:
        return ""
    candidates = [
        (line, distance)
        for line, distance in _candidate_lines(cells, cell, line_start)
        if len(line) <= MAX_LINE
    ]
    candidates += [(line, EXTRA_DISTANCE) for line in extra_lines or () if len(line) <= MAX_LINE]
    weights, found = _starting(typed, after, candidates)
    if found:
        if found == 1 and len(typed) < MIN_UNIQUE_PREFIX:
            return ""
        return _agreed(weights, MAJORITY)
    # No line starts this way: the end of the typed text, anywhere in a line.
    blob = "\n".join(line for line, _ in candidates)
    for anchor in _anchors(typed):
        if anchor not in blob:
            continue
        weights, found = _inside(anchor, after, candidates)
        if found:
            return _agreed(weights, FALLBACK_MAJORITY) if found >= FALLBACK_MIN_LINES else ""
    return ""


def _candidate_lines(cells: Sequence[dict], cell: dict, line_start: int) -> Iterator:
    """(line, distance in lines from the cursor) for the cursor cell's lines above the cursor,
    then the other code cells, the nearest first (above and below in turn)."""
    above = (cell.get("source") or "")[:line_start].split("\n")
    if above and above[-1] == "":
        above.pop()
    for distance, line in enumerate(reversed(above), start=1):
        yield line, distance
    index = next(i for i, c in enumerate(cells) if c is cell)
    gap_up = gap_down = len(above)
    up, down = index - 1, index + 1
    while up >= 0 or down < len(cells):
        if up >= 0:
            other = cells[up]
            up -= 1
            if other.get("cell_type", "code") == "code":
                lines = (other.get("source") or "").split("\n")
                for distance, line in enumerate(reversed(lines), start=gap_up + 1):
                    yield line, distance
                gap_up += len(lines)
        if down < len(cells):
            other = cells[down]
            down += 1
            if other.get("cell_type", "code") == "code":
                lines = (other.get("source") or "").split("\n")
                for distance, line in enumerate(lines, start=gap_down + 1):
                    yield line, distance
                gap_down += len(lines)


def _weight(distance: float) -> float:
    return 1.0 + RECENCY / (1.0 + distance / HALF_DISTANCE)


def _rest(rest: str, after: str) -> str:
    """A continuation with the text already after the cursor taken off its end ("" when it does
    not end that way)."""
    if not after:
        return rest
    return rest[: len(rest) - len(after)] if rest.endswith(after) else ""


def _starting(typed: str, after: str, lines) -> tuple[dict[str, float], int]:
    """The weight of each distinct continuation of the lines that start with ``typed``, and how
    many lines gave one."""
    weights: dict[str, float] = {}
    found = 0
    for line, distance in lines:
        text = line.strip()
        if text.startswith(typed):
            rest = _rest(text[len(typed) :], after)
            if rest:
                weights[rest] = weights.get(rest, 0.0) + _weight(distance)
                found += 1
    return weights, found


def _anchors(typed: str) -> Iterator[str]:
    """The ends of ``typed`` that start where a word or a symbol does (not inside a word, not on
    a blank), longest first, down to ``ANCHOR_MIN`` non-blank characters."""
    for i in range(1, len(typed)):
        if _word(typed[i]) and _word(typed[i - 1]):
            continue
        anchor = typed[i:]
        if sum(not ch.isspace() for ch in anchor) < ANCHOR_MIN:
            return
        if not anchor[0].isspace():
            yield anchor


def _inside(anchor: str, after: str, lines) -> tuple[dict[str, float], int]:
    """As ``_starting``, for every place in a line where ``anchor`` occurs (not inside a word)."""
    weights: dict[str, float] = {}
    found = 0
    starts_word = _word(anchor[0])
    for line, distance in lines:
        text = line.rstrip()
        at = text.find(anchor)
        while at >= 0:
            if not (starts_word and at and _word(text[at - 1])):
                rest = _rest(text[at + len(anchor) :], after)
                if rest:
                    weights[rest] = weights.get(rest, 0.0) + _weight(distance)
                    found += 1
            at = text.find(anchor, at + 1)
    return weights, found


def _agreed(weights: dict[str, float], majority: float) -> str:
    """The longest text that continuations holding ``majority`` of the weight start with, if it
    is worth showing."""
    if not weights:
        return ""
    need = majority * sum(weights.values())
    group = list(weights.items())
    shown = ""
    while True:
        depth = len(shown)
        # The characters the group's continuations take next, by weight.
        nexts: dict[str, float] = {}
        ended = 0.0
        for text, weight in group:
            if len(text) > depth:
                nexts[text[depth]] = nexts.get(text[depth], 0.0) + weight
            else:
                ended += weight
        if ended >= need:
            # A whole continuation holds the majority: it ends here.
            return shown
        if not nexts:
            break
        char, weight = max(nexts.items(), key=lambda item: item[1])
        if weight < need:
            break
        group = [(text, w) for text, w in group if len(text) > depth and text[depth] == char]
        shown += char
    if not shown or any(text == shown for text, _ in group):
        return shown
    if _word(shown[-1]) and any(_word(text[len(shown)]) for text, _ in group):
        # The candidates part inside a word: show up to its start, not a guess at its letters.
        cut = len(shown)
        while cut and _word(shown[cut - 1]):
            cut -= 1
        shown = shown[:cut]
    return shown if len(shown) >= MIN_PARTIAL else ""


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"
