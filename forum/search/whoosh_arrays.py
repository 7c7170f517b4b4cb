"""The forum's search queries evaluated a posting list at a time, with numpy.

Whoosh matches a query one document at a time in Python: every candidate steps through a tree
of union and intersection matchers (a word is looked for in nine prose fields and the tags) and
is scored field by field. At 100,000 ideas "recurring tasks" took 67 ms that way, nearly all of
it in that loop (``skip_to`` and ``is_active`` were called millions of times per hundred
searches). Here each term's postings are decoded into arrays once, ``Or`` and ``And`` become
array unions and intersections, and BM25F is computed for all matches at once: the same query
takes about a fifth of the time, most of it spent decoding the postings (which
:class:`PostingsCache` keeps decoded for common words).

Only what the search builds is covered: ``Term``, and ``And``/``Or`` of them without extra
boosts. Anything else (typo alternatives are ``FuzzyTerm``) raises :class:`Unsupported` and the
caller uses Whoosh's own search. The documents, scores and order are Whoosh's: the arithmetic is
BM25F's in the same order, ties go to the lower document number as in Whoosh's collectors, and
a test compares both on many queries.
"""

from __future__ import annotations

import io
import pickle
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np
from whoosh import query as q
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.idsets import BitSet
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

# A document's field length as BM25F reads it: a byte in the length column, decoded by this
# table. Zero means "no length", which only documents without the term have.
_LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float64)
_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)

Matches = tuple[np.ndarray, np.ndarray]
"""Sorted, distinct document numbers (int64) and their scores (float64)."""


class Unsupported(Exception):
    """The query has a part this module does not evaluate; use Whoosh's search."""


class ArraySearch:
    """Evaluates queries against one searcher; keeps what it decoded of its length columns.

    Make a new one whenever the searcher is reopened: the arrays belong to its segments."""

    def __init__(self, searcher: Searcher) -> None:
        weighting = searcher.weighting
        if type(weighting) is not BM25F:
            raise Unsupported(f"weighting {type(weighting).__name__}")
        self._searcher = searcher
        self._weighting = weighting
        self._leaves: list[tuple[Searcher, int]] = list(searcher.leaf_searchers())
        self._doc_count = searcher.doc_count_all()
        self._lengths: dict[tuple[int, str], np.ndarray] = {}
        self._deletions: dict[int, np.ndarray | None] = {}

    # -- the public part ------------------------------------------------------------------

    def matches(self, query: q.Query) -> Matches:
        """Every document ``query`` matches, deleted ones left out, with its Whoosh score."""
        return self._eval(query)

    def restrict(self, found: Matches, allowed: BitSet | None,
                 masked: BitSet | None) -> Matches:
        """Keep what ``allowed`` holds (when given) and ``masked`` does not, as Whoosh's
        ``filter=`` and ``mask=`` do."""
        ids, scores = found
        keep = np.ones(len(ids), dtype=bool)
        if allowed is not None:
            keep &= self._bits(allowed)[ids]
        if masked is not None:
            keep &= ~self._bits(masked)[ids]
        return ids[keep], scores[keep]

    @staticmethod
    def by_score(found: Matches) -> np.ndarray:
        """Positions in ``found``, best score first and the lower document number first among
        equal scores (Whoosh's collectors do the same)."""
        ids, scores = found
        return np.lexsort((ids, -scores))

    # -- evaluation ----------------------------------------------------------------------------

    def _eval(self, query: q.Query) -> Matches:
        kind = type(query)
        if kind is q.Term:
            return self._term(query)
        if kind in (q.Or, q.And) and query.boost == 1.0:
            if kind is q.Or and (query.minmatch or query.scale):
                raise Unsupported("Or with minmatch or scale")
            parts = [self._eval(sub) for sub in query.subqueries]
            combine = _union if kind is q.Or else _intersection
            return combine(parts, self._doc_count)
        raise Unsupported(kind.__name__)

    def _term(self, query: q.Term) -> Matches:
        searcher = self._searcher
        fieldname = query.fieldname
        if fieldname not in searcher.schema:
            return _EMPTY_IDS, _EMPTY_SCORES
        field = searcher.schema[fieldname]
        try:
            text = field.to_bytes(query.text)
        except ValueError:
            return _EMPTY_IDS, _EMPTY_SCORES
        if (fieldname, text) not in searcher.reader():
            return _EMPTY_IDS, _EMPTY_SCORES
        scorable = field.scorable
        if scorable:
            idf = searcher.idf(fieldname, text)
            avgfl = searcher.avg_field_length(fieldname) or 1
            b = self._weighting._field_B.get(fieldname, self._weighting.B)
            k1 = self._weighting.K1
        id_parts, score_parts = [], []
        for index, (leaf, offset) in enumerate(self._leaves):
            reader = leaf.reader()
            if (fieldname, text) not in reader:
                continue
            ids, weights = _postings(reader, fieldname, text, self._deleted(index, reader))
            if scorable:
                lengths = _LENGTHS[self._length_bytes(index, reader, fieldname)[ids]]
                # bm25() of whoosh.scoring, operation for operation, so the floats agree.
                scores = idf * ((weights * (k1 + 1)) /
                                (weights + k1 * ((1 - b) + b * lengths / avgfl)))
            else:
                scores = weights
            id_parts.append(ids + offset)
            score_parts.append(scores)
        if not id_parts:
            return _EMPTY_IDS, _EMPTY_SCORES
        ids = np.concatenate(id_parts)
        scores = np.concatenate(score_parts)
        if query.boost != 1.0:
            scores = scores * query.boost
        return ids, scores

    def _deleted(self, index: int, reader: Any) -> np.ndarray | None:
        """The segment's deleted document numbers, sorted, or None: read once per searcher
        (a reader's deletions are fixed), not once per word and field. Every edit of an idea
        deletes its old document, in the big segment until the next merge."""
        if index not in self._deletions:
            found = getattr(reader, "deleted_docs_set", None)
            self._deletions[index] = (np.array(sorted(found), dtype=np.int64) if found
                                      else None)
        return self._deletions[index]

    def _length_bytes(self, index: int, reader: Any, fieldname: str) -> np.ndarray:
        """The segment's length column for ``fieldname``, one byte per document."""
        key = (index, fieldname)
        found = self._lengths.get(key)
        if found is None:
            size = reader.doc_count_all()
            found = np.zeros(size, dtype=np.uint8)
            column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            if column is not None:
                # A fixed-width column of one byte per document, shorter when the last
                # documents have no length; read as one slice rather than a call per document.
                count = min(column._count, size)
                raw = column._dbfile.get(column._basepos, count)
                found[:count] = np.frombuffer(raw, dtype=np.uint8, count=count)
            self._lengths[key] = found
        return found

    def _bits(self, docs: BitSet) -> np.ndarray:
        raw = np.frombuffer(bytes(docs.bits), dtype=np.uint8)
        flags = np.unpackbits(raw, bitorder="little").astype(bool)
        if len(flags) < self._doc_count:
            flags = np.concatenate([flags, np.zeros(self._doc_count - len(flags), dtype=bool)])
        return flags


