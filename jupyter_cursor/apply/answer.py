"""A model's answer → a NotebookDiff, deterministically.

Each fenced block is read for what it is (SEARCH/REPLACE blocks, a unified diff, or a whole or
lazy cell), where it goes (``targeting``: a directive in the prose before it or on its first line,
or else the cell its content matches), and merged into that one cell. What cannot be placed with
confidence is refused with a warning that says why (and names the candidates when several cells
fit); a cell no block targets never changes.
"""

from __future__ import annotations

import re
import textwrap
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from .. import protocol
from . import directives, edits, markdown
from .definitions import definitions_span
from .directives import CellRef, Directive
from .matching import Match, locate, strip_blank_edges, trim_blank_edges
from .notebook_diff import NotebookDiff, operations
from .syntax import introduced_error
from .targeting import find_index, find_target, pick_candidates, resolve

# (original cell source, snippet) -> new cell source, or None when the model gave none
Rewrite = Callable[[str, str], str | None]

# Cells a series of blocks may share out (find_series): near-copies of a cell edited one by one
# are a few; an answer tied over more is refused block by block, without looking ahead.
MAX_SERIES = 8
# Blocks in these languages are not cell edits (shell commands, output samples, configuration):
# an answer shows them to be run or copied. (SEARCH/REPLACE blocks and diffs under such a tag
# are edits all the same: models tag them anything.)
NOT_CELL_LANGUAGES = {
    "bash", "sh", "shell", "zsh", "console", "shell-session", "powershell", "ps1", "bat", "cmd",
    "text", "txt", "plaintext", "output", "log", "json", "jsonl", "yaml", "yml", "toml", "ini",
    "cfg", "conf", "csv", "tsv", "dockerfile", "requirements", "pip",
}  # fmt: skip
# A whole block (no elision markers) that no directive places is the cell's new text only if it
# looks like it: one less than half as long as its target that keeps under a third of the target's
# lines is an example, a command or a file name (in a one-cell file it replaced a 438-line module).
SHORT_BLOCK = 0.5
MIN_KEPT_SHARE = 0.34
# A file name ("src/utils.py"): a block of one names where code goes, it is no cell's text; the
# prose line that introduces a block ("Here is the updated `setup.py`:") says which file it is for.
# Only source and text files: "Now load `sales.csv`:" introduces code that reads a data file.
_SOURCE = r"py|ipynb|pyi|txt|md|rst|toml|ya?ml|cfg|ini|sh|r|js|ts|html|css|sql"
_FILE = rf"[\w.~/\\-]*[\w-]\.(?:{_SOURCE}|csv|tsv|json|jsonl|parquet|xlsx?)"
_FILE_NAME = re.compile(rf"^{_FILE}$", re.IGNORECASE)
_SOURCE_NAME = re.compile(rf"^[\w.~/\\-]*[\w-]\.(?:{_SOURCE})$", re.IGNORECASE)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# How many lines a diff hunk's own line number may be off and still tell two identical matches in
# one cell apart: the nearer match must lie within this many lines of it, the other more than twice
# as many away.
HINT_SLACK = 10


