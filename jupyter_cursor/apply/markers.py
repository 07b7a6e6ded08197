"""Elision markers: lines of a snippet that stand for unchanged lines of the cell."""

from __future__ import annotations

import re

# Marker lines that stand for unchanged code: comments or bare ellipses saying "existing",
# "unchanged", "rest of", "previous", "same as before"... in Python, markdown, HTML or C styles.
_MARKER_WORDS = (
    r"(existing|unchanged|rest of|remaining|previous|same as (before|above)|omitted|"
    r"other (code|cells?|content|lines|methods|functions)|as before|no changes?)"
).replace(" ", r"\s+")  # the pattern below is verbose: its own spaces do not count
_MARKER = re.compile(
    rf"""^\s*(
        (\#|//|--|;)\s*(\.\.\.|…)?\s*[\(\[]?\s*{_MARKER_WORDS}.*       # "# ... existing code ..."
      | (\#|//)\s*(\.\.\.|…)\s*$                                        # "# ..."
      | (\#|//)\s*(\.\.\.|…)\s*\S.*(\.\.\.|…)\s*$                          # "# ... rest unchanged ..."
      | (\.\.\.|…)\s*(\#.*)?$                                          # "..."  "... # comment"
      | [\[\(]\s*(\.\.\.|…)\s*[\]\)]\s*$                                # "[...]" "(...)"
      | <!--\s*(\.\.\.|…)?\s*{_MARKER_WORDS}?.*?(\.\.\.|…)?\s*-->\s*$  # "<!-- ... existing content ... -->"
      | /\*\s*(\.\.\.|…)?\s*{_MARKER_WORDS}.*\*/\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)


# Without an ellipsis, a comment is a marker only if it says what it stands for: "# existing code",
# "# (unchanged)", "# rest of the function remains the same", not "# previous input." (a comment
# of the code, taken for a marker, lost its line).
_COMMENT = re.compile(r"^\s*(#|//|--|;|/\*)")
_SAYS_ELIDED = re.compile(
    r"\b(code|unchanged|content|implementation|lines?|remains?|same|omitted|cells?|methods|"
    r"functions|before|above|changes?)\b",
    re.IGNORECASE,
)


def is_marker(line: str) -> bool:
    if not _MARKER.match(line):
        return False
    if _COMMENT.match(line) and "..." not in line and "…" not in line:
        return bool(_SAYS_ELIDED.search(line))
    return True


def has_markers(lines: list[str]) -> bool:
    return any(is_marker(line) for line in lines)
