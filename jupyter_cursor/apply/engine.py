"""A model's answer → a NotebookDiff, deterministically.

Each fenced block is read for what it is (SEARCH/REPLACE blocks, a unified diff, or a whole or
lazy cell), where it goes (a directive in the prose before it or on its first line, or else the
cell its content matches), and merged into that one cell. What cannot be placed with confidence is
refused with a warning that says why (and names the candidates when several cells fit); a cell no
block targets never changes.
"""

from __future__ import annotations

import difflib
import re
import textwrap
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from . import directives, edits, markdown
from .directives import CellRef, Directive
from .matching import is_trivial, locate
from .notebook_diff import NotebookDiff, operations
from .syntax import introduced_error

# (original cell source, snippet) -> new cell source, or None when the model gave none
Rewrite = Callable[[str, str], str | None]

# Blocks in these languages are not cell edits (shell commands, output samples).
NOT_CELL_LANGUAGES = {"bash", "sh", "shell", "console", "text", "output", "json", "yaml", "toml"}
MIN_CONTENT_SCORE = 0.3  # share of a snippet's significant lines found in a cell, to target it
SCORE_TIE = 0.05
# Share of a block's words found in a cell, to target it when no line is found as it stands: a
# block with elision markers edits some cell; one without may be new code that reuses names.
MIN_WORD_SCORE_LAZY = 0.6
MIN_WORD_SCORE = 0.8
MIN_EDGE_SCORE = 1.0  # every context line next to a lazy block's markers, when little else is found
WORD_LEAD = 0.4
HINT_SLACK = 10  # lines a diff hunk's number may be off, and twice more to the next candidate  # ahead of the next cell by this share of the block's words, to break a tie


def _cells_of(cells: Sequence[Any]) -> list[dict]:
    out = []
    for cell in cells:
        if not isinstance(cell, dict):
            cell = {"id": cell.id, "cell_type": cell.cell_type, "source": cell.source}
        out.append({"id": str(cell["id"]), "cell_type": cell["cell_type"], "source": cell["source"]})
    return out


