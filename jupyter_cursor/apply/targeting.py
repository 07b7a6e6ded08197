"""Which cell a block of the answer goes to: the cells a reference in the prose names (an id, a
number, a quote), and, for a block no reference places, the one cell its content fits.

Each function reads ``cells``, the notebook as the answer has made it so far (dicts ``{"id",
"cell_type", "source"}``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from . import edits
from .directives import CellRef
from .matching import is_trivial

# (code, message, **extra): how a block that cannot be placed is reported
Warn = Callable[..., None]

MIN_CONTENT_SCORE = 0.3  # share of a snippet's significant lines found in a cell, to target it
SCORE_TIE = 0.05
# Share of a block's words found in a cell, to target it when no line is found as it stands: a
# block with elision markers edits some cell; one without may be new code that reuses names.
MIN_WORD_SCORE_LAZY = 0.6
MIN_WORD_SCORE = 0.8
MIN_EDGE_SCORE = 1.0  # every context line next to a lazy block's markers, when little else is found
WORD_LEAD = 0.4  # ahead of the next cell by this share of the block's words, to break a tie
# Cells tied on changed lines (near copies: one function written twice, a plot called with other
# arguments): the block edits the one whose changed lines it rewrites with at most this share of
# the tokens any other would need, if no other holds more of the block's words.
TOKEN_LEAD = 0.5
MAX_ALIGNED_UNITS = 2000  # tokens or characters aligned at once to count a change (quadratic)

_WORD = re.compile(r"[A-Za-z_]\w+|\d+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_DEFINITION = re.compile(r"\s*(?:async\s+)?(?:def|class)\s+(\w+)")


def find_index(cells: list[dict], cell_id: str) -> int:
    """The position of the (first) cell with id `cell_id`, or -1."""
    for i, cell in enumerate(cells):
        if cell["id"] == cell_id:
            return i
    return -1


def resolve(ref: CellRef, original: list[dict], cells: list[dict]) -> list[str]:
    """Ids of the cells `ref` names (several = ambiguous); `original` is the notebook as it was."""
    if ref.id is not None:
        return [ref.id] if find_index(cells, ref.id) >= 0 else []
    if ref.number is not None:
        return [cells[ref.number - 1]["id"]] if 0 < ref.number <= len(cells) else []
    text = re.sub(r"(\.\.\.|…)\s*$", "", ref.text or "").strip()
    want = " ".join(text.split())
    if not want:
        return []
    # The answer quotes the notebook as it was, though an earlier block may have changed the
    # cell; a cell the answer itself added is named only when no cell of the notebook fits.
    kept = [c for c in original if find_index(cells, c["id"]) >= 0]
    kept_ids = {c["id"] for c in kept}
    for group in (
        kept,
        [c for c in cells if c["id"] in kept_ids],
        [c for c in cells if c["id"] not in kept_ids],
    ):
        found = _match_quote(group, want, ref.how)
        if found:
            return found
    return []


def _match_quote(cells: list[dict], want: str, how: str) -> list[str]:
    found = []
    for cell in cells:
        have = " ".join(cell["source"].split())
        if have.startswith(want) if how == "starts" else want in have:
            found.append(cell["id"])
    if len(found) > 1 and how == "starts":
        # An unabridged quote is the whole first line: `samp` is not `samp = Html(...)`.
        by_id = {c["id"]: c for c in cells}
        whole = [cid for cid in found if by_id[cid]["source"].split("\n")[0].strip() == want]
        found = whole or found
    if not found and how == "starts":
        # Models quote a cell by a line near its top as often as by its very first characters.
        found = [
            c["id"]
            for c in cells
            if any(" ".join(line.split()).startswith(want) for line in c["source"].split("\n")[:3])
        ]
    return found


def pick_candidates(cells: list[dict], language: str, target: str | None) -> list[dict]:
    """The cells a block may edit: its `target` when it has one, else the cells of the type its
    language says (every cell when none is of that type)."""
    if target is not None:
        return [cells[find_index(cells, target)]]
    want = "markdown" if language in ("markdown", "md") else "code" if language else None
    typed = [c for c in cells if want is None or c["cell_type"] == want]
    return typed or cells


def find_target(
    cells: list[dict],
    lines: list[str],
    language: str,
    lazy: bool,
    warn: Warn,
    after: int | None = None,
) -> str | None:
    """The id of the one cell a block that no directive places edits, or None: then `warn` has
    said why, unless every candidate already reads as the block."""
    candidates = pick_candidates(cells, language, None)
    significant = {l.strip() for l in lines if not is_trivial(l) and not edits.is_marker(l)}
    if len(candidates) == 1:
        return candidates[0]["id"]
    if not significant:
        warn("not_found", "Not applied: a block has no line that identifies its cell.")
        return None
    scored = []
    for cell in candidates:
        have = {l.strip() for l in cell["source"].split("\n")}
        scored.append((len(significant & have) / len(significant), cell["id"]))
    scored.sort(reverse=True)
    best = scored[0][0]
    if best < MIN_CONTENT_SCORE:
        # Every line the block shares with its cell may have changed a little (a renamed
        # variable, a new argument on each line): then the cell that holds the block's words.
        scored = _score_words(lines, candidates)
        enough = MIN_WORD_SCORE_LAZY if lazy else MIN_WORD_SCORE
        if scored[0][0] < enough and lazy:
            # Mostly new lines: a lazy block still shows, next to its markers, the context
            # lines it goes between.
            scored, enough = _score_edges(lines, candidates), MIN_EDGE_SCORE
        best = scored[0][0]
        if best < enough:
            defining = _defining(lines, candidates)
            if len(defining) == 1:
                return defining[0]
            warn(
                "not_found",
                "Not applied: no cell resembles a block of the answer.",
                snippet="\n".join(lines[:3]),
            )
            return None
    # Among close candidates the block is meant for one it merges into and changes (a cell
    # that already reads as the block gains nothing), clearly the one it changes least.
    close = [(score, cid) for score, cid in scored if score >= best - SCORE_TIE]
    if lazy:
        # A cell holding every context line of a lazy block is a place it may go, however
        # many of the block's other lines a neighbour it was copied from shares: the block
        # that made one cell read like the next landed on that next cell.
        holds_context = {
            cid for score, cid in _score_edges(lines, candidates) if score >= MIN_EDGE_SCORE
        }
        close += [
            (score, cid)
            for score, cid in scored
            if cid in holds_context and score >= MIN_CONTENT_SCORE and (score, cid) not in close
        ]
    if len(close) == 1:
        return close[0][1]
    # Tied on whole lines (often on a line every cell has, `#export`), one of them may hold
    # nearly all the block's words where the others hold few: a long changed line.
    by_words = _score_words(lines, [cells[find_index(cells, cid)] for _, cid in close])
    if by_words[0][0] >= MIN_WORD_SCORE and by_words[1][0] <= by_words[0][0] - WORD_LEAD:
        return by_words[0][1]
    fits, unchanged = [], 0
    for score, cid in close:
        source = cells[find_index(cells, cid)]["source"]
        merged = edits.merge_lazy(source.split("\n"), lines).lines
        if merged is None:
            continue
        if "\n".join(merged) == source:
            unchanged += 1
            continue
        fits.append((_count_changed_lines(source.split("\n"), merged), -score, cid, merged))
    fits.sort(key=lambda fit: fit[:3])
    if not fits:
        if unchanged:
            return None  # every candidate already reads as the block: nothing to do
        fits = [(0, -score, cid, None) for score, cid in close]
    if len(fits) == 1:
        return fits[0][2]
    (cost, _, cid, _), (cost2, *_) = fits[0], fits[1]
    if 2 * cost <= cost2:
        return cid  # it needs half the changes the next one does (or none)
    closest = _fewest_changed(lines, fits, cells)
    if closest is not None:
        return closest
    # Models write their blocks in the notebook's order: of the cells it fits, a block that
    # follows another edits the first one after the cell that one changed or added (`after`).
    if after is not None and after >= 0:
        later = [i for i in (find_index(cells, fit[2]) for fit in fits) if i > after]
        if later:
            return cells[min(later)]["id"]
    # Else, with as many tokens changed, clearly fewer characters: `offset=0.5` made `offset=6`
    # in one copy of a plot, rather than `, offset=6` added to the other copy.
    closest = _fewest_changed(lines, fits, cells, list)
    if closest is not None:
        return closest
    # The candidates a reader must choose between: every cell the block fits (the message
    # once listed only those tied on changes, naming one cell as "several").
    warn(
        "ambiguous",
        f"Not applied: a block fits {len(fits)} cells with no clear best.",
        candidates=[fit[2] for fit in fits],
    )
    return None


def _defined(lines) -> set[str]:
    return {m.group(1) for line in lines for m in [_DEFINITION.match(line)] if m}


def _defining(lines: list[str], cells: list[dict]) -> list[str]:
    """Ids of the cells that define (`def`, `class`) a name the block defines: a block rewriting
    most of a function still names it."""
    names = _defined(lines)
    if not names:
        return []
    return [c["id"] for c in cells if names & _defined(c["source"].split("\n"))]


def _collect_words(lines) -> set[str]:
    return {word for line in lines for word in _WORD.findall(line)}


def _score_words(lines: list[str], cells: list[dict]) -> list[tuple[float, str]]:
    """(share of the block's words, other than its markers', that the cell has, cell id), best
    first."""
    words = _collect_words(l for l in lines if not edits.is_marker(l))
    if not words:
        return [(0.0, cells[0]["id"])]
    scored = [
        (len(words & _collect_words(c["source"].split("\n"))) / len(words), c["id"]) for c in cells
    ]
    return sorted(scored, reverse=True)


def _score_edges(lines: list[str], cells: list[dict]) -> list[tuple[float, str]]:
    """(share of the first and last lines of the block's runs, between its markers, that the
    cell has, cell id), best first."""
    runs: list[list[str]] = [[]]
    for line in lines:
        if edits.is_marker(line):
            runs.append([])
        elif not is_trivial(line):
            runs[-1].append(line.strip())
    edges = {line for run in runs if run for line in (run[0], run[-1])}
    scored = [
        (len(edges & {l.strip() for l in c["source"].split("\n")}) / max(1, len(edges)), c["id"])
        for c in cells
    ]
    return sorted(scored, reverse=True)


def _fewest_changed(
    lines: list[str], fits: list[tuple], cells: list[dict], split=_TOKEN.findall
) -> str | None:
    """Of the cells tied on the fewest changed lines, the one the block rewrites with clearly
    fewer units changed than any other fit (see TOKEN_LEAD), or None. Units: `split` of the
    text, its tokens (words and punctuation) by default. One holding fewer of the block's words
    than another is not clearly it (the block may be the other, cut down: a call that lost
    arguments reads as a small edit of a shorter call that never had them)."""
    if any(merged is None for *_, merged in fits):
        return None
    costs = []
    for changed, _, cid, merged in fits:
        source = cells[find_index(cells, cid)]["source"].split("\n")
        costs.append((_count_changed_units(source, merged, split), cid, changed))
    ranked = sorted(costs)
    (best, cid, changed), runner_up = ranked[0], ranked[1][0]
    if changed != fits[0][0] or best > TOKEN_LEAD * runner_up:
        return None
    words = _collect_words(l for l in lines if not edits.is_marker(l))
    held = {
        c: len(words & _collect_words(cells[find_index(cells, c)]["source"].split("\n")))
        for _, c, _ in costs
    }
    return cid if held[cid] == max(held.values()) else None


def _count_changed_units(before: list[str], after: list[str], split) -> int:
    """Units (`split` of the text: its tokens, words and punctuation, or its characters) removed
    or added in the lines that differ. A stretch of changed lines too long to align unit by unit
    (difflib's matcher is quadratic: two 200-line near-copies took seconds) is aligned line for
    line, and a line too long for that counts whole."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    total = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old = split("\n".join(before[i1:i2]))
        new = split("\n".join(after[j1:j2]))
        if len(old) + len(new) <= MAX_ALIGNED_UNITS:
            total += _unit_distance(old, new)
            continue
        pairs = list(zip(before[i1:i2], after[j1:j2]))
        total += sum(_unit_distance(split(a), split(b)) for a, b in pairs)
        total += sum(len(split(line)) for line in before[i1 + len(pairs) : i2])
        total += sum(len(split(line)) for line in after[j1 + len(pairs) : j2])
    return total


def _unit_distance(old: list[str], new: list[str]) -> int:
    if len(old) + len(new) > MAX_ALIGNED_UNITS:
        return len(old) + len(new)
    same = difflib.SequenceMatcher(None, old, new, autojunk=False).get_matching_blocks()
    return len(old) + len(new) - 2 * sum(block.size for block in same)


def _count_changed_lines(before: list[str], after: list[str]) -> int:
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return sum(
        max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    )
