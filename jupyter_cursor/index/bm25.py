"""The BM25 side: a Whoosh index of chunk texts, written by one writer thread only.

Whoosh allows one writer per index (a second raises ``LockError``) and its async writers can lose
data at exit; so :class:`Bm25Store` is driven by the index's single writer thread, and readers
share a searcher that is refreshed after each commit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.fields import ID, TEXT, Schema
from whoosh.matching.wrappers import FilterMatcher
from whoosh.writing import CLEAR

from .analyzer import (
    code_analyzer,
    defined_names,
    matched_words,
    query_terms,
    terms_in,
    word_terms,
)

# The path and heading matter, but less than the text itself.
CONTEXT_BOOST = 0.5
# The fields a query's terms are looked up in, with their weights.
FIELDS = (("body", 1.0), ("context", CONTEXT_BOOST))
# Postings kept in memory as arrays, per (segment, field, term): a term's postings are read from
# Whoosh once while its segment lives (segments never change; deletions are masked at query time).
# At most about this many postings (24 bytes each: about 48 MB), the least recently searched
# dropped. A term's arrays, tuple and key cost about as much as TERM_COST postings more, so that
# terms a segment lacks count too.
CACHED_POSTINGS = 2_000_000
TERM_COST = 24


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
        self._schema = self._index.schema  # read from the index's table of contents: once
        self._analyzer = self._schema["body"].analyzer
        self._word_terms = word_terms(self._analyzer)
        self._weighting = scoring.BM25F()
        self._lock = threading.Lock()
        self._searcher = self._index.searcher(weighting=self._weighting)
        self._cache: OrderedDict[tuple, tuple] = OrderedDict()  # see _postings
        self._cached = 0  # postings in _cache, plus TERM_COST per term
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
        segments = [leaf.reader().segment() for leaf, _ in searcher.leaf_searchers()]
        live = {segment.segment_id() for segment in segments if segment is not None}
        with self._lock:
            old, self._searcher = self._searcher, searcher
            for key in [key for key in self._cache if key[0] not in live]:  # merged away
                self._cached -= len(self._cache.pop(key)[0]) + TERM_COST
        old.close()

    # -- reading (any thread) ----------------------------------------------------------------------

    def search(self, query: str, limit: int) -> list[tuple[str, float]]:
        """(uid, BM25F score) of the best ``limit`` chunks for a free-text query: each analysed
        term looked up in the text and, at CONTEXT_BOOST, in the context, summed (Whoosh's OR).

        Scored here with NumPy over each term's postings, read from Whoosh once per segment and
        kept (``_postings``), with Whoosh's own statistics and formula (scoring.BM25F): the same
        hits and scores as Whoosh's search of the same OR query
        (tests/test_index_workspace.py), whose per-posting Python scoring took a 10k-chunk
        query's p50 / p95 to 14 / 24 ms (benchmarks/RESULTS.md, "Search speed at 10k chunks")."""
        terms = query_terms(self._analyzer, query)
        if not terms:
            return []
        with self._lock:
            searcher = self._searcher
            if not searcher.doc_count_all():
                return []
            leaves = searcher.leaf_searchers()
            scores = np.zeros(searcher.doc_count_all(), np.float64)
            for field, boost in FIELDS:
                average = searcher.avg_field_length(field) or 1
                for term in terms:
                    idf = None
                    for leaf, offset in leaves:
                        ids, tf, length = self._postings(leaf.reader(), field, term)
                        if not len(ids):
                            continue
                        if idf is None:
                            idf = searcher.idf(field, term)
                        scores[ids + offset] += boost * _bm25(
                            idf, tf, length, average, self._weighting.B, self._weighting.K1
                        )
            for leaf, offset in leaves:
                reader = leaf.reader()
                if reader.has_deletions():
                    deleted = reader.deleted_docs_set
                    scores[np.fromiter(deleted, np.int64, len(deleted)) + offset] = 0.0
            found = np.flatnonzero(scores)
            if not len(found):
                return []
            # Best first; equal scores in document order, as Whoosh's collector ranks them.
            best = found[np.lexsort((found, -scores[found]))][:limit]
            return [(searcher.stored_fields(int(d))["uid"], float(scores[d])) for d in best]

    def _postings(self, reader, field: str, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(document numbers, term frequencies, field lengths) of ``term`` in ``field`` of one
        segment, cached. Documents deleted later stay in (search masks them). Under the lock."""
        segment = reader.segment()
        if segment is None:  # an index without documents
            return _NO_POSTINGS
        key = (segment.segment_id(), field, term)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        ids, tf, length = [], [], []
        text = self._schema[field].to_bytes(term)
        if (field, text) in reader:
            matcher = reader.postings(field, text)
            if isinstance(matcher, FilterMatcher):  # the segment's deletions: masked per query
                matcher = matcher.child
            while matcher.is_active():
                doc = matcher.id()
                ids.append(doc)
                tf.append(matcher.weight())
                length.append(reader.doc_field_length(doc, field) or 0)
                matcher.next()
        cached = (
            (np.array(ids, np.int64), np.array(tf, np.float64), np.array(length, np.float64))
            if ids
            else _NO_POSTINGS
        )
        self._cache[key] = cached
        self._cached += len(ids) + TERM_COST
        while self._cached > CACHED_POSTINGS and len(self._cache) > 1:
            self._cached -= len(self._cache.popitem(last=False)[1][0]) + TERM_COST
        return cached

    def matched(self, query: str, texts: list[str]) -> list[list[str]]:
        """For each text, its words that match a term of ``query`` (see analyzer.matched_words)."""
        terms = set(query_terms(self._analyzer, query))
        return [matched_words(self._word_terms, terms, text) if terms else [] for text in texts]

    def coverage(self, query: str, texts: list[str]) -> list[tuple[float, float]]:
        """For each text, the share of ``query``'s distinct terms that its words hold, and the
        share that the names it defines hold (analyzer.defined_names)."""
        terms = set(query_terms(self._analyzer, query))
        if not terms:
            return [(0.0, 0.0)] * len(texts)
        share = lambda text: len(terms_in(self._word_terms, terms, text)) / len(terms)  # noqa: E731
        return [(share(text), share(defined_names(text))) for text in texts]

    def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        with self._lock:
            self._searcher.close()


_NO_POSTINGS = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0))


def _bm25(idf: float, tf: np.ndarray, length: np.ndarray, average: float, b: float, k1: float):
    """Whoosh's scoring.bm25, over arrays."""
    return idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / average))
