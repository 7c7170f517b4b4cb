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
the query's terms, no per-document Python loop. It is rebuilt lazily, in well under a second,
after ideas are added or removed.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

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


@dataclass(frozen=True, slots=True)
class _Entry:
    """What the ranker keeps of one idea: term counts and metadata for filtering.

    The counts are one int32 array: five arrays of floats an idea (and their Python objects)
    made the entries of 100,000 ideas 170 MB in every worker; packed they are about 77 MB.
    """

    id: int
    # term ids, their counts in the title, in the body, then gram ids and the grams' counts
    packed: np.ndarray
    term_count: int
    title_len: int
    body_len: int
    created: float                                     # POSIX seconds
    board: str

    @property
    def term_ids(self) -> np.ndarray:
        return self.packed[:self.term_count]

    @property
    def tf_title(self) -> np.ndarray:
        return self.packed[self.term_count:2 * self.term_count]

    @property
    def tf_body(self) -> np.ndarray:
        return self.packed[2 * self.term_count:3 * self.term_count]

    @property
    def gram_ids(self) -> np.ndarray:
        return self.packed[3 * self.term_count:len(self.packed) - self._gram_count]

    @property
    def gram_counts(self) -> np.ndarray:
        return self.packed[len(self.packed) - self._gram_count:]

    @property
    def _gram_count(self) -> int:
        return (len(self.packed) - 3 * self.term_count) // 2


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