class _Apply:
    def __init__(self, cells: list[dict], rewrite: Rewrite | None, path: str = ""):
        self.original = cells
        self.path = path  # the notebook's or file's, when the request says it
        self.cells = [dict(c) for c in cells]
        self.rewrite = rewrite
        self.warnings: list[dict] = []
        self.last_inserted: str | None = None
        self.last_touched: str | None = None  # the cell the previous block edited or added
        self.inserted: set[str] = set()  # ids of the cells the answer added
        self.deleted: list[str] = []  # ids of the cells it deleted
        self.pending_deletions: list[tuple[CellRef, list[str]]] = []
        # SEARCH/REPLACE blocks by (old, new): how many copies the answer has, and how
        # many copies of one applied with its copies are still to pass over.
        self.repeats: Counter = Counter()
        self.repeats_done: Counter = Counter()
        self.upcoming: Sequence[markdown.Block] = ()  # the answer's blocks after the current one
        self.series: list[str] = []  # cells the next blocks edit, one each (find_series)
        # Blocks find_series looked at in vain: none of them heads a series (each is looked at
        # once, or an answer of n tied blocks cost n² placements).
        self.no_series: int = 0

    # -- helpers ------------------------------------------------------------------------------------
    def warn(self, code: str, message: str, **extra: Any) -> None:
        self.warnings.append({"code": code, "message": message, **extra})

    def make_id(self) -> str:
        taken = {c["id"] for c in self.cells}
        while True:
            candidate = uuid.uuid4().hex[:8]
            if candidate not in taken:
                return candidate

    # -- the answer ---------------------------------------------------------------------------------
    def run(self, answer: str) -> None:
        blocks, tail = markdown.parse(answer)
        for block in blocks:
            code = directives.header_directive(block.code)[1]
            if edits.is_search_replace(code):
                for rep in edits.parse_search_replace(code).replacements:
                    self.repeats[(tuple(rep.old), tuple(rep.new))] += 1
        for i, block in enumerate(blocks):
            self.upcoming = blocks[i + 1 :]
            self.no_series = max(0, self.no_series - 1)
            for ref in directives.deletions(block.prose):
                self.delete(ref)
            self.apply_block(block)
        for ref in directives.deletions(tail):
            self.delete(ref)
        for ref, ids in self.pending_deletions:
            self._delete_beside_new_cell(ref, ids)

    def delete(self, ref: CellRef) -> None:
        ids = resolve(ref, self.original, self.cells)
        if len(ids) > 1:
            # Decided at the end: "delete X" next to "add Y" is often one cell replaced by another.
            self.pending_deletions.append((ref, ids))
            return
        if not ids:
            self._warn_unresolved("delete", ref, ids)
            return
        self.deleted.append(ids[0])
        self.cells.pop(find_index(self.cells, ids[0]))

    def _delete_beside_new_cell(self, ref: CellRef, ids: list[str]) -> None:
        """Of several cells a deletion names, the one right next to a cell the answer added."""
        present = [cid for cid in ids if find_index(self.cells, cid) >= 0]
        beside = [
            cid
            for cid in present
            if any(
                0 <= j < len(self.cells) and self.cells[j]["id"] in self.inserted
                for j in (find_index(self.cells, cid) - 1, find_index(self.cells, cid) + 1)
            )
        ]
        if len(beside) != 1:
            self._warn_unresolved("delete", ref, present)
            return
        self.deleted.append(beside[0])
        self.cells.pop(find_index(self.cells, beside[0]))

    def _warn_unresolved(self, action: str, ref: CellRef, ids: list[str]) -> None:
        label = ref.id or (f"number {ref.number}" if ref.number else f"`{ref.text}`")
        if ids:
            self.warn(
                "ambiguous", f"Not applied ({action}): several cells match {label}.", candidates=ids
            )
        else:
            self.warn("not_found", f"Not applied ({action}): no cell matches {label}.")

    def apply_block(self, block: markdown.Block) -> None:
        header, code = directives.header_directive(block.code)
        named, code = file_of(block.prose, code)
        if self.path and named and not same_file(named, self.path):
            self.warn_other_file(named)
            return
        directive = header or directives.block_directive(block.prose)
        if directive is not None and directive.action == "delete":
            self.delete(directive.anchor)
            return
        if edits.is_search_replace(code):
            self.search_replace(code, block.language, directive, header is not None)
            return
        if edits.is_udiff(code, block.language):
            placed, target = self.target_of(directive, header is not None)
            if placed:
                for rep in edits.parse_udiff(code):
                    self.replace(rep, target, "diff hunk")
            return
        if block.language in NOT_CELL_LANGUAGES:
            self.warn(
                "not_code",
                f"Not applied: a `{block.language}` block is not cell code (copy it if you need "
                "it).",
                snippet="\n".join(code.split("\n")[:3]),
            )
            return
        if directive is not None and directive.action == "insert":
            self.insert(directive, code, block.language)
            return
        placed, target = self.target_of(directive, header is not None)
        if placed:
            self.merge_snippet(code.split("\n"), block.language, target, directive is not None)

    def warn_other_file(self, named: str) -> None:
        self.warn(
            "other_file",
            f"Not applied: a block for `{named}`, not for {self.path.rsplit('/', 1)[-1]}.",
        )

    def target_of(self, directive: Directive | None, in_header: bool) -> tuple[bool, str | None]:
        """(whether to go on, the cell a modify directive names): a directive in the block's own
        header that names no one cell refuses the block; one in the prose is only a hint."""
        if directive is None or directive.action != "modify":
            return True, None
        ids = resolve(directive.anchor, self.original, self.cells)
        if len(ids) == 1:
            return True, ids[0]
        if in_header:
            self._warn_unresolved("edit", directive.anchor, ids)
            return False, None
        return True, None

    def insert(self, directive: Directive, code: str, language: str) -> None:
        cell_type = directive.cell_type or (
            "markdown" if language in ("markdown", "md") else "code"
        )
        if directive.where == "top":
            position = 0
        elif directive.where == "end":
            position = len(self.cells)
        elif directive.where == "previous":
            if self.last_inserted is None or find_index(self.cells, self.last_inserted) < 0:
                self.warn(
                    "not_found", "Not applied (insert): 'right after it' follows no new cell."
                )
                return
            position = find_index(self.cells, self.last_inserted) + 1
        else:
            ids = resolve(directive.anchor, self.original, self.cells)
            if len(ids) > 1:
                ids = self._keep_beside_deleted(ids, directive.where) or ids
            if len(ids) != 1:
                self._warn_unresolved("insert", directive.anchor, ids)
                return
            position = find_index(self.cells, ids[0]) + (1 if directive.where == "after" else 0)
        # A cell starts at the left margin: a block indented as a whole is the answer's layout (in
        # markdown too, where four leading spaces on every line would make it a code block).
        code = textwrap.dedent(code)
        cell = {"id": self.make_id(), "cell_type": cell_type, "source": code}
        self.cells.insert(position, cell)
        self.last_inserted = self.last_touched = cell["id"]
        self.inserted.add(cell["id"])

    def _keep_beside_deleted(self, ids: list[str], where: str) -> list[str]:
        """Of several anchors for a new cell, the one that stood right next to (on the side of the
        new cell) a cell the answer deleted: the new cell takes the deleted one's place."""
        order = [c["id"] for c in self.original]
        at = {cid: i for i, cid in enumerate(order)}
        step = 1 if where == "after" else -1
        return [
            cid
            for cid in ids
            if cid in at
            and 0 <= at[cid] + step < len(order)
            and order[at[cid] + step] in self.deleted
        ]

    # -- modifying one cell -------------------------------------------------------------------------
    def search_replace(
        self, code: str, language: str, directive: Directive | None, in_header: bool
    ) -> None:
        parsed = edits.parse_search_replace(code)
        if parsed.malformed:
            self.warn(
                "malformed",
                "Not applied: SEARCH/REPLACE markers out of place (a SEARCH without its "
                "=======, or a marker on its own).",
            )
        if directive is not None and directive.action == "insert":
            # "Add a new cell …:" over blocks with an empty SEARCH: their code is the new cell.
            if all(not strip_blank_edges(rep.old) for rep in parsed.replacements):
                new = [line for rep in parsed.replacements for line in strip_blank_edges(rep.new)]
                self.insert(directive, "\n".join(new), language)
                return
            directive = None
        placed, target = self.target_of(directive, in_header)
        if not placed:
            return
        for rep in parsed.replacements:
            if strip_blank_edges(rep.old):
                self.replace(rep, target, "SEARCH/REPLACE block")
            else:
                self.append(rep.new, language, target)

    def append(self, new: list[str], language: str, target: str | None) -> None:
        """An empty SEARCH: the REPLACE text goes at the end of the target cell, of a one-cell
        notebook (a file), or else into a new cell at the end of the notebook."""
        text = strip_blank_edges(new)
        if not text:
            self.warn("empty_search", "Not applied: a SEARCH/REPLACE block with nothing in it.")
            return
        if target is None and len(self.cells) != 1:
            self.insert(Directive("insert", where="end"), "\n".join(text), language)
            return
        cell = self.cells[find_index(self.cells, target)] if target else self.cells[0]
        body, newline = cell["source"], ""
        if body.endswith("\n"):
            body, newline = body[:-1], "\n"
        gap = [""] * trim_blank_edges(new)[0] if body.strip() else []
        cell["source"] = "\n".join(([body] if body.strip() else []) + gap + text) + newline

    def replace(self, rep: edits.Replacement, target: str | None, what: str) -> None:
        key = (tuple(rep.old), tuple(rep.new))
        if self.repeats_done[key]:
            self.repeats_done[key] -= 1  # a copy of a block already applied with its copies
            return
        if rep.path and self.path and not same_file(rep.path, self.path):
            self.warn_other_file(rep.path)
            return
        if rep.path:
            what = f"{what} for {rep.path}"
        cells = pick_candidates(self.cells, "", target)
        if rep.hint is not None and not strip_blank_edges(rep.old) and len(cells) == 1:
            # A hunk with no line of the old text (`@@ -0,0 +1,2 @@` filling an empty file): its
            # line number is its only place, trusted only at the end of the text (a model's
            # numbers are often a few lines off; mid-text, the hunk is refused below).
            if self.append_at_end(cells[0], rep.new, rep.hint):
                return
        matches = locate(rep.old, [(c["id"], c["source"].split("\n")) for c in cells])
        if not matches:
            self.warn(
                "not_found",
                f"Not applied: a {what} matches no cell.",
                search="\n".join(rep.old[:3]),
            )
            return
        copies = self.repeats[key]
        if copies > 1:
            # The same block written N times changes N places (one argument removed from each of
            # five calls): all of them at once, when the answer has a copy for each place.
            self.repeats_done[key] = copies - 1
            if len(matches) <= copies and all(m.rung != "fuzzy" for m in matches):
                self.replace_all(matches, rep, what, copies)
                return
        elif len(matches) > 1:
            matches = self.narrow(matches, rep, cells)
        if len(matches) > 1:
            places = [f"{m.cell_id} line {m.start + 1}" for m in matches]
            self.warn(
                "ambiguous",
                f"Not applied: a {what} matches {len(matches)} places ({', '.join(places[:5])}).",
                candidates=sorted({m.cell_id for m in matches}),
            )
            return
        self.replace_all(matches, rep, what, 1)

    @staticmethod
    def append_at_end(cell: dict, new: list[str], line: int) -> bool:
        """`new` after the cell's last line, when `line` (0-based) is at or past its end."""
        source = cell["source"]
        ending = "\n" if source.endswith("\n") else ""
        lines = source[: len(source) - len(ending)].split("\n") if source.strip() else []
        if line < len(lines):
            return False
        cell["source"] = "\n".join(lines + new) + ending
        return True

    def narrow(
        self, matches: list[Match], rep: edits.Replacement, cells: list[dict]
    ) -> list[Match]:
        """Of several places, the one the block means, where its text tells."""
        # A context line dropped from the search may survive in the replacement: the place
        # where it stands next to the match is the one meant.
        sources = {c["id"]: c["source"].split("\n") for c in cells}
        widened = [
            m for m in matches if edits.widen(sources[m.cell_id], m, rep) != (m.start, m.end)
        ]
        if len(widened) == 1:
            return widened
        if rep.hint is not None and len({m.cell_id for m in matches}) == 1:
            # One cell (a module) with the same lines twice, and a diff that edits both, hunk by
            # hunk: each hunk's own line number, though a few lines off, tells the two apart.
            near = sorted(matches, key=lambda m: abs(m.start - rep.hint))
            if (
                abs(near[0].start - rep.hint)
                <= HINT_SLACK
                < abs(near[1].start - rep.hint) - HINT_SLACK
            ):
                return near[:1]
        return matches

    def replace_all(self, matches: list[Match], rep: edits.Replacement, what: str, copies: int):
        """`rep` at each of `matches`, each worked out on the cell as it was (a place never sees
        another's change), then spliced in from the bottom of the cell up."""
        splices: dict[str, list[edits.Splice]] = {}
        for match in matches:
            lines = self.cells[find_index(self.cells, match.cell_id)]["source"].split("\n")
            splice = edits.replace_at(lines, match, rep)
            if splice is None:
                self.warn(
                    "not_found",
                    f"Not applied: a {what} resembles {match.cell_id} line {match.start + 1}, but "
                    "a line it removes is not there.",
                    cell_id=match.cell_id,
                )
                continue
            splices.setdefault(match.cell_id, []).append(splice)
            self.last_touched = match.cell_id
            if match.rung == "fuzzy":
                self.warn(
                    "fuzzy",
                    f"Applied where the {what} matches only approximately: check this change.",
                    cell_id=match.cell_id,
                    line=match.start + 1,
                )
        for cell_id, found in splices.items():
            cell = self.cells[find_index(self.cells, cell_id)]
            lines = cell["source"].split("\n")
            floor = len(lines)
            for start, end, new in sorted(found, key=lambda s: -s[0]):
                end = min(end, floor)  # two places' regions grown into each other: keep apart
                lines[start:end] = new
                floor = start
            cell["source"] = "\n".join(lines)
        if copies > len(matches):
            self.warn(
                "repeated",
                f"A {what} stands {copies} times in the answer and matches {len(matches)} "
                "places: applied to each place once.",
            )

    def merge_snippet(
        self, lines: list[str], language: str, target: str | None, directed: bool = False
    ) -> None:
        lazy = edits.has_markers(lines)
        if target is None and not self.cells:
            # Every cell deleted by the answer: a block of code can only be the first new one.
            if lazy:
                self.warn(
                    "not_found",
                    "Not applied: a block with '... existing code ...' in a notebook with no cell.",
                )
            else:
                self.insert(Directive("insert", where="end"), "\n".join(lines), language)
            return
        if target is None:
            after = find_index(self.cells, self.last_touched) if self.last_touched else None
            if self.series:
                target = self.series.pop(0)
            elif after is None:
                target = self.place_first(lines, language, lazy)
            else:
                target = find_target(self.cells, lines, language, lazy, self.warn, after)
            if target is None:
                return
        self.last_touched = target
        cell = self.cells[find_index(self.cells, target)]
        if cell["cell_type"] == "code" and self.merge_definitions(cell, lines, lazy):
            return
        if not lazy and not directed and not self.looks_like_cell(lines, cell):
            self.warn(
                "not_an_edit",
                "Not applied: a block much shorter than the cell it would replace, sharing "
                "little with it, reads as an example, not the cell's new text.",
                cell_id=target,
                snippet="\n".join(lines[:3]),
            )
            return
        # A whole cell goes through the same merge: it aligns the block with the cell, so a block
        # the model indented as a whole comes back to the cell's indentation.
        merged = edits.merge_lazy(cell["source"].split("\n"), lines)
        if merged.lines is not None:
            cell["source"] = keep_layout(cell["source"], "\n".join(merged.lines))
            return
        new = self.rewrite(cell["source"], "\n".join(lines)) if self.rewrite else None
        if new is None or edits.has_markers(new.split("\n")):
            reason = merged.reason + (" (nor did the model fallback)" if self.rewrite else "")
            self.warn("not_merged", f"Not applied: {reason}.", cell_id=target)
            return
        cell["source"] = new
        self.warn(
            "model_rewrite", "Merged by the model fallback: review this cell.", cell_id=target
        )

    def place_first(self, lines: list[str], language: str, lazy: bool) -> str | None:
        """The cell of a block that no earlier block placed (find_target with no `after`), or the
        first cell of a series it heads (find_series); None once find_target's warning is
        given."""
        found, heard = self._quiet_target(lines, language, lazy)
        tied = _tied(found, heard)
        if tied and self.no_series == 0:
            self.series = self.find_series(tied)
            if self.series:
                return self.series.pop(0)
        for code, message, extra in heard:
            self.warn(code, message, **extra)
        return found

    def find_series(self, tied: frozenset[str]) -> list[str]:
        """The cells that a block tied over `tied` and the blocks right after it edit, one each in
        the notebook's order, when each of those blocks fits the same cells equally well and there
        are as many blocks as cells (a series: one comment line and a changed call for each of two
        near-copies of a cell, as models write them, in order); else none. Matched one by one,
        the second block fit the cell the first had just rewritten best and replaced it."""
        if not 1 < len(tied) <= MAX_SERIES or len(self.upcoming) < len(tied) - 1:
            return []
        for seen, block in enumerate(self.upcoming[: len(tied) - 1], 1):
            header, code = directives.header_directive(block.code)
            snippet = code.split("\n")
            if (
                header is not None
                or directives.block_directive(block.prose) is not None
                or edits.is_search_replace(code)
                or edits.is_udiff(code, block.language)
                or block.language in NOT_CELL_LANGUAGES
                or _tied(*self._quiet_target(snippet, block.language, edits.has_markers(snippet)))
                != tied
            ):
                self.no_series = seen + 1  # this block and those seen: no series starts there
                return []
        return sorted(tied, key=lambda cid: find_index(self.cells, cid))

    def _quiet_target(
        self, lines: list[str], language: str, lazy: bool
    ) -> tuple[str | None, list[tuple[str, str, dict]]]:
        """find_target's cell for a block, and the warnings it would give, not given yet."""
        heard: list[tuple[str, str, dict]] = []
        found = find_target(
            self.cells,
            lines,
            language,
            lazy,
            lambda code, message, **extra: heard.append((code, message, extra)),
        )
        return found, heard

    def merge_definitions(self, cell: dict, lines: list[str], lazy: bool) -> bool:
        """Whether a block showing only some of the cell's definitions merged into those alone
        (definitions.py); False leaves it to the merge into the whole cell. Not when a line the
        block leaves out is one this answer wrote into another cell: moved there, it goes."""
        source = cell["source"].split("\n")
        span = definitions_span(source, lines, lazy)
        if span is None:
            return False
        start, end = span
        was = {c["id"]: set(c["source"].split("\n")) for c in self.original}
        moved = {
            line.strip()
            for other in self.cells
            if other is not cell
            for line in other["source"].split("\n")
            if line not in was.get(other["id"], ())
        }
        if any(line.strip() and line.strip() in moved for line in source[:start] + source[end:]):
            return False
        merged = edits.merge_lazy(source[start:end], lines)
        if merged.lines is None:
            return False
        cell["source"] = keep_layout(
            cell["source"], "\n".join(source[:start] + merged.lines + source[end:])
        )
        return True

    @staticmethod
    def looks_like_cell(lines: list[str], cell: dict) -> bool:
        """Whether a whole block could be `cell`'s new text (see SHORT_BLOCK)."""
        have = [l.strip() for l in cell["source"].split("\n") if l.strip()]
        block = [l.strip() for l in lines if l.strip()]
        if len(block) == 1 and _FILE_NAME.match(block[0]) and block[0] not in have:
            return False
        if len(block) >= SHORT_BLOCK * len(have):
            return True
        kept = set(block)
        return sum(line in kept for line in have) >= MIN_KEPT_SHARE * len(have)

    def refuse_markup(self, original: dict[str, str]) -> None:
        """The last guard: a cell the answer would leave with SEARCH/REPLACE markers it did not
        have (markup that no rule read as such) keeps its text, or a new one is not added."""
        for cell in list(self.cells):
            before = original.get(cell["id"], "")
            added = sum(map(edits.is_sr_marker, cell["source"].split("\n")))
            if added <= sum(map(edits.is_sr_marker, before.split("\n"))):
                continue
            if cell["id"] in original:
                cell["source"] = before
            else:
                self.cells.remove(cell)
            self.warn(
                "malformed",
                "Not applied: the edit would write SEARCH/REPLACE markers into the cell.",
                cell_id=cell["id"],
            )

    # -- result -------------------------------------------------------------------------------------
    def build_diff(self) -> NotebookDiff:
        original = {c["id"]: c["source"] for c in self.original}
        self.refuse_markup(original)
        for cell in self.cells:
            before = original.get(cell["id"])
            if cell["cell_type"] != "code" or before == cell["source"]:
                continue  # an unchanged cell introduces nothing (and parsing each took most of the time)
            error = introduced_error(before, cell["source"])
            if error:
                message, line = error
                self.warn(
                    "syntax_error",
                    f"The edit introduces a syntax error: {message}.",
                    cell_id=cell["id"],
                    line=line,
                )
        return NotebookDiff(self.cells, operations(self.original, self.cells), self.warnings)


