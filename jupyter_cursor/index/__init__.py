"""Workspace index: finds what matters in the user's files, for the models' context and the user.

Public API: :class:`WorkspaceIndex` (see workspace.py); :func:`jupyter_hooks.connect` wires it to a
Jupyter server's contents manager. Modules, one job each:

- ``workspace``: :class:`WorkspaceIndex`, the public face: starts the threads, status, search
- ``writer``: the writer thread: scan, saves, chunking, the catalog and BM25 writes
- ``embedding``: the embedder thread: vectors of the chunks that lack one, in resumable batches
- ``shared``: what the index and those two threads share (vectors, condition, callbacks)
- ``files``: what is indexed, and reading it safely
- ``chunk``: what a chunk is
- ``chunking``: how files split into chunks
- ``analyzer``: BM25 tokens (code-aware)
- ``bm25``: the Whoosh index
- ``embedder``: the MiniLM model
- ``vectors``: the in-memory matrix of vectors
- ``fusion``: score-aware fusion of the two rankings, and its relative floor
- ``catalog``: the SQLite source of truth, and its row types
- ``store``: the index folder: versioning, recovery, the lock
- ``jupyter_hooks``: a Jupyter server's saves, renames and deletions, to the index
- ``protocol``: the search request of the websocket and REST faces, and answering it
"""

from .store import IndexLocked, default_data_dir
from .workspace import MODES, WorkspaceIndex

__all__ = ["IndexLocked", "MODES", "WorkspaceIndex", "default_data_dir"]