class _Postings:
    """Column-oriented postings (term -> documents) built from per-document term vectors."""

    def __init__(self, doc_terms: list[np.ndarray], doc_values: list[list[np.ndarray]],
                 vocabulary_size: int) -> None:
        """``doc_values[k][d]`` holds the k-th value (e.g. a field's tf) of document d's terms."""
        lengths = np.fromiter((len(t) for t in doc_terms), dtype=np.int64, count=len(doc_terms))
        docs = np.repeat(np.arange(len(doc_terms), dtype=np.int32), lengths)
        terms = np.concatenate(doc_terms) if doc_terms else np.zeros(0, np.int32)
        order = np.argsort(terms, kind="stable")
        self.docs = docs[order]
        self.values = [np.concatenate(v)[order].astype(float) if doc_terms else np.zeros(0)
                       for v in doc_values]
        counts = np.bincount(terms, minlength=vocabulary_size)
        self.start = np.concatenate(([0], np.cumsum(counts)))
        self.df = counts

    def gather(self, term_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions in the postings arrays of all entries of ``term_ids``, and which term each is.

        ``term_ids`` must be distinct and known to these postings.
        """
        starts, ends = self.start[term_ids], self.start[term_ids + 1]
        sizes = ends - starts
        owner = np.repeat(np.arange(len(term_ids)), sizes)
        offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return starts[owner] + offsets, owner


class _Snapshot:
    """Immutable arrays for scoring; rebuilt from the entries after any change."""

    def __init__(self, entries: list[_Entry], vocabulary_size: int, grams_size: int) -> None:
        self.ids = np.fromiter((e.id for e in entries), dtype=np.int64, count=len(entries))
        self.created = np.fromiter((e.created for e in entries), dtype=np.float64,
                                   count=len(entries))
        # Boards as small integer codes: filtering 100,000 ideas by board is then one
        # vectorised np.isin instead of a Python loop (13 ms a query at that size).
        self.board_names = sorted({e.board for e in entries}, key=str)
        codes = {name: code for code, name in enumerate(self.board_names)}
        self.board_codes = np.fromiter((codes[e.board] for e in entries), dtype=np.int32,
                                       count=len(entries))
        self.title_len = np.fromiter((e.title_len for e in entries), float, len(entries))
        self.body_len = np.fromiter((e.body_len for e in entries), float, len(entries))
        self.terms = _Postings([e.term_ids for e in entries],
                               [[e.tf_title for e in entries], [e.tf_body for e in entries]],
                               vocabulary_size)
        self.grams = _Postings([e.gram_ids for e in entries], [[e.gram_counts for e in entries]],
                               grams_size)
        self.grams.values[0] = 1.0 + np.log(self.grams.values[0])  # a gram's weight: 1 + log tf
        self.size = len(entries)
        self.gram_idf = _log_idf(self.grams.df, self.size)
        gram_weight = self.grams.values[0] * self.gram_idf[_owners(self.grams)]
        norms = np.sqrt(_accumulate(self.grams.docs, gram_weight**2, self.size))
        # Trigram weights pre-divided by the document norm: the cosine is then a plain sum.
        self.gram_weight = gram_weight / np.maximum(norms, 1e-9)[self.grams.docs]
        self.grams.values = []  # folded into gram_weight; 40 MB at 100,000 ideas
        # Rankings already computed on this snapshot. A ranking depends only on the snapshot
        # and the query, so it stays right until the next change builds a new snapshot (which
        # starts empty): an idea page viewed again does not rank 100,000 ideas again.
        self.rankings: OrderedDict[tuple, list[tuple[int, float]]] = OrderedDict()
        self.rankings_lock = threading.Lock()


_UPSERT_CHUNK = 2000
# A key holds the query's text (a body can be long): a few thousand keys stay a few MB.
_RANKINGS_KEPT = 1024


def _owners(postings: _Postings) -> np.ndarray:
    """Term id of each postings entry."""
    return np.repeat(np.arange(len(postings.df)), postings.df)


def _log_idf(df: np.ndarray, n: int) -> np.ndarray:
    return np.log(np.maximum(n, 1) / np.maximum(df, 1))


class DuplicateRanker:
    """Ranks stored ideas by similarity to a (title, body) query. Thread-safe."""

    def __init__(self, weights: RankerWeights | None = None) -> None:
        self.weights = weights or RankerWeights()
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}
        self._vocabulary: dict[str, int] = {}
        self._gram_vocabulary: dict[str, int] = {}
        self._snapshot: _Snapshot | None = None

    # -- maintenance -------------------------------------------------------------------------

    def upsert(self, docs: Iterable[IdeaDocument]) -> None:
        """Add or replace ideas; merged ideas are dropped since they are never candidates."""
        # Analysis is the slow part: done before taking the lock so rankings go on meanwhile;
        # a chunk at a time, for the analyses of a first build (100,000 ideas) held at once
        # took 600 MB that the process kept.
        docs = iter(docs)
        while chunk := list(itertools.islice(docs, _UPSERT_CHUNK)):
            analysed = [(doc, None if doc.merged_into is not None else _Analysis.of(doc))
                        for doc in chunk]
            with self._lock:
                for doc, analysis in analysed:
                    if analysis is None:
                        self._entries.pop(doc.id, None)
                    else:
                        self._entries[doc.id] = self._entry(doc, analysis)
                self._snapshot = None

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            for idea_id in ids:
                self._entries.pop(idea_id, None)
            self._snapshot = None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._snapshot = None

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, idea_id: object) -> bool:
        return idea_id in self._entries

    def _entry(self, doc: IdeaDocument, analysis: _Analysis) -> _Entry:
        title, body, grams = analysis.title, analysis.body, analysis.grams
        terms = list(dict.fromkeys([*title, *body]))
        packed = np.fromiter(
            itertools.chain((_intern(self._vocabulary, t) for t in terms),
                            (title.get(t, 0) for t in terms), (body.get(t, 0) for t in terms),
                            (_intern(self._gram_vocabulary, g) for g in grams),
                            grams.values()),
            dtype=np.int32, count=3 * len(terms) + 2 * len(grams))
        return _Entry(id=doc.id, packed=packed, term_count=len(terms),
                      title_len=title.total(), body_len=body.total(),
                      created=doc.created_at.timestamp(), board=doc.board)

    def _current(self) -> _Snapshot:
        with self._lock:
            if self._snapshot is None:
                self._snapshot = _Snapshot(list(self._entries.values()), len(self._vocabulary),
                                           len(self._gram_vocabulary))
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
        where, owner = snap.terms.gather(term_ids)
        docs = snap.terms.docs[where]
        # BM25F: field frequencies are length-normalised and weighted, then saturated once.
        title_norm = 1 - w.b + w.b * snap.title_len / max(snap.title_len.mean(), 1e-9)
        body_norm = 1 - w.b + w.b * snap.body_len / max(snap.body_len.mean(), 1e-9)
        tf = (w.title_field * snap.terms.values[0][where] / title_norm[docs]
              + w.body_field * snap.terms.values[1][where] / body_norm[docs])
        df = snap.terms.df[term_ids]
        idf = np.log1p((snap.size - df + 0.5) / (df + 0.5))
        contribution = (idf * query_weight)[owner] * tf * (w.k1 + 1) / (w.k1 + tf)
        return _accumulate(docs, contribution, snap.size)

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
        where, owner = snap.grams.gather(gram_ids)
        return _accumulate(snap.grams.docs[where], snap.gram_weight[where] * (weight / norm)[owner],
                           snap.size)

    def _recency(self, snap: _Snapshot, created_before: datetime | None) -> np.ndarray:
        now = (created_before or datetime.now(UTC)).timestamp()
        age_days = np.maximum(now - snap.created, 0.0) / _SECONDS_PER_DAY
        return self.weights.recency * np.exp(-age_days / self.weights.recency_days)


def _accumulate(docs: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per-document sums of ``values`` (float even when there is nothing to add)."""
    return np.bincount(docs, weights=values, minlength=size).astype(np.float64, copy=False)


def _intern(vocabulary: dict[str, int], term: str) -> int:
    term_id = vocabulary.get(term)
    if term_id is None:
        term_id = vocabulary[term] = len(vocabulary)
    return term_id


def _top(ids: np.ndarray, score: np.ndarray, limit: int) -> list[tuple[int, float]]:
    valid = int(np.isfinite(score).sum())
    k = min(limit, valid)
    if k == 0:
        return []
    top = np.argpartition(-score, k - 1)[:k]
    top = top[np.lexsort((ids[top], -score[top]))]
    return [(int(ids[i]), float(score[i])) for i in top]
