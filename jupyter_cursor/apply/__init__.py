"""Apply: a foundation model's markdown answer → exact cell-level edits (a NotebookDiff).

Modules, one job each: ``markdown`` (prose and fenced blocks), ``directives`` (what the prose or a
block's first line says: new cell, delete, target), ``edits`` (SEARCH/REPLACE, unified diffs, lazy
snippets), ``matching`` (the exact → indentation → fuzzy ladder), ``notebook_diff`` (operations and
their application), ``syntax`` (Python syntax of cells), ``engine`` (the orchestration).
"""

from .engine import apply_suggestion
from .notebook_diff import NotebookDiff, apply_ops

__all__ = ["NotebookDiff", "apply_ops", "apply_suggestion"]
