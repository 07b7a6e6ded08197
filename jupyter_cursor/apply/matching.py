"""Finding a run of lines from a suggestion in the notebook's cells.

The ladder, stopping at the first rung that finds anything: exact lines (trailing whitespace
ignored), then the same lines with a uniform change of indentation, then a fuzzy line alignment
(a window whose lines mostly match, for a dropped or slightly changed context line). Several
equally good places are an ambiguity, which the caller refuses rather than guess.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass

FUZZY_MIN_RATIO = 0.75  # line-level similarity of a window to the searched lines
FUZZY_TIE = 0.02  # candidates this close to the best are equally good
MAX_FUZZY_CANDIDATES = 400
# Two lines this alike (difflib ratio of the stripped text) are one line with a small difference.
SIMILAR = 0.8


@dataclass(frozen=True)
class Match:
    cell_id: str
    start: int  # first line of the cell covered
    end: int  # one past the last line
    rung: str  # "exact" | "indent" | "fuzzy"
    indent: int = 0  # add this many spaces to the suggestion's lines to fit the cell
    score: float = 1.0


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def is_trivial(line: str) -> bool:
    """A line that matches too much to anchor anything: blank, or brackets and punctuation."""
    stripped = line.strip()
    return len(stripped) <= 2 or not any(c.isalnum() for c in stripped)


def reindent(lines: list[str], delta: int) -> list[str]:
    if delta == 0:
        return lines
    if delta > 0:
        return [(" " * delta + line) if line.strip() else line for line in lines]
    out = []
    for line in lines:
        cut = min(-delta, indent_of(line))
        out.append(line[cut:])
    return out


def indent_delta(pairs: list[tuple[str, str]]) -> int:
    """The most common (cell indent − suggestion indent) over matched non-blank line pairs."""
    deltas = Counter(indent_of(a) - indent_of(b) for a, b in pairs if a.strip() and b.strip())
    return deltas.most_common(1)[0][0] if deltas else 0


def _contiguous(
    needle: list[str], cells: list[tuple[str, list[str]]], key, rung: str
) -> list[Match]:
    want = [key(line) for line in needle]
    matches = []
    for cell_id, lines in cells:
        have = [key(line) for line in lines]
        for start in range(len(have) - len(want) + 1):
            if have[start : start + len(want)] == want:
                pairs = list(zip(lines[start : start + len(want)], needle))
                delta = indent_delta(pairs) if rung == "indent" else 0
                matches.append(Match(cell_id, start, start + len(want), rung, delta))
    return matches


def _fuzzy(needle: list[str], cells: list[tuple[str, list[str]]]) -> list[Match]:
    want = [line.strip() for line in needle]
    anchors = {line: i for i, line in enumerate(want) if not is_trivial(line)}
    if not anchors:
        return []
    scored: list[Match] = []
    seen = set()
    for cell_id, lines in cells:
        have = [line.strip() for line in lines]
        for pos, line in enumerate(have):
            if line not in anchors:
                continue
            guess = pos - anchors[line]
            for size in {len(want) - 1, len(want), len(want) + 1}:
                start = max(0, guess)
                end = min(len(have), start + size)
                if (cell_id, start, end) in seen or end <= start:
                    continue
                seen.add((cell_id, start, end))
                matcher = difflib.SequenceMatcher(None, want, have[start:end], autojunk=False)
                ratio = _soft_ratio(matcher, want, have[start:end])
                if ratio >= FUZZY_MIN_RATIO:
                    pairs = [
                        (lines[start + b + k], needle[a + k])
                        for a, b, n in matcher.get_matching_blocks()
                        for k in range(n)
                    ]
                    scored.append(Match(cell_id, start, end, "fuzzy", indent_delta(pairs), ratio))
            if len(seen) > MAX_FUZZY_CANDIDATES:
                break
    if not scored:
        return []
    best = max(m.score for m in scored)
    close = [m for m in scored if m.score >= best - FUZZY_TIE]
    # Overlapping windows around one place are one candidate: keep the best of each cluster.
    distinct: list[Match] = []
    for match in sorted(close, key=lambda m: -m.score):
        if not any(
            m.cell_id == match.cell_id and m.start < match.end and match.start < m.end
            for m in distinct
        ):
            distinct.append(match)
    return distinct


def likeness(a: str, b: str) -> float:
    """1 for two lines equal but for spacing, else difflib's ratio of their characters."""
    if "".join(a.split()) == "".join(b.split()):
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def similar(a: str, b: str) -> bool:
    """Two stripped lines that differ by a typo or a changed literal, not two different lines."""
    return bool(a and b) and likeness(a, b) >= SIMILAR


def _soft_ratio(matcher: difflib.SequenceMatcher, want: list[str], have: list[str]) -> float:
    """The matcher's line ratio, counting the lines of a changed stretch that pair, in order, with
    a similar line by how alike they are (a place with the lines as written beats one with lines
    alike enough)."""
    matched = 0.0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            matched += i2 - i1
        elif tag == "replace":
            for a, b in zip(want[i1:i2], have[j1:j2]):
                score = likeness(a, b) if a and b else 0.0
                matched += score if score >= SIMILAR else 0.0
    return 2 * matched / max(1, len(want) + len(have))


def locate(needle: list[str], cells: list[tuple[str, list[str]]]) -> list[Match]:
    """Every best place of `needle` (a list of lines) in `cells` [(cell id, lines)]."""
    while needle and not needle[-1].strip():
        needle = needle[:-1]
    while needle and not needle[0].strip():
        needle = needle[1:]
    if not needle:
        return []
    for key, rung in ((str.rstrip, "exact"), (str.strip, "indent")):
        found = _contiguous(needle, cells, key, rung)
        if found:
            return found
    return _fuzzy(needle, cells)


def common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """How many first lines, and then last lines, the two have in common."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    return head, tail


def trim_blank_edges(lines: list[str]) -> tuple[int, int]:
    """(leading, trailing) counts of blank lines."""
    lead = 0
    while lead < len(lines) and not lines[lead].strip():
        lead += 1
    trail = 0
    while trail < len(lines) - lead and not lines[len(lines) - 1 - trail].strip():
        trail += 1
    return lead, trail


def strip_blank_edges(lines: list[str]) -> list[str]:
    a, b = 0, len(lines)
    while a < b and not lines[a].strip():
        a += 1
    while b > a and not lines[b - 1].strip():
        b -= 1
    return lines[a:b]


def keep_original_text(region: list[str], new: list[str]) -> list[str]:
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
