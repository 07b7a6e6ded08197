"""What an edit changed: the replaced text and its replacement, by characters or whole words."""

from __future__ import annotations


def _ends(before: str, after: str) -> tuple[int, int]:
    """(common prefix length, common suffix length) that do not overlap in either text (a binary
    search over slices compared in C: a keystroke in a 3000-line module costs microseconds)."""
    limit = min(len(before), len(after))
    low, high = 0, limit  # before[:low] == after[:low]; the prefix is at most high
    while low < high:
        mid = (low + high + 1) // 2
        if before[low:mid] == after[low:mid]:
            low = mid
        else:
            high = mid - 1
    start = low
    low, high = 0, limit - start
    n, m = len(before), len(after)
    while low < high:
        mid = (low + high + 1) // 2
        if before[n - mid : n - low] == after[m - mid : m - low]:
            low = mid
        else:
            high = mid - 1
    return start, low


def changed_span(before: str, after: str) -> tuple[str, str]:
    """(old, new): the text the edit replaced and what replaced it (common ends trimmed)."""
    start, end = _ends(before, after)
    return before[start : len(before) - end], after[start : len(after) - end]


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def word_span(before: str, after: str) -> tuple[str, str]:
    """Like changed_span, widened to whole words: ``foo_bar`` → ``foo_baz`` is that, not ``r`` → ``z``
    (a repeat of ``r`` → ``z`` would hit any word with an r)."""
    start, end = _ends(before, after)
    while start > 0 and _is_word(before[start - 1]):
        start -= 1
    while end > 0 and _is_word(before[len(before) - end]):
        end -= 1
    return before[start : len(before) - end], after[start : len(after) - end]


def line_change(before: str, after: str) -> tuple[str, str, int]:
    """(old lines, new lines, where they start): the changed span widened to whole lines."""
    start, end = _ends(before, after)
    line_start = before.rfind("\n", 0, start) + 1
    stop_before, stop_after = len(before) - end, len(after) - end

    def at_line_start(text: str, at: int) -> bool:
        return at == line_start or text[at - 1] == "\n"

    if not (at_line_start(before, stop_before) and at_line_start(after, stop_after)):
        newline = before.find("\n", stop_before)
        grow = (len(before) if newline < 0 else newline + 1) - stop_before
        stop_before, stop_after = stop_before + grow, stop_after + grow
    return before[line_start:stop_before], after[line_start:stop_after], line_start