def file_of(prose: str, code: str) -> tuple[str | None, str]:
    """The file a block says it is for, and its code without a first line that only names it
    (aider writes the path right before its SEARCH/REPLACE): that line, or else the one file the
    prose line introducing the block names ("Here is the updated `utils.py`:")."""
    first, _, rest = code.partition("\n")
    if _FILE_NAME.match(first.strip()) and edits.is_search_replace(rest):
        return first.strip(), rest
    lines = [line for line in prose.strip().split("\n") if line.strip()]
    if lines and lines[-1].rstrip().endswith(":"):
        # A name on its own: a whole code span or a word, not part of quoted code
        # ("after the cell that starts with `df.to_csv('out.csv')`" names no file).
        spans = [m.group(2).strip() for m in _CODE_SPAN.finditer(lines[-1])]
        words = [w.strip("*_:,.;()\"'") for w in _CODE_SPAN.sub(" ", lines[-1]).split()]
        named = {name for name in spans + words if _SOURCE_NAME.match(name)}
        if len(named) == 1:
            return named.pop(), code
    return None, code


def same_file(named: str, path: str) -> bool:
    """Whether a file name an answer gives is `path` (relative to the server's root): the same, or
    one of them the other's tail (`src/pkg/mod.py` and `pkg/mod.py`)."""
    a, b = named.strip().lstrip("./"), path.strip().lstrip("./")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def _tied(found: str | None, heard: list[tuple[str, str, dict]]) -> frozenset[str]:
    """The cells find_target found a block fits with no clear best (empty when it placed the
    block, or found it fits none)."""
    if found is not None or not heard or heard[0][0] != "ambiguous":
        return frozenset()
    return frozenset(heard[0][2].get("candidates", ()))


def keep_layout(before: str, after: str) -> str:
    """A cell's new text with the cell's own leading blank lines and final newline where it lost
    them: an answer's fence holds neither, and a file that lost its last newline is a change no
    one asked for."""
    if not after.strip() or not before.strip():
        return after
    if before.startswith("\n") and not after.startswith("\n"):
        after = before[: len(before) - len(before.lstrip("\n"))] + after
    if before.endswith("\n") and not after.endswith("\n"):
        after += "\n"
    return after


def apply_suggestion(
    cells: Sequence[Any], suggestion: str, *, rewrite: Rewrite | None = None, path: str = ""
) -> NotebookDiff:
    """The NotebookDiff that `suggestion` (a model's markdown answer) makes to `cells`, the cells of
    the notebook or file at `path` (when given, a block or diff for another file is refused).

    ``rewrite``, when given, is the model fallback (``fallback.ModelFallback``): it gets one cell's
    source and a snippet the deterministic merge refused, and returns the new cell source or None.
    """
    job = _Apply(protocol.cell_dicts(cells), rewrite, path)
    job.run(suggestion)
    return job.build_diff()
