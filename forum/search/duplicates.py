"""Duplicate ranking: which existing ideas say the same thing as a new one?

Full-text search answers "which ideas contain these words"; duplicate detection must compare a
whole new idea (a title and possibly a long body) with every existing idea, fast enough to run
while someone types. The method, measured on real duplicate bug reports (see
``bench/dup_experiment.py``), fuses two similarities:

1. **BM25F over title and body**, with the title weighted above the body on the candidate side,
   and the *whole* query used: every distinct query term counts, title terms more than body
   terms. Cutting the query to a few "top" terms, as a search engine's more-like-this does,
   loses most of the signal in long descriptions.
2. **Title-to-title cosine over character trigrams** (tf-idf weighted), which survives typos,
   hyphenation, compounds and word forms that stemming misses.

The BM25F score is divided by the best candidate's score so that it lies in [0, 1] like the
cosine, and the two are added with a fixed weight. An optional, mild recency prior rewards
candidates posted shortly before the query (duplicates cluster in time: people report what is
currently bothering them, and a recent idea is the one still open for votes). It is small next to
the similarities, so it only reorders near-ties; ``RankerWeights(recency=0)`` turns it off.

Scoring runs on an in-memory inverted index kept in numpy arrays: one pass over the postings of
the query's terms, no per-document Python loop. The arrays are the ranker's only copy of its
ideas (about 40 MB at 100,000 ideas, in every worker): ideas added, changed or removed wait in
small column batches and are merged into new arrays before the next ranking, in one pass over
the old ones (0.2 s at 100,000 ideas).
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, repeat

import numpy as np

from forum.search.analysis import analyze, guess_language, normalize_language, title_grams
from forum.search.base import IdeaDocument

_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class RankerWeights:
    """Global weights of the method; chosen on the first half of the benchmark's queries."""

    title_field: float = 5.0      # a candidate's title term counts this much more than its body's
    body_field: float = 1.0
    k1: float = 2.0               # BM25 term-frequency saturation
    b: float = 0.75               # BM25 length normalisation (same for both fields)
    query_title: float = 2.0      # weight of a term found in the query's title ...
    query_body: float = 1.0       # ... and in its body (a term in both gets the sum)
    trigram: float = 0.5          # weight of the title trigram cosine against normalised BM25F
    recency: float = 0.1          # bonus at zero age, against 1 for the best BM25F; 0 disables
    recency_days: float = 180.0   # decay constant of the recency bonus


@dataclass(frozen=True)
class _Analysis:
    """Term and trigram counts of one idea, in its own language."""

    title: Counter[str]
    body: Counter[str]
    grams: Counter[str]

    @classmethod
    def of(cls, doc: IdeaDocument) -> _Analysis:
        language = normalize_language(doc.language)
        return cls(title=Counter(analyze(doc.title, language)),
                   body=Counter(analyze(doc.body, language)),
                   grams=Counter(title_grams(doc.title)))


def _small(values: np.ndarray) -> np.ndarray:
    """Counts in the smallest unsigned integer type that holds them (a term is rarely seen
    more than 255 times in one idea): a third of the postings' memory is counts."""
    top = int(values.max()) if len(values) else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype, copy=False)
    return values.astype(np.int64, copy=False)


