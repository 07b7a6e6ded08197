"""A model's markdown answer as prose and fenced code blocks.

Fences follow CommonMark: a run of three or more backticks or tildes opens a block, and only a run
of the same character at least as long closes it, so a ````markdown block may hold ``` fences.
An unclosed fence (a truncated answer) runs to the end of the text.

Models also write code outside fences: between ``<source>``/``<code>`` tags on lines of their own,
and SEARCH/REPLACE blocks in the prose itself. Both are blocks too (a bare SEARCH/REPLACE block
runs from its SEARCH marker to its closing marker, or to its second divider, a fence or the end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")


@dataclass(frozen=True)
class Block:
    info: str  # the info string: "python", "diff", "markdown", ...
    code: str  # the block's text, without the fences (no final newline)
    prose: str  # the prose between the previous block (or the start) and this one

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""


_TAG_OPEN = re.compile(r"^\s{0,3}<(?P<tag>source|code)(?P<attrs>(\s[^>]*)?)>\s*$", re.IGNORECASE)
_LANG_ATTR = re.compile(r"""\b(?:lang|language)\s*=\s*["']?(?P<lang>[\w+-]+)""", re.IGNORECASE)
# aider's SEARCH/REPLACE markers as models write them: 5 to 9 characters, SEARCH/REPLACE or aider's
# older ORIGINAL/UPDATED, sometimes with a trailing word.
SR_OPEN = re.compile(r"^\s{0,3}<{5,9} ?(SEARCH|ORIGINAL)\b")
SR_DIVIDER = re.compile(r"^\s{0,3}={5,9}\s*$")
SR_CLOSE = re.compile(r"^\s{0,3}>{5,9} ?(REPLACE|UPDATED)\b")


def closed_later(lines: list[str], start: int) -> bool:
    """A closing SEARCH/REPLACE marker stands at or after `start`, before the next block opens:
    then a divider before it is content (an RST underline), not the block's end."""
    for line in lines[start:]:
        if SR_OPEN.match(line):
            return False
        if SR_CLOSE.match(line):
            return True
    return False


def parse(answer: str) -> tuple[list[Block], str]:
    """The blocks in order, and the prose after the last one."""
    blocks: list[Block] = []
    prose: list[str] = []
    lines = answer.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        opening = _OPEN.match(lines[i])
        tag = _TAG_OPEN.match(lines[i])
        if opening is not None and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            fence = opening["fence"]
            close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            info = opening["info"].strip()
        elif tag is not None:
            close = re.compile(rf"^\s*</{tag['tag']}>\s*$", re.IGNORECASE)
            lang = _LANG_ATTR.search(tag["attrs"] or "")
            info = lang["lang"] if lang else ""
        elif SR_OPEN.match(lines[i]):
            end = _bare_search_replace_end(lines, i)
            blocks.append(Block("", "\n".join(lines[i:end]), "\n".join(prose)))
            prose = []
            i = end
            continue
        else:
            prose.append(lines[i])
            i += 1
            continue
        body: list[str] = []
        i += 1
        while i < len(lines) and not close.match(lines[i]):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        blocks.append(Block(info, "\n".join(body), "\n".join(prose)))
        prose = []
    return blocks, "\n".join(prose)


def _bare_search_replace_end(lines: list[str], start: int) -> int:
    """One past the last line of a SEARCH/REPLACE block written outside any fence."""
    dividers = 0
    for i in range(start + 1, len(lines)):
        if SR_CLOSE.match(lines[i]):
            return i + 1
        if SR_OPEN.match(lines[i]) or _OPEN.match(lines[i]) or _TAG_OPEN.match(lines[i]):
            return i
        if SR_DIVIDER.match(lines[i]):
            dividers += 1
            if dividers == 2 and not closed_later(lines, i + 1):
                return i + 1
    return len(lines)