def _postings(reader: Any, fieldname: str, text: bytes,
              deleted: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """A term's postings in one segment as document numbers and weights, the ``deleted``
    ones (the segment's deleted document numbers, sorted) left out."""
    segment = getattr(reader, "_segid", None)  # a SegmentReader's; no other reader is cached
    key = (segment, fieldname, text)
    found = postings_cache.get(key) if segment else None
    if found is None:
        ids, weights = _decoded(reader, fieldname, text)
        if segment and len(ids) >= CACHED_FROM:
            postings_cache.put(key, (ids, weights))
    else:
        # Kept in 32 bits (half the memory, the same values): widened to what the
        # arithmetic after uses, in new arrays that the caller may change.
        ids, weights = found[0].astype(np.int64), found[1].astype(np.float64)
    # Deletions are applied at every use, cached list or not: they are added to a segment
    # after it is written (an idea edited or removed), and its postings do not change.
    if deleted is not None and len(ids):
        keep = ~np.isin(ids, deleted, assume_unique=True)
        ids, weights = ids[keep], weights[keep]
    return ids, weights


def _decoded(reader: Any, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A term's postings in one segment as stored, deleted documents included."""
    matcher = reader.postings(fieldname, text)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        deltas: list[int] = []
        weights: list[float] = []
        counts: list[int] = []
        for count, (block_deltas, block_weights, *_) in _blocks(matcher):
            # Ids are delta-coded from zero in each block; weights are a tuple, one float for
            # all, or None for 1.0 (see W3LeafMatcher._read_ids and _read_weights).
            deltas.extend(block_deltas)
            if block_weights is None:
                weights.extend([1.0] * count)
            elif isinstance(block_weights, float):
                weights.extend([block_weights] * count)
            else:
                weights.extend(block_weights)
            counts.append(count)
        if not counts:
            return _EMPTY_IDS, _EMPTY_SCORES
        # One running sum over all blocks, less what the blocks before each one added.
        running = np.cumsum(np.array(deltas, dtype=np.int64))
        ends = np.cumsum(counts)
        before = np.concatenate([[0], running[ends[:-1] - 1]])
        ids = running - np.repeat(before, counts)
        weights_array = np.array(weights, dtype=np.float64)
    else:
        # Inlined postings of a rare term, or another matcher: few enough to step through.
        id_list, weight_list = [], []
        while matcher.is_active():
            id_list.append(matcher.id())
            weight_list.append(matcher.weight())
            matcher.next()
        ids = np.asarray(id_list, dtype=np.int64)
        weights_array = np.asarray(weight_list, dtype=np.float64)
    return ids, weights_array


# A posting list at least this long is kept decoded between searches. Decoding is most of what
# the array search costs (unpickling and inflating Whoosh's blocks, about 13 µs per 128
# postings): a common word's three prose fields (42,000 postings of "task" at 100,000 ideas)
# took 6.4 ms each time it was searched, against 0.2 ms for the rest of its evaluation. Long
# lists belong to common words, which are also the ones many searches share; a rare word's
# short list decodes in microseconds and is not worth the memory.
CACHED_FROM = 1024
# At 8 bytes a posting, about two million postings per process: the common words of the
# site's searches (the 134 queries of make bench's two search scenarios keep 7.5 MB at
# 100,000 ideas). Least recently used go first.
CACHE_BYTES = 16 * 1024 * 1024


class PostingsCache:
    """Decoded posting lists by (segment, field, term), least recently used dropped first.

    Always current without being told of changes: a Whoosh segment's postings never change
    once it is written (a new document goes into a new segment, merging writes a new segment
    under a new id), and deletions are applied by the caller at every use. Segment ids are
    unique across index folders too: the backend draws them from the operating system's
    randomness (``_segment_id`` in whoosh_backend.py), not from the reseedable ``random``
    that Whoosh uses; a copy of a folder shares its ids with the same postings. Thread-safe."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[tuple[str, str, bytes], Matches] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, bytes]) -> Matches | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, bytes], postings: Matches) -> None:
        """Keep a copy of ``postings`` (sorted document numbers and their weights), in 32 bits
        where that holds the same values: document numbers of a segment fit, and weights are
        counts of a word in a field."""
        ids, weights = postings
        ids = ids.astype(np.int32) if len(ids) and ids.max() < 2**31 else ids.copy()
        small = weights.astype(np.float32)
        weights = small if np.array_equal(small, weights) else weights.copy()
        # What get() returns is shared between searches and threads: read only.
        ids.flags.writeable = False
        weights.flags.writeable = False
        size = ids.nbytes + weights.nbytes
        if size > self.budget // 4:
            return  # one word must not push out every other
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (ids, weights)
            self._size += size
            while self._size > self.budget:
                _, (ids, weights) = self._entries.popitem(last=False)
                self._size -= ids.nbytes + weights.nbytes

    def size(self) -> int:
        """Bytes held."""
        with self._lock:
            return self._size

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0


postings_cache = PostingsCache(CACHE_BYTES)


def _blocks(matcher: W3LeafMatcher) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Each block of a posting list as (postings in it, its data tuple), read as
    ``W3LeafMatcher._goto`` and ``_read_data`` read them. Not through the matcher: its
    ``read_pickle`` unpickles from the segment file a few bytes per call (twenty Python-level
    reads per block, a tenth of a search's time); here each block is one slice."""
    postfile = matcher._postfile
    position = matcher._baseoffset
    while True:
        # A block: its length (negative for the last block), a pickled tuple of statistics,
        # then its data, pickled and possibly compressed.
        length = postfile.get_int(position)
        last = length < 0
        length = abs(length)
        block = io.BytesIO(postfile.get(position + _INT_SIZE, length))
        count, _maxid, _maxweight, compression, _minlength, _maxlength = pickle.load(block)
        data = block.read()
        if compression:
            data = zlib.decompress(data)
        yield count, pickle.loads(data)
        if last:
            return
        position += _INT_SIZE + length


# Above this many postings per document of the index, unions and intersections go through
# arrays as long as the index (a scatter and a gather) rather than sorting: a common word's
# three fields (42,000 postings at 100,000 ideas) took 2 ms to sort for each search.
_DENSE_SHARE = 1 / 32


def _union(parts: list[Matches], size: int) -> Matches:
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _EMPTY_IDS, _EMPTY_SCORES
    if len(parts) == 1:
        return parts[0]
    ids = np.concatenate([p[0] for p in parts])
    scores = np.concatenate([p[1] for p in parts])
    # Either way each document's scores are added in the order of ``parts``, as Whoosh adds
    # them, so the sums are the same to the last bit.
    if len(ids) > size * _DENSE_SHARE:
        present = np.zeros(size, dtype=bool)
        present[ids] = True
        distinct = np.flatnonzero(present)
        return distinct, np.bincount(ids, weights=scores, minlength=size)[distinct]
    distinct, where = np.unique(ids, return_inverse=True)
    return distinct, np.bincount(where, weights=scores, minlength=len(distinct))


def _intersection(parts: list[Matches], size: int) -> Matches:
    if not parts:
        return _EMPTY_IDS, _EMPTY_SCORES
    ids, scores = parts[0]
    for other_ids, other_scores in parts[1:]:
        if not len(ids):
            break
        if len(ids) + len(other_ids) > size * _DENSE_SHARE:
            # Where each of the other part's documents sits in it, -1 for those it lacks.
            where = np.full(size, -1, dtype=np.int64)
            where[other_ids] = np.arange(len(other_ids))
            theirs = where[ids]
            mine = np.flatnonzero(theirs >= 0)
            ids, theirs = ids[mine], theirs[mine]
        else:
            ids, mine, theirs = np.intersect1d(ids, other_ids, assume_unique=True,
                                               return_indices=True)
        scores = scores[mine] + other_scores[theirs]
    return ids, scores