class _Postings:
    """Column-oriented postings (term -> documents): for each term, its documents in slot
    order, and per entry some counts (e.g. the term's count in a title and in a body)."""

    def __init__(self, docs: np.ndarray, values: list[np.ndarray], df: np.ndarray) -> None:
        self.docs = docs                    # int32 document slots, grouped by term
        self.values = values                # small unsigned counts, one array per kind
        self.df = df                        # entries of each term
        self.start = np.concatenate(([0], np.cumsum(df)))

    @classmethod
    def empty(cls, kinds: int) -> _Postings:
        return cls(np.zeros(0, np.int32), [np.zeros(0, np.uint8)] * kinds, np.zeros(0, np.int64))

    def gather(self, term_ids: np.ndarray
               ) -> Iterator[tuple[np.ndarray, np.ndarray, list[np.ndarray]]]:
        """The entries of ``term_ids``, a few terms at a time: for each entry, its term (as a
        position in ``term_ids``), its document and its values.

        ``term_ids`` must be known to these postings. A query's arrays so stay a few MB: an
        idea's whole text gathers over a million entries, and the heap a worker grew for
        them at once (30 MB) stayed with it.
        """
        starts = self.start[term_ids]
        sizes = self.start[term_ids + 1] - starts
        ends = np.cumsum(sizes)
        first = 0
        while first < len(term_ids):
            before = int(ends[first - 1]) if first else 0
            last = max(first + 1, int(np.searchsorted(ends, before + _GATHERED, side="right")))
            group = sizes[first:last]
            owner = np.repeat(np.arange(first, last, dtype=np.int32), group)
            where = np.repeat(starts[first:last] - np.cumsum(group) + group, group)
            where += np.arange(len(where))
            yield owner, self.docs[where], [v[where] for v in self.values]
            first = last

    def merged(self, keep: np.ndarray | None, slots: np.ndarray | None, terms: np.ndarray,
               docs: np.ndarray, values: list[np.ndarray], vocabulary_size: int) -> _Postings:
        """These postings without the documents ``keep`` leaves out (the others moved to
        ``slots``), plus the entries (``terms``, ``docs``, ``values``) of new documents whose
        slots come after all kept ones. One pass over the arrays: no sort of the old entries."""
        old_docs, old_values, start = self.docs, self.values, self.start
        if keep is not None:
            mask = keep[old_docs]
            old_docs = slots[old_docs[mask]].astype(np.int32)
            old_values = [v[mask] for v in old_values]
            start = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))[start]
        start = np.concatenate((start, np.full(vocabulary_size + 1 - len(start), start[-1])))
        order = np.argsort(terms, kind="stable")
        terms = terms[order]
        # Kept entries of a term first, then the new documents' (each term's documents stay
        # in slot order, as if built at once): the j-th new entry lands after all kept entries
        # of terms up to its own and the j - 1 new ones before it.
        at = start[terms + 1] + np.arange(len(terms))
        total = len(old_docs) + len(terms)
        is_new = np.zeros(total, dtype=bool)
        is_new[at] = True
        is_old = ~is_new
        merged_docs = np.empty(total, np.int32)
        merged_docs[at] = docs[order]
        merged_docs[is_old] = old_docs
        merged_values = []
        for old, new in zip(old_values, values, strict=True):
            column = np.empty(total, np.result_type(old, new))
            column[at] = new[order]
            column[is_old] = old
            merged_values.append(_small(column))
        df = np.diff(start) + np.bincount(terms, minlength=vocabulary_size)
        return _Postings(merged_docs, merged_values, df)


class _Batch:
    """Ideas analysed since the last merge, in the order they came, column-oriented."""

    def __init__(self, rows: list[tuple[IdeaDocument, _Analysis]],
                 vocabulary: dict[str, int], gram_vocabulary: dict[str, int]) -> None:
        self.ids = np.fromiter((d.id for d, _ in rows), np.int64, len(rows))
        self.created = np.fromiter((d.created_at.timestamp() for d, _ in rows), np.float64,
                                   len(rows))
        self.boards = [d.board for d, _ in rows]
        self.title_len = np.fromiter((a.title.total() for _, a in rows), np.int32, len(rows))
        self.body_len = np.fromiter((a.body.total() for _, a in rows), np.int32, len(rows))
        term_lists = [list(dict.fromkeys([*a.title, *a.body])) for _, a in rows]
        self.term_counts = np.fromiter(map(len, term_lists), np.int64, len(rows))
        size = int(self.term_counts.sum())
        # Per-entry work through map() and C-level methods: 6.5 million entries at 100,000
        # ideas, where a Python call each was a tenth of a first build.
        self.terms = _interned(vocabulary, chain.from_iterable(term_lists), size)
        self.tf_title = np.fromiter(chain.from_iterable(
            map(a.title.get, terms, repeat(0)) for (_, a), terms in
            zip(rows, term_lists, strict=True)), np.int32, size)
        self.tf_body = np.fromiter(chain.from_iterable(
            map(a.body.get, terms, repeat(0)) for (_, a), terms in
            zip(rows, term_lists, strict=True)), np.int32, size)
        self.gram_counts = np.fromiter((len(a.grams) for _, a in rows), np.int64, len(rows))
        size = int(self.gram_counts.sum())
        self.grams = _interned(gram_vocabulary, chain.from_iterable(a.grams for _, a in rows),
                               size)
        self.gram_tf = np.fromiter(chain.from_iterable(a.grams.values() for _, a in rows),
                                   np.int32, size)

    @property
    def postings(self) -> int:
        return len(self.terms) + len(self.grams)