class _Apply:
    def __init__(self, cells: list[dict], rewrite: Rewrite | None):
        self.original = cells
        self.cells = [dict(c) for c in cells]
        self.rewrite = rewrite
        self.warnings: list[dict] = []
        self.last_inserted: str | None = None
        self.inserted: set[str] = set()  # ids of the cells the answer added
        self.deleted: list[str] = []  # ids of the cells it deleted
        self.pending_deletions: list[tuple[CellRef, list[str]]] = []

    # -- helpers ------------------------------------------------------------------------------------
    def warn(self, code: str, message: str, **extra: Any) -> None:
        self.warnings.append({"code": code, "message": message, **extra})

    def index(self, cell_id: str) -> int:
        for i, cell in enumerate(self.cells):
            if cell["id"] == cell_id:
                return i
        return -1

    def resolve(self, ref: CellRef) -> list[str]:
        """Ids of the cells `ref` names (several = ambiguous)."""
        if ref.id is not None:
            return [ref.id] if self.index(ref.id) >= 0 else []
        if ref.number is not None:
            return [self.cells[ref.number - 1]["id"]] if 0 < ref.number <= len(self.cells) else []
        text = re.sub(r"(\.\.\.|…)\s*$", "", ref.text or "").strip()
        want = " ".join(text.split())
        if not want:
            return []
        # The answer quotes the notebook as it was, though an earlier block may have changed the
        # cell; a cell the answer itself added is named only when no cell of the notebook fits.
        kept = [c for c in self.original if self.index(c["id"]) >= 0]
        kept_ids = {c["id"] for c in kept}
        for cells in (
            kept,
            [c for c in self.cells if c["id"] in kept_ids],
            [c for c in self.cells if c["id"] not in kept_ids],
        ):
            found = self._quoted(cells, want, ref.how)
            if found:
                return found
        return []

    @staticmethod
    def _quoted(cells: list[dict], want: str, how: str) -> list[str]:
        found = []
        for cell in cells:
            have = " ".join(cell["source"].split())
            if (have.startswith(want) if how == "starts" else want in have):
                found.append(cell["id"])
        if len(found) > 1 and how == "starts":
            # An unabridged quote is the whole first line: `samp` is not `samp = Html(...)`.
            by_id = {c["id"]: c for c in cells}
            whole = [cid for cid in found if by_id[cid]["source"].split("\n")[0].strip() == want]
            found = whole or found
        if not found and how == "starts":
            # Models quote a cell by a line near its top as often as by its very first characters.
            found = [c["id"] for c in cells if any(
                " ".join(line.split()).startswith(want) for line in c["source"].split("\n")[:3]
            )]
        return found

    def new_id(self) -> str:
        taken = {c["id"] for c in self.cells}
        while True:
            candidate = uuid.uuid4().hex[:8]
            if candidate not in taken:
                return candidate

    # -- the answer ---------------------------------------------------------------------------------
    def run(self, answer: str) -> None:
        blocks, tail = markdown.parse(answer)
        for block in blocks:
            for ref in directives.deletions(block.prose):
                self.delete(ref)
            self.block(block)
        for ref in directives.deletions(tail):
            self.delete(ref)
        for ref, ids in self.pending_deletions:
            self._delete_beside_new_cell(ref, ids)

    def delete(self, ref: CellRef) -> None:
        ids = self.resolve(ref)
        if len(ids) > 1:
            # Decided at the end: "delete X" next to "add Y" is often one cell replaced by another.
            self.pending_deletions.append((ref, ids))
            return
        if not ids:
            self._unresolved("delete", ref, ids)
            return
        self.deleted.append(ids[0])
        self.cells.pop(self.index(ids[0]))

    def _delete_beside_new_cell(self, ref: CellRef, ids: list[str]) -> None:
        """Of several cells a deletion names, the one right next to a cell the answer added."""
        present = [cid for cid in ids if self.index(cid) >= 0]
        beside = [
            cid
            for cid in present
            if any(
                0 <= j < len(self.cells) and self.cells[j]["id"] in self.inserted
                for j in (self.index(cid) - 1, self.index(cid) + 1)
            )
        ]
        if len(beside) != 1:
            self._unresolved("delete", ref, present)
            return
        self.deleted.append(beside[0])
        self.cells.pop(self.index(beside[0]))

    def _unresolved(self, action: str, ref: CellRef, ids: list[str]) -> None:
        label = ref.id or (f"number {ref.number}" if ref.number else f"`{ref.text}`")
        if ids:
            self.warn("ambiguous", f"Not applied ({action}): several cells match {label}.", candidates=ids)
        else:
            self.warn("not_found", f"Not applied ({action}): no cell matches {label}.")

    def block(self, block: markdown.Block) -> None:
        if block.language in NOT_CELL_LANGUAGES:
            return
        header, code = directives.header_directive(block.code)
        directive = header or directives.block_directive(block.prose)
        if directive is not None and directive.action == "delete":
            self.delete(directive.anchor)
            return
        if directive is not None and directive.action == "insert":
            self.insert(directive, code, block.language)
            return
        target = None
        if directive is not None and directive.action == "modify":
            ids = self.resolve(directive.anchor)
            if len(ids) == 1:
                target = ids[0]
            elif header is not None:
                self._unresolved("edit", directive.anchor, ids)
                return
        self.modify(code, block.language, target)

    def insert(self, directive: Directive, code: str, language: str) -> None:
        cell_type = directive.cell_type or ("markdown" if language in ("markdown", "md") else "code")
        if directive.where == "top":
            position = 0
        elif directive.where == "end":
            position = len(self.cells)
        elif directive.where == "previous":
            if self.last_inserted is None or self.index(self.last_inserted) < 0:
                self.warn("not_found", "Not applied (insert): 'right after it' follows no new cell.")
                return
            position = self.index(self.last_inserted) + 1
        else:
            ids = self.resolve(directive.anchor)
            if len(ids) > 1:
                ids = self._beside_deleted(ids, directive.where) or ids
            if len(ids) != 1:
                self._unresolved("insert", directive.anchor, ids)
                return
            position = self.index(ids[0]) + (1 if directive.where == "after" else 0)
        # A cell starts at the left margin: a block indented as a whole is the answer's layout (in
        # markdown too, where four leading spaces on every line would make it a code block).
        code = textwrap.dedent(code)
        cell = {"id": self.new_id(), "cell_type": cell_type, "source": code}
        self.cells.insert(position, cell)
        self.last_inserted = cell["id"]
        self.inserted.add(cell["id"])

    def _beside_deleted(self, ids: list[str], where: str) -> list[str]:
        """Of several anchors for a new cell, the one that stood right next to (on the side of the
        new cell) a cell the answer deleted: the new cell takes the deleted one's place."""
        order = [c["id"] for c in self.original]
        at = {cid: i for i, cid in enumerate(order)}
        step = 1 if where == "after" else -1
        return [
            cid
            for cid in ids
            if cid in at and 0 <= at[cid] + step < len(order) and order[at[cid] + step] in self.deleted
        ]

    # -- modifying one cell -------------------------------------------------------------------------
    def modify(self, code: str, language: str, target: str | None) -> None:
        if edits.is_search_replace(code):
            for rep in edits.parse_search_replace(code):
                self.replace(rep, target, "SEARCH/REPLACE block")
            return
        if edits.is_udiff(code, language):
            for rep in edits.parse_udiff(code):
                self.replace(rep, target, "diff hunk")
            return
        self.snippet(code.split("\n"), language, target)

    def _candidates(self, language: str, target: str | None) -> list[dict]:
        if target is not None:
            return [self.cells[self.index(target)]]
        want = "markdown" if language in ("markdown", "md") else "code" if language else None
        typed = [c for c in self.cells if want is None or c["cell_type"] == want]
        return typed or self.cells

    def replace(self, rep: edits.Replacement, target: str | None, what: str) -> None:
        cells = self._candidates("", target)
        if not rep.old:
            self.warn("empty_search", f"Not applied: a {what} has nothing to search for.")
            return
        matches = locate(rep.old, [(c["id"], c["source"].split("\n")) for c in cells])
        if not matches:
            self.warn("not_found", f"Not applied: a {what} matches no cell.", search="\n".join(rep.old[:3]))
            return
        if len(matches) > 1:
            # A context line dropped from the search may survive in the replacement: the place
            # where it stands next to the match is the one meant.
            sources = {c["id"]: c["source"].split("\n") for c in cells}
            widened = [m for m in matches if edits.widen(sources[m.cell_id], m, rep) != (m.start, m.end)]
            if len(widened) == 1:
                matches = widened
        if len(matches) > 1 and rep.hint is not None and len({m.cell_id for m in matches}) == 1:
            # One cell (a module) with the same lines twice, and a diff that edits both, hunk by
            # hunk: each hunk's own line number, though a few lines off, tells the two apart.
            near = sorted(matches, key=lambda m: abs(m.start - rep.hint))
            if abs(near[0].start - rep.hint) <= HINT_SLACK < abs(near[1].start - rep.hint) - HINT_SLACK:
                matches = near[:1]
        if len(matches) > 1:
            places = [f"{m.cell_id} line {m.start + 1}" for m in matches]
            self.warn(
                "ambiguous",
                f"Not applied: a {what} matches {len(matches)} places ({', '.join(places[:5])}).",
                candidates=sorted({m.cell_id for m in matches}),
            )
            return
        (match,) = matches
        cell = self.cells[self.index(match.cell_id)]
        lines = edits.replace_at(cell["source"].split("\n"), match, rep)
        cell["source"] = "\n".join(lines)

    def snippet(self, lines: list[str], language: str, target: str | None) -> None:
        lazy = edits.has_markers(lines)
        if target is None and not self.cells:
            # A notebook with no cell: a block of code can only be its first cell.
            if lazy:
                self.warn("not_found", "Not applied: a block with '... existing code ...' in a notebook with no cell.")
            else:
                self.insert(Directive("insert", where="end"), "\n".join(lines), language)
            return
        if target is None:
            target = self._find_target(lines, language, lazy)
            if target is None:
                return
        cell = self.cells[self.index(target)]
        # A whole cell goes through the same merge: it aligns the block with the cell, so a block
        # the model indented as a whole comes back to the cell's indentation.
        merged = edits.merge_lazy(cell["source"].split("\n"), lines)
        if merged.lines is not None:
            cell["source"] = "\n".join(merged.lines)
            return
        new = self.rewrite(cell["source"], "\n".join(lines)) if self.rewrite else None
        if new is None or edits.has_markers(new.split("\n")):
            reason = merged.reason + (" (nor did the model fallback)" if self.rewrite else "")
            self.warn("not_merged", f"Not applied: {reason}.", cell_id=target)
            return
        cell["source"] = new
        self.warn("model_rewrite", "Merged by the model fallback: review this cell.", cell_id=target)

    def _find_target(self, lines: list[str], language: str, lazy: bool) -> str | None:
        cells = self._candidates(language, None)
        significant = {l.strip() for l in lines if not is_trivial(l) and not edits.is_marker(l)}
        if len(cells) == 1:
            return cells[0]["id"]
        if not significant:
            self.warn("not_found", "Not applied: a block has no line that identifies its cell.")
            return None
        scored = []
        for cell in cells:
            have = {l.strip() for l in cell["source"].split("\n")}
            scored.append((len(significant & have) / len(significant), cell["id"]))
        scored.sort(reverse=True)
        best = scored[0][0]
        if best < MIN_CONTENT_SCORE:
            # Every line the block shares with its cell may have changed a little (a renamed
            # variable, a new argument on each line): then the cell that holds the block's words.
            scored = _word_scores(lines, cells)
            enough = MIN_WORD_SCORE_LAZY if lazy else MIN_WORD_SCORE
            if scored[0][0] < enough and lazy:
                # Mostly new lines: a lazy block still shows, next to its markers, the context
                # lines it goes between.
                scored, enough = _edge_scores(lines, cells), MIN_EDGE_SCORE
            best = scored[0][0]
            if best < enough:
                self.warn("not_found", "Not applied: no cell resembles a block of the answer.",
                          snippet="\n".join(lines[:3]))
                return None
        # Among close candidates the block is meant for one it merges into and changes (a cell
        # that already reads as the block gains nothing), clearly the one it changes least.
        close = [(score, cid) for score, cid in scored if score >= best - SCORE_TIE]
        if lazy:
            # A cell holding every context line of a lazy block is a place it may go, however
            # many of the block's other lines a neighbour it was copied from shares: the block
            # that made one cell read like the next landed on that next cell.
            holds_context = {cid for score, cid in _edge_scores(lines, cells) if score >= MIN_EDGE_SCORE}
            close += [(score, cid) for score, cid in scored
                      if cid in holds_context and score >= MIN_CONTENT_SCORE and (score, cid) not in close]
        if len(close) == 1:
            return close[0][1]
        # Tied on whole lines (often on a line every cell has, `#export`), one of them may hold
        # nearly all the block's words where the others hold few: a long changed line.
        by_words = _word_scores(lines, [self.cells[self.index(cid)] for _, cid in close])
        if by_words[0][0] >= MIN_WORD_SCORE and by_words[1][0] <= by_words[0][0] - WORD_LEAD:
            return by_words[0][1]
        fits, unchanged = [], 0
        for score, cid in close:
            source = self.cells[self.index(cid)]["source"]
            merged = edits.merge_lazy(source.split("\n"), lines).lines
            if merged is None:
                continue
            if "\n".join(merged) == source:
                unchanged += 1
                continue
            fits.append((_changed_lines(source.split("\n"), merged), -score, cid))
        fits.sort()
        if not fits:
            if unchanged:
                return None  # every candidate already reads as the block: nothing to do
            fits = [(0, -score, cid) for score, cid in close]
        if len(fits) == 1:
            return fits[0][2]
        (cost, _, cid), (cost2, _, _) = fits[0], fits[1]
        if 2 * cost <= cost2:
            return cid  # it needs half the changes the next one does (or none)
        # The candidates a reader must choose between: every cell the block fits (the message
        # once listed only those tied on changes, naming one cell as "several").
        self.warn(
            "ambiguous",
            f"Not applied: a block fits {len(fits)} cells with no clear best.",
            candidates=[c for _, _, c in fits],
        )
        return None

    # -- result -------------------------------------------------------------------------------------
    def result(self) -> NotebookDiff:
        original = {c["id"]: c["source"] for c in self.original}
        for cell in self.cells:
            before = original.get(cell["id"])
            if cell["cell_type"] != "code" or before == cell["source"]:
                continue  # an unchanged cell introduces nothing (and parsing each took most of the time)
            error = introduced_error(before, cell["source"])
            if error:
                message, line = error
                self.warn("syntax_error", f"The edit introduces a syntax error: {message}.",
                          cell_id=cell["id"], line=line)
        return NotebookDiff(self.cells, operations(self.original, self.cells), self.warnings)


