"""Apply: a foundation model's markdown answer → exact cell-level edits (a NotebookDiff).

Modules, one job each:

- ``answer``: the orchestration: each block of the answer read, placed and merged into its cell
- ``markdown``: the answer as prose and fenced code blocks
- ``directives``: what the prose or a block's first line says: new cell, delete, target
- ``targeting``: which cell a block goes to, by a reference to it or by its content
- ``edits``: the edit formats: SEARCH/REPLACE, unified diffs, lazy snippets
- ``lazy``: merging a lazy snippet's runs into its cell
- ``markers``: elision markers ("# ... existing code ...")
- ``matching``: finding a block's lines in the cells: the exact → indentation → fuzzy ladder
- ``notebook_diff``: the cell operations between two notebooks, and their application
- ``syntax``: Python syntax of cells, IPython's own set aside
- ``fallback``: the model rewriting a snippet the deterministic merge refused
- ``protocol``: the apply request (websocket, REST, CLI batch) and running it off the event loop
"""

from .answer import apply_suggestion
from .notebook_diff import NotebookDiff, apply_ops

__all__ = ["NotebookDiff", "apply_ops", "apply_suggestion"]
