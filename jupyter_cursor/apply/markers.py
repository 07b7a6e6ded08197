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
      | (\.\.\.|…)\s*(\#.*)?$                                          # "..."  "... # comment"
      | [\[\(]\s*(\.\.\.|…)\s*[\]\)]\s*$                                # "[...]" "(...)"
      | <!--\s*(\.\.\.|…)?\s*{_MARKER_WORDS}?.*?(\.\.\.|…)?\s*-->\s*$  # "<!-- ... existing content ... -->"
      | /\*\s*(\.\.\.|…)?\s*{_MARKER_WORDS}.*\*/\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def is_marker(line: str) -> bool:
    return bool(_MARKER.match(line))


def has_markers(lines: list[str]) -> bool:
    return any(is_marker(line) for line in lines)
