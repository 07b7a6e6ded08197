"""When to stop, and which part of the raw output the caller may see yet.

Shared by the local and the remote backends, which both hand it the whole output so far.
"""

from __future__ import annotations

from collections.abc import Sequence


def _common_prefix_length(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def rejoin_point(output: str, original: str, window: int) -> int | None:
    """Where ``original`` resumes once ``output`` has rejoined it, or None.

    The output has rejoined when its last ``window`` characters occur exactly once in
    ``original`` and both that occurrence and the output's tail lie after the point where output
    and original first differ. Before that point the model is still copying (no edit yet), and a
    tail that matches earlier text is a repetition, not a rejoin; an ambiguous tail is not trusted.
    The returned index is the end of the occurrence: ``output + original[index:]`` is the result.
    """
    if window <= 0 or len(output) < window:
        return None
    tail_start = len(output) - window
    diverged_at = _common_prefix_length(output, original)
    if tail_start < diverged_at:
        return None
    tail = output[tail_start:]
    found = original.find(tail)
    if found < diverged_at or original.find(tail, found + 1) >= 0:
        return None
    return found + window


class OutputTracker:
    """Applies stop strings and the rejoin rule to the raw output, holding back what may change.

    Held back: a trailing replacement character (a multi-byte character cut between tokens) and
    a tail that could be the start of a stop string, so no stop string ever reaches the caller.
    """

    def __init__(
        self, stop: Sequence[str] = (), original: str | None = None, rejoin_chars: int = 32
    ):
        self._stop = [s for s in stop if s]
        self._original = original
        self._rejoin_chars = rejoin_chars

    def update(self, raw: str) -> tuple[str, str | None]:
        """(visible text, finish reason or None) for the raw output so far."""
        cut = min((i for i in (raw.find(s) for s in self._stop) if i >= 0), default=-1)
        if cut >= 0:
            return raw[:cut], "stop"
        if self._original is not None:
            resume = rejoin_point(raw, self._original, self._rejoin_chars)
            if resume is not None:
                return raw + self._original[resume:], "rejoined"
        return raw[: len(raw) - self._held_back(raw)], None

    def final(self, raw: str) -> str:
        """The visible text when generation ended for another reason (eos, length, cancel)."""
        text, reason = self.update(raw)
        return text if reason else raw.rstrip("\ufffd")

    def _held_back(self, raw: str) -> int:
        if raw.endswith("\ufffd"):
            return len(raw) - len(raw.rstrip("\ufffd"))
        longest = 0
        for s in self._stop:
            for n in range(min(len(s) - 1, len(raw)), longest, -1):
                if raw.endswith(s[:n]):
                    longest = n
                    break
        return longest
