"""The BM25 side: a Whoosh index of chunk texts, written by one writer thread only.

Whoosh allows one writer per index (a second raises ``LockError``) and its async writers can lose
data at exit; so :class:`Bm25Store` is driven by the index's single writer thread, and readers
share a searcher that is refreshed after each commit.
"""

from __future__ import annotations

import threading
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.fields import ID, TEXT, Schema
from whoosh.query import Or, Term
from whoosh.writing import CLEAR

from .analyzer import code_analyzer, matched_words, query_terms, word_terms

# The path and heading matter, but less than the text itself.
CONTEXT_BOOST = 0.5


def _schema() -> Schema:
    analyzer = code_analyzer()
    return Schema(
        uid=ID(unique=True, stored=True),
        path=ID(),
        # No positions: we never run phrase queries, and they double the index size.
        body=TEXT(analyzer=analyzer, phrase=False),
        context=TEXT(analyzer=analyzer, phrase=False),
    )


class Bm25Store:
    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        if whoosh_index.exists_in(str(directory)):
            self._index = whoosh_index.open_dir(str(directory))
        else:
            self._index = whoosh_index.create_in(str(directory), _schema())
        self._analyzer = self._index.schema["body"].analyzer
        self._word_terms = word_terms(self._analyzer)
        self._weighting = scoring.BM25F()
        self._lock = threading.Lock()
        self._searcher = self._index.searcher(weighting=self._weighting)
        self._writer = None

    def doc_count(self) -> int:
        with self._lock:
            return self._searcher.doc_count()

    def uids(self) -> list[str]:
        """The uid of every committed, undeleted document (for a repair against the catalog)."""
        with self._lock:
            return [fields["uid"] for _, fields in self._searcher.reader().iter_docs()]

    # -- writing (writer thread only) -------------------------------------------------------------

    def _open_writer(self):
        if self._writer is None:
            # A large pool makes the cold scan's single big segment without spilling to disk often.
            self._writer = self._index.writer(limitmb=128)
        return self._writer

    def add(self, uid: str, path: str, text: str, context: str) -> None:
        self._open_writer().add_document(uid=uid, path=path, body=text, context=context)

    def delete(self, uid: str) -> None:
        self._open_writer().delete_by_term("uid", uid)

    def clear(self) -> None:
        """Drop every document (for a rebuild from the catalog)."""
        writer = self._open_writer()
        writer.commit(mergetype=CLEAR)
        self._writer = None
        self._refresh()

    def commit(self) -> None:
        if self._writer is None:
            return
        self._writer.commit()
        self._writer = None
        self._refresh()

    def _refresh(self) -> None:
        # A new searcher rather than Searcher.refresh(), which fails on a reader with no segments.
        searcher = self._index.searcher(weighting=self._weighting)
        with self._lock:
            old, self._searcher = self._searcher, searcher
        old.close()

    # -- reading (any thread) ----------------------------------------------------------------------

    def search(self, query: str, limit: int) -> list[tuple[str, float]]:
        """(uid, BM25 score) of the best ``limit`` chunks for a free-text query."""
        terms = query_terms(self._analyzer, query)
        if not terms:
            return []
        clauses = [Term("body", t) for t in terms]
        clauses += [Term("context", t, boost=CONTEXT_BOOST) for t in terms]
        query = Or(clauses)
        # Whoosh picks a binary tree of union matchers past 5,000 documents; preloading each
        # term's postings into one score array ranks the same hits with the same scores, and took
        # a 10k-chunk query's p95 from 128 to 28 ms (RESULTS.md, "Search speed at 10k chunks").
        query.matcher_type = Or.ARRAY_MATCHER
        with self._lock:
            results = self._searcher.search(query, limit=limit)
            return [(hit["uid"], float(hit.score)) for hit in results]

    def matched(self, query: str, texts: list[str]) -> list[list[str]]:
        """For each text, its words that match a term of ``query`` (see analyzer.matched_words)."""
        terms = set(query_terms(self._analyzer, query))
        return [matched_words(self._word_terms, terms, text) if terms else [] for text in texts]

    def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        with self._lock:
            self._searcher.close()
