"""Repeat the user's last edit at the next place it applies in the same cell: the same text
replaced the same way (a repeated argument change, a renamed call, a fixed typo), after the cursor.
"""

from __future__ import annotations


def changed_span(before: str, after: str) -> tuple[str, str]:
    """(old, new): the text the edit replaced and what replaced it (common ends trimmed)."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end_b, end_a = len(before), len(after)
    while end_b > start and end_a > start and before[end_b - 1] == after[end_a - 1]:
        end_b -= 1
        end_a -= 1
    return before[start:end_b], after[start:end_a]


def repeat_edit(event: dict, source: str, offset: int) -> str | None:
    """The cell's source with the event's change made again after `offset`, or None."""
    old, new = changed_span(event["before"], event["after"])
    if not old.strip():
        return None  # a pure insertion has no "same place" to find
    at = source.find(old, offset)
    if at < 0:
        return None
    return source[:at] + new + source[at + len(old) :]
