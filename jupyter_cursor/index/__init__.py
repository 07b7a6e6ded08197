"""Workspace index: finds what matters in the user's files, for the models' context and the user.

Public API: :class:`WorkspaceIndex` (see workspace.py); :func:`jupyter_hooks.connect` wires it to a
Jupyter server's contents manager. Modules, one job each: ``files`` (what is indexed), ``chunking``
(how files split), ``analyzer`` (BM25 tokens), ``bm25`` (Whoosh), ``embedder`` (MiniLM),
``vectors`` (in-memory matrix), ``fusion`` (RRF), ``catalog`` (SQLite source of truth), ``store``
(folder, versioning, recovery), ``workspace`` (threads and the public face).
"""

from .store import IndexLocked, default_data_dir
from .workspace import MODES, WorkspaceIndex

__all__ = ["IndexLocked", "MODES", "WorkspaceIndex", "default_data_dir"]