_WORD = re.compile(r"[A-Za-z_]\w+|\d+")


def _words(lines) -> set[str]:
    return {word for line in lines for word in _WORD.findall(line)}


def _word_scores(lines: list[str], cells: list[dict]) -> list[tuple[float, str]]:
    """(share of the block's words, other than its markers', that the cell has, cell id), best
    first."""
    words = _words(l for l in lines if not edits.is_marker(l))
    if not words:
        return [(0.0, cells[0]["id"])]
    scored = [(len(words & _words(c["source"].split("\n"))) / len(words), c["id"]) for c in cells]
    return sorted(scored, reverse=True)


def _edge_scores(lines: list[str], cells: list[dict]) -> list[tuple[float, str]]:
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
        (len(edges & {l.strip() for l in c["source"].split("\n")}) / max(1, len(edges)), c["id"]) for c in cells
    ]
    return sorted(scored, reverse=True)


def _changed_lines(before: list[str], after: list[str]) -> int:
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def apply_suggestion(
    cells: Sequence[Any], suggestion: str, *, rewrite: Rewrite | None = None
) -> NotebookDiff:
    """The NotebookDiff that `suggestion` (a model's markdown answer) makes to `cells`.

    ``rewrite``, when given, is the model fallback (``fallback.ModelFallback``): it gets one cell's
    source and a snippet the deterministic merge refused, and returns the new cell source or None.
    """
    job = _Apply(_cells_of(cells), rewrite)
    job.run(suggestion)
    return job.result()
