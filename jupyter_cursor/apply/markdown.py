"""A model's markdown answer as prose and fenced code blocks.

Fences follow CommonMark: a run of three or more backticks or tildes opens a block, and only a run
of the same character at least as long closes it, so a ````markdown block may hold ``` fences.
An unclosed fence (a truncated answer) runs to the end of the text.
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


def parse(answer: str) -> tuple[list[Block], str]:
    """The blocks in order, and the prose after the last one."""
    blocks: list[Block] = []
    prose: list[str] = []
    lines = answer.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        opening = _OPEN.match(lines[i])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            prose.append(lines[i])
            i += 1
            continue
        fence = opening["fence"]
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        i += 1
        while i < len(lines) and not close.match(lines[i]):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        blocks.append(Block(opening["info"].strip(), "\n".join(body), "\n".join(prose)))
        prose = []
    return blocks, "\n".join(prose)