class _Snapshot:
    """Every idea the ranker holds, as immutable arrays for scoring, indexed by slot.

    This is the ranker's only copy of the ideas: a change builds a new snapshot from this one
    and the ideas changed since (see :meth:`merged`), never from per-idea objects.
    """

    def __init__(self, weights: RankerWeights, ids: np.ndarray, created: np.ndarray,
                 board_names: list[str], board_codes: np.ndarray, title_len: np.ndarray,
                 body_len: np.ndarray, terms: _Postings, grams: _Postings) -> None:
        self.ids = ids
        self.sorted_ids = np.sort(ids)
        self.created = created
        # Boards as small integer codes: filtering 100,000 ideas by board is then one
        # vectorised np.isin instead of a Python loop (13 ms a query at that size).
        self.board_names = board_names
        self.board_codes = board_codes
        self.title_len = title_len
        self.body_len = body_len
        self.terms = terms
        self.grams = grams
        self.size = len(ids)
        # BM25F's length normalisation of each field, the same for every query.
        w = weights
        lengths = title_len.astype(float)
        self.title_norm = 1 - w.b + w.b * lengths / max(lengths.mean() if self.size else 0,
                                                        1e-9)
        lengths = body_len.astype(float)
        self.body_norm = 1 - w.b + w.b * lengths / max(lengths.mean() if self.size else 0,
                                                       1e-9)
        self.gram_idf = _log_idf(grams.df, self.size)
        # A gram's weight in a title is (1 + log tf) * idf / the title's norm: computed for
        # the entries a query gathers rather than stored (8 bytes an entry, 35 MB at 100,000
        # ideas), for about the same time a query.
        with np.errstate(divide="ignore"):  # no entry counts a gram 0 times
            self.gram_log_tf = 1.0 + np.log(np.arange(_max(grams.values[0]) + 1, dtype=float))
        owners = _owners(grams)
        squares = np.zeros(self.size)
        # A few million entries at a time: the whole at once took 150 MB of temporaries.
        for begin in range(0, len(owners), _NORM_CHUNK):
            part = slice(begin, begin + _NORM_CHUNK)
            weight = self.gram_log_tf[grams.values[0][part]] * self.gram_idf[owners[part]]
            _accumulate(squares, grams.docs[part], weight**2)
        self.gram_norm = np.maximum(np.sqrt(squares), 1e-9)
        # Rankings already computed on this snapshot. A ranking depends only on the snapshot
        # and the query, so it stays right until the next change builds a new snapshot (which
        # starts empty): an idea page viewed again does not rank 100,000 ideas again.
        self.rankings: OrderedDict[tuple, list[tuple[int, float]]] = OrderedDict()
        self.rankings_lock = threading.Lock()

    @classmethod
    def empty(cls, weights: RankerWeights) -> _Snapshot:
        return cls(weights, np.zeros(0, np.int64), np.zeros(0), [], np.zeros(0, np.int32),
                   np.zeros(0, np.int32), np.zeros(0, np.int32), _Postings.empty(2),
                   _Postings.empty(1))

    def __contains__(self, idea_id: int) -> bool:
        at = int(np.searchsorted(self.sorted_ids, idea_id))
        return at < self.size and int(self.sorted_ids[at]) == idea_id

    def merged(self, weights: RankerWeights, changed: Collection[int], batches: list[_Batch],
               live: list[np.ndarray], vocabulary_size: int, grams_size: int) -> _Snapshot:
        """This snapshot without the ideas ``changed`` (removed or replaced), plus the rows
        of ``batches`` that ``live`` marks (their latest version)."""
        keep = slots = None
        kept = self.size
        if changed and self.size:
            keep = ~np.isin(self.ids, np.fromiter(changed, np.int64, len(changed)))
            kept = int(keep.sum())
            if kept == self.size:
                keep = None  # only new ideas (the usual change): every old entry stays put
            else:
                slots = np.cumsum(keep) - 1
        rows = np.concatenate(live)
        # Slot of each new row (only live rows' slots are used).
        new_slots = (kept + np.cumsum(rows) - 1).astype(np.int32)

        def column(name: str) -> np.ndarray:
            return np.concatenate([getattr(b, name) for b in batches])

        def entries(counts: str, *names: str) -> tuple[np.ndarray, list[np.ndarray]]:
            per_row = column(counts)
            mask = np.repeat(rows, per_row)
            return np.repeat(new_slots, per_row)[mask], [column(n)[mask] for n in names]

        def old(values: np.ndarray) -> np.ndarray:
            return values if keep is None else values[keep]

        def new(name: str) -> np.ndarray:
            return column(name)[rows]

        boards = [board for b, alive in zip(batches, live, strict=True)
                  for board, on in zip(b.boards, alive.tolist(), strict=True) if on]
        board_names = sorted({*(self.board_names[c] for c in np.unique(old(self.board_codes))),
                              *boards}, key=str)
        codes = {name: code for code, name in enumerate(board_names)}
        remap = np.array([codes.get(name, -1) for name in self.board_names] or [0], np.int32)
        board_codes = np.concatenate((remap[old(self.board_codes)],
                                      np.fromiter((codes[b] for b in boards), np.int32,
                                                  len(boards))))
        docs, (terms, tf_title, tf_body) = entries("term_counts", "terms", "tf_title", "tf_body")
        term_postings = self.terms.merged(keep, slots, terms, docs, [tf_title, tf_body],
                                          vocabulary_size)
        docs, (grams, gram_tf) = entries("gram_counts", "grams", "gram_tf")
        gram_postings = self.grams.merged(keep, slots, grams, docs, [gram_tf], grams_size)
        return _Snapshot(
            weights,
            ids=np.concatenate((old(self.ids), new("ids"))),
            created=np.concatenate((old(self.created), new("created"))),
            board_names=board_names, board_codes=board_codes,
            title_len=np.concatenate((old(self.title_len), new("title_len"))),
            body_len=np.concatenate((old(self.body_len), new("body_len"))),
            terms=term_postings, grams=gram_postings)


