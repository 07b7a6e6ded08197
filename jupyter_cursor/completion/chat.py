"""A chat model as the completer: the question it is asked, and its answer made an insertion.

A chat model has no fill-in-the-middle tokens, so it is shown the notebook around the cursor (the
same ``# %%`` file as a FIM model, prompt.py, within a small budget) with ``CURSOR`` where the
cursor is, and asked for the text to insert there and nothing else. Chat models answer in code
fences and repeat what is before the cursor all the same: ``insertion_of`` takes the first fenced
block (or the whole answer), what follows a copy of the marker, and cuts a copy of the text
before the cursor (its last lines, or the word being typed) from the start. trim.py then cuts it
as it cuts a FIM model's middle.

Each completion sends the prompt to the provider: up to ``CHAT_PROMPT_TOKENS`` of notebook plus
the instructions in, at most ``CHAT_MAX_TOKENS`` out (README: the cost).
"""

from __future__ import annotations

import re

CURSOR = "<CURSOR>"
CHAT_PROMPT_TOKENS = 1024  # the notebook around the cursor: the cells above, a little below
CHAT_MAX_TOKENS = 64  # a line or a short block
CHAT_TIMEOUT_S = 8.0  # a completion later than this is of no use: the user has typed on
# The lines before the cursor a model may repeat at the start of its answer, longest first.
ECHO_LINES = 12

SYSTEM = (
    "You are the code completion engine of a Jupyter notebook. The notebook is shown as one "
    "file, each cell after a '%%' comment line, and " + CURSOR + " marks the cursor. Reply with "
    "only the text to insert at " + CURSOR + ": usually the rest of the line or a short block. "
    "No explanation, no code fences, nothing of the text already before or after the cursor. "
    "Reply with nothing when no insertion is likely."
)

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:\n[ \t]*```|$)", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


def chat_messages(prefix: str, suffix: str, language: str | None = "python") -> list[dict]:
    """The messages that ask for the insertion between ``prefix`` and ``suffix``."""
    code = prefix.replace(CURSOR, "") + CURSOR + suffix.replace(CURSOR, "")
    fence = (language or "").strip().lower().replace(" ", "")
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"```{fence}\n{code}\n```"},
    ]


def _unfenced(answer: str) -> str:
    """The first fenced block of ``answer``, or ``answer`` without a pair of backticks around it."""
    found = _FENCE.search(answer)
    if found:
        return found.group(1)
    stripped = answer.strip()
    if len(stripped) > 1 and stripped.startswith("`") and stripped.endswith("`"):
        return stripped.strip("`")
    return answer


def _without_echo(text: str, prefix: str) -> str:
    """``text`` without the copy of the text before the cursor it starts with: its last lines
    (with or without their indentation), else the word being typed (``pd.re`` + ``read_csv`` →
    ``ad_csv``)."""
    lines = prefix.split("\n")[-ECHO_LINES:]
    for k in range(len(lines), 0, -1):
        tail = "\n".join(lines[-k:])
        if not tail.strip():
            continue
        if text.startswith(tail):
            return text[len(tail) :]
        bare = tail.lstrip(" \t")
        if text.lstrip(" \t").startswith(bare):
            return text.lstrip(" \t")[len(bare) :]
    word = _WORD.search(lines[-1])
    if word and text.startswith(word.group()):
        return text[len(word.group()) :]
    return text


def insertion_of(answer: str, prefix: str) -> str:
    """The text to insert at the cursor from a chat model's ``answer``, before trimming."""
    text = _unfenced(answer.replace("\r\n", "\n"))
    before, marker, after = text.partition(CURSOR)
    if marker and after.replace(CURSOR, "").strip():  # the text before the cursor, echoed
        return after.replace(CURSOR, "")
    return _without_echo(before, prefix)