_UPSERT_CHUNK = 250
_NORM_CHUNK = 1 << 20
# Entries a query gathers at a time.
_GATHERED = 1 << 16
# Ideas changed since the last merge wait in batches until the next ranking needs them, or
# until they hold as many postings as the snapshot (and at least this many): a first build
# then merges a handful of times, not after every chunk, and never holds all its ideas twice.
_MERGE_AT = 500_000
# A key holds the query's text (a body can be long): a few thousand keys stay a few MB.
_RANKINGS_KEPT = 1024


def _max(values: np.ndarray) -> int:
    return int(values.max()) if len(values) else 0


def _owners(postings: _Postings) -> np.ndarray:
    """Term id of each postings entry."""
    return np.repeat(np.arange(len(postings.df), dtype=np.int32), postings.df)


def _log_idf(df: np.ndarray, n: int) -> np.ndarray:
    return np.log(np.maximum(n, 1) / np.maximum(df, 1))


class DuplicateRanker:
    """Ranks stored ideas by similarity to a (title, body) query. Thread-safe."""

    def __init__(self, weights: RankerWeights | None = None) -> None:
        self.weights = weights or RankerWeights()
        self._lock = threading.Lock()
        self._vocabulary: dict[str, int] = {}
        self._gram_vocabulary: dict[str, int] = {}
        self._snapshot = _Snapshot.empty(self.weights)
        # Changes not merged into the snapshot yet: the ideas' analyses in batches, and for
        # each changed id where its latest version is (batch, row), or None once removed.
        self._batches: list[_Batch] = []
        self._pending: dict[int, tuple[int, int] | None] = {}
        self._waiting = 0  # postings in self._batches
        self._size = 0

    # -- maintenance -------------------------------------------------------------------------

    def upsert(self, docs: Iterable[IdeaDocument]) -> None:
        """Add or replace ideas; merged ideas are dropped since they are never candidates."""
        # Analysis is the slow part: done before taking the lock so rankings go on meanwhile;
        # a chunk at a time, for the analyses of a first build (100,000 ideas) held at once
        # took 600 MB that the process kept. Small chunks: the heap a chunk's analyses use
        # is freed, but not all of it returns to the system (chunks of 2,000 ideas left a
        # worker about 15 MB larger).
        docs = iter(docs)
        while chunk := list(itertools.islice(docs, _UPSERT_CHUNK)):
            analysed = [(doc, None if doc.merged_into is not None else _Analysis.of(doc))
                        for doc in chunk]
            kept = [(doc, analysis) for doc, analysis in analysed if analysis is not None]
            with self._lock:
                number, row = len(self._batches), 0
                self._batches.append(_Batch(kept, self._vocabulary, self._gram_vocabulary))
                for doc, analysis in analysed:
                    if analysis is None:
                        self._forget([doc.id])
                    else:
                        self._size += not self._holds(doc.id)
                        self._pending[doc.id] = (number, row)
                        row += 1
                self._waiting += self._batches[-1].postings
                if self._waiting >= max(_MERGE_AT, len(self._snapshot.terms.docs)
                                  + len(self._snapshot.grams.docs)):
                    self._merge()

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._forget(ids)

    def clear(self) -> None:
        with self._lock:
            self._snapshot = _Snapshot.empty(self.weights)
            self._batches.clear()
            self._pending.clear()
            self._size = self._waiting = 0

    def compact(self) -> None:
        """Fold the changes waiting for the next ranking in now: after a bulk load, so that
        the first ranking does not wait for it."""
        with self._lock:
            if self._pending:
                self._merge()

    def __len__(self) -> int:
        return self._size

    def __contains__(self, idea_id: object) -> bool:
        if not isinstance(idea_id, int):
            return False
        with self._lock:
            return self._holds(idea_id)

    def _holds(self, idea_id: int) -> bool:
        """Call under the lock."""
        if idea_id in self._pending:
            return self._pending[idea_id] is not None
        return idea_id in self._snapshot

    def _forget(self, ids: Iterable[int]) -> None:
        """Call under the lock."""
        for idea_id in ids:
            if self._holds(idea_id):
                self._size -= 1
                self._pending[idea_id] = None

    def _merge(self) -> None:
        """Fold the pending changes into a new snapshot. Call under the lock."""
        if not self._batches:
            self._batches.append(_Batch([], self._vocabulary, self._gram_vocabulary))
        live = [np.zeros(len(b.ids), bool) for b in self._batches]
        for where in self._pending.values():
            if where is not None:
                live[where[0]][where[1]] = True
        self._snapshot = self._snapshot.merged(
            self.weights, self._pending.keys(), self._batches, live, len(self._vocabulary),
            len(self._gram_vocabulary))
        self._batches = []
        self._waiting = 0
        self._pending = {}

    def _current(self) -> _Snapshot:
        with self._lock:
            if self._pending:
                self._merge()
            return self._snapshot

    # -- ranking -----------------------------------------------------------------------------

    def rank(self, title: str, body: str = "", *, limit: int = 5, language: str | None = None,
             boards: Collection[str] | None = None, exclude_ids: Collection[int] = (),
             created_before: datetime | None = None) -> list[tuple[int, float]]:
        """The ``limit`` most similar ideas as (id, score), best first.

        Only ideas sharing a term or title trigram with the query are returned. The score is
        BM25F divided by the best candidate's (so 1 for the best lexical match) plus the
        weighted title cosine plus the recency bonus: at most ``1 + trigram + recency``.
        Apps showing suggestions while someone types may want a threshold on it.
        """
        snap = self._current()
        if snap.size == 0 or limit <= 0:
            return []
        # The recency bonus moves with the clock: rankings are kept for the hour at most.
        hour = None if created_before is not None or self.weights.recency <= 0 else int(
            datetime.now(UTC).timestamp() // 3600)
        key = (title, body, limit, language, None if boards is None else frozenset(boards),
               frozenset(exclude_ids), created_before, hour)
        with snap.rankings_lock:
            if key in snap.rankings:
                snap.rankings.move_to_end(key)
                return list(snap.rankings[key])
        ranking = self._rank(snap, title, body, limit, language, boards, exclude_ids,
                             created_before)
        with snap.rankings_lock:
            snap.rankings[key] = ranking
            if len(snap.rankings) > _RANKINGS_KEPT:
                snap.rankings.popitem(last=False)
        return list(ranking)

    def _rank(self, snap: _Snapshot, title: str, body: str, limit: int, language: str | None,
              boards: Collection[str] | None, exclude_ids: Collection[int],
              created_before: datetime | None) -> list[tuple[int, float]]:
        lang = normalize_language(language or guess_language(f"{title}\n{body}"))
        allowed = self._candidates(snap, boards, exclude_ids, created_before)
        if not allowed.any():
            return []
        bm25 = self._bm25f(snap, analyze(title, lang), analyze(body, lang))
        bm25[~allowed] = 0.0
        best = bm25.max()
        score = bm25 / best if best > 0 else bm25
        score += self.weights.trigram * self._title_cosine(snap, title)
        # The prior only reorders ideas that share something with the query.
        allowed &= score > 0
        if self.weights.recency > 0:
            score += self._recency(snap, created_before)
        score[~allowed] = -np.inf
        return _top(snap.ids, score, limit)

    def _candidates(self, snap: _Snapshot, boards: Collection[str] | None,
                    exclude_ids: Collection[int], created_before: datetime | None) -> np.ndarray:
        allowed = np.ones(snap.size, dtype=bool)
        if created_before is not None:
            allowed &= snap.created < created_before.timestamp()
        if boards is not None:
            wanted = set(boards)
            codes = [code for code, name in enumerate(snap.board_names) if name in wanted]
            allowed &= np.isin(snap.board_codes, np.array(codes, dtype=np.int32))
        if exclude_ids:
            allowed &= ~np.isin(snap.ids, np.fromiter(exclude_ids, np.int64))
        return allowed

    def _query_weights(self, title_terms: list[str], body_terms: list[str]) -> dict[int, float]:
        """Weight of each known query term: each distinct term counts once per part it is in."""
        w = self.weights
        weights: dict[int, float] = {}
        for terms, weight in ((set(title_terms), w.query_title), (set(body_terms), w.query_body)):
            for term in terms:
                term_id = self._vocabulary.get(term)
                if term_id is not None:
                    weights[term_id] = weights.get(term_id, 0.0) + weight
        return weights

    def _bm25f(self, snap: _Snapshot, title_terms: list[str], body_terms: list[str]
               ) -> np.ndarray:
        w = self.weights
        query = self._query_weights(title_terms, body_terms)
        if not query:
            return np.zeros(snap.size)
        term_ids = np.fromiter(query, np.int64, len(query))
        query_weight = np.fromiter(query.values(), float, len(query))
        # Terms interned after the snapshot was built have no postings in it yet.
        known = term_ids < len(snap.terms.df)
        term_ids, query_weight = term_ids[known], query_weight[known]
        df = snap.terms.df[term_ids]
        term_weight = np.log1p((snap.size - df + 0.5) / (df + 0.5)) * query_weight
        scores = np.zeros(snap.size)
        for owner, docs, (tf_title, tf_body) in snap.terms.gather(term_ids):
            # BM25F: field frequencies are length-normalised and weighted, then saturated
            # once. In place, to keep to one or two arrays the size of the entries.
            tf = tf_title * w.title_field
            tf /= snap.title_norm[docs]
            body = tf_body * w.body_field
            body /= snap.body_norm[docs]
            tf += body
            del body
            contribution = term_weight[owner]
            contribution *= tf
            contribution *= w.k1 + 1
            tf += w.k1
            contribution /= tf
            _accumulate(scores, docs, contribution)
        return scores

    def _title_cosine(self, snap: _Snapshot, title: str) -> np.ndarray:
        counts = Counter(title_grams(title))
        known = {self._gram_vocabulary[g]: c for g, c in counts.items()
                 if g in self._gram_vocabulary}
        if not known:
            return np.zeros(snap.size)
        gram_ids = np.fromiter(known, np.int64, len(known))
        gram_ids = gram_ids[gram_ids < len(snap.grams.df)]
        weight = (1.0 + np.log([known[int(g)] for g in gram_ids])) * snap.gram_idf[gram_ids]
        # Unknown grams still lengthen the query; their idf is the largest possible.
        unknown = len(counts) - len(gram_ids)
        norm = math.sqrt(float(weight @ weight) + unknown * math.log(max(snap.size, 1)) ** 2)
        if norm == 0:
            return np.zeros(snap.size)
        # Each title's norm divides its sum once rather than each of its entries.
        query = (weight / norm) * snap.gram_idf[gram_ids]
        sums = np.zeros(snap.size)
        for owner, docs, (counts, ) in snap.grams.gather(gram_ids):
            found = np.take(snap.gram_log_tf, counts)
            found *= query[owner]
            _accumulate(sums, docs, found)
        return sums / snap.gram_norm

    def _recency(self, snap: _Snapshot, created_before: datetime | None) -> np.ndarray:
        now = (created_before or datetime.now(UTC)).timestamp()
        age_days = np.maximum(now - snap.created, 0.0) / _SECONDS_PER_DAY
        return self.weights.recency * np.exp(-age_days / self.weights.recency_days)


def _accumulate(sums: np.ndarray, docs: np.ndarray, values: np.ndarray) -> None:
    """Add ``values`` to the ``sums`` of their ``docs``, in order (so a query's sums are the
    same however its entries are split up)."""
    np.add.at(sums, docs, values)


def _interned(vocabulary: dict[str, int], terms: Iterable[str], size: int) -> np.ndarray:
    """Ids of ``terms`` (``size`` of them), giving new terms the next ids in order."""
    terms = list(terms)
    for term in dict.fromkeys(terms):
        if term not in vocabulary:
            vocabulary[term] = len(vocabulary)
    return np.fromiter(map(vocabulary.__getitem__, terms), np.int32, size)


def _top(ids: np.ndarray, score: np.ndarray, limit: int) -> list[tuple[int, float]]:
    valid = int(np.isfinite(score).sum())
    k = min(limit, valid)
    if k == 0:
        return []
    top = np.argpartition(-score, k - 1)[:k]
    top = top[np.lexsort((ids[top], -score[top]))]
    return [(int(ids[i]), float(score[i])) for i in top]
