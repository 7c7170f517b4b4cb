"""Whoosh implementation of :class:`~forum.search.base.SearchBackend`.

Schema notes:

* Prose fields exist once per language (``title_en``, ``title_fr``, ``title_it``, and likewise
  body and comments) because a Whoosh field has a single analyzer and stemming must follow the
  idea's language. An idea fills only its own language's fields; a query is analysed for every
  language and matched against the matching fields, so it needs no language of its own.
* ``title``, ``body`` and the metadata are stored: titles and bodies for highlighting and for
  rebuilding the in-memory duplicate ranker when another process changed the index.
* Merged ideas stay in the index (their fingerprint must be checkable) but are masked out of
  search and never become duplicate candidates.

Searching: a query of plain words is evaluated with arrays (:mod:`.whoosh_arrays`), a fifth of
the time Whoosh's own matchers take, and without their miscount on an index of several
segments; a query with typo alternatives goes through Whoosh's search.

Concurrency: one writer at a time (a lock in this process, Whoosh's file lock across processes);
one searcher per backend, reopened only when the index generation changed and used under a lock,
because opening one costs tens of milliseconds and Whoosh searchers are not meant for concurrent
use.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import secrets
import threading
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh import writing
from whoosh.codec import base as whoosh_codec
from whoosh.codec.whoosh3 import W3PerDocReader
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.idsets import BitSet
from whoosh.searching import Searcher
from whoosh.util import IDCHARS

from forum.search.analysis import (
    LANGUAGES,
    guess_language,
    normalize_language,
    part_terms,
    query_words,
    text_analyzer,
    word_terms,
)
from forum.search.base import (
    SORTS,
    IdeaDocument,
    SearchBackend,
    SearchHit,
    SearchPage,
    TopOrder,
    fingerprint,
    heap_trimmer,
)
from forum.search.duplicates import DuplicateRanker, RankerWeights
from forum.search.snippets import highlighted
from forum.search.versions import Fingerprints, FingerprintsBuilder
from forum.search.whoosh_arrays import ArraySearch, Unsupported

log = logging.getLogger(__name__)

TITLE_BOOST = 3.0
COMMENTS_BOOST = 0.5
_PROSE_FIELDS = ("title", "body", "comments")
_MAX_QUERY_WORDS = 32
_MAX_PER_PAGE = 100
# Unknown words at least this long get typo-tolerant alternatives (shorter ones match too much).
_FUZZY_MIN_LENGTH = 4
_WRITE_TIMEOUT_S = 30.0
# Filters (board, status, tag combinations) whose documents are kept per searcher.
_MAX_DOC_SETS = 256
_MERGED = q.Term("merged", True)


def _segment_id(cls: type, size: int = 16) -> str:
    return "".join(secrets.choice(IDCHARS) for _ in range(size))


# Whoosh names each new segment with the global ``random`` module. Anything that reseeds it (a
# library, or Hypothesis, which seeds it for every example it runs) makes names repeat, and the
# next commit then collides with an existing segment and leaves the index locked. Segment names
# come from the operating system's randomness instead.
whoosh_codec.Segment._random_id = classmethod(_segment_id)


def _cached_length_reader(self: Any, fieldname: str, column: Any) -> Any:
    # Whoosh caches the length column of a field but not its absence, and asks for the file
    # again for every posting of a field the segment has no lengths for (the languages an
    # idea is not written in): a fifth of a reindex went to those stat() calls. A written
    # segment never changes, so its absence can be cached too.
    try:
        return self._readers[fieldname]
    except KeyError:
        reader = (self.column_reader(fieldname, column) if self.has_column(fieldname)
                  else None)
        self._readers[fieldname] = reader
        return reader


W3PerDocReader._cached_reader = _cached_length_reader


class _View:
    """A read-only file over a buffer, without copying it."""

    def __init__(self, buf: Any) -> None:
        self._buf = buf
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._buf) if size is None or size < 0 else min(len(self._buf), start + size)
        self._pos = max(start, end)
        return bytes(self._buf[start:end])

    def readline(self, size: int | None = -1) -> bytes:
        # Looks for the line's end a few kilobytes at a time: copying the rest of a segment
        # (up to hundreds of MB) to find it would undo what this class is for.
        end = len(self._buf) if size is None or size < 0 else min(len(self._buf),
                                                                  self._pos + size)
        stop = self._pos
        while stop < end:
            chunk = bytes(self._buf[stop:min(end, stop + 4096)])
            newline = chunk.find(b"\n")
            if newline >= 0:
                stop += newline + 1
                break
            stop += len(chunk)
        return self.read(stop - self._pos)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = max(0, offset + (0, self._pos, len(self._buf))[whence])
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._buf = b""


def _buffer_file(self: Any, buf: Any, name: str | None = None, onclose: Any = None) -> None:
    # Whoosh maps a segment file into memory, then hands each part of it to a BufferFile, which
    # wrapped it in a BytesIO: a copy. Every worker so held its own 134 MB copy of a
    # 100,000-idea index, and a status change copied it again. Reading the map in place keeps
    # it in the page cache, shared by every process.
    self._buf = buf
    self._name = name
    self.file = _View(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def _buffer_subset(self: Any, position: int, length: int, name: str | None = None) -> Any:
    view = memoryview(self._buf)[position:position + length]
    return BufferFile(view, name=name or self._name)


BufferFile.__init__ = _buffer_file
BufferFile.subset = _buffer_subset

# The segment files mapped by this process's searchers.
_MAPS: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()
_open_in_segment = CompoundStorage.open_file


def _tracked_open_in_segment(self: CompoundStorage, name: str, *args: Any, **kwargs: Any) -> Any:
    if isinstance(self._source, mmap.mmap):
        _MAPS.add(self._source)
    return _open_in_segment(self, name, *args, **kwargs)


def _unmap_read_pages() -> None:
    """Drop the index pages searches read from this process's page tables.

    They stay in the page cache, shared by every process, and the next search that needs one
    maps it again (a minor fault, no read). Counted in the worker's resident memory until
    then: a worker that had served the bench's searches held 23 MB of them.
    """
    for mapped in list(_MAPS):
        with contextlib.suppress(ValueError, OSError):  # closed since, by a newer searcher
            mapped.madvise(mmap.MADV_DONTNEED)


CompoundStorage.open_file = _tracked_open_in_segment
heap_trimmer.also(_unmap_read_pages)


class _TermPool:
    """Postings of a rebuild, kept in memory grouped by term.

    Whoosh's own pool holds one tuple per posting and, past ``limitmb``, sorts them into runs
    on disk and merges the runs back: at 100,000 ideas (about 6.6 million postings) writing and
    reading those runs was a third of a reindex. Documents are added in docnum order, so each
    term's postings arrive already sorted and only the terms need sorting; equal weights and
    values are shared, which keeps the whole pool to a few hundred MB at that size. It yields
    exactly what Whoosh's pool would, so the segment written is the same.
    """

    def __init__(self) -> None:
        self._terms: dict[tuple[str, bytes], list[Any]] = {}
        self._weights: dict[float, float] = {}
        self._values: dict[bytes | None, bytes | None] = {}

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        postings = self._terms.get((fieldname, tbytes))
        if postings is None:
            postings = self._terms[(fieldname, tbytes)] = []
        postings.extend((docnum, self._weights.setdefault(weight, weight),
                         self._values.setdefault(vbytes, vbytes)))

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, bytes | None]]:
        terms = self._terms
        for key in sorted(terms):
            fieldname, tbytes = key
            postings = terms[key]
            for i in range(0, len(postings), 3):
                yield fieldname, tbytes, postings[i], postings[i + 1], postings[i + 2]

    def cleanup(self) -> None:
        self._terms.clear()
        self._weights.clear()
        self._values.clear()


def build_schema() -> Schema:
    fields: dict[str, Any] = {
        # A column too: "top" order reads the ids of every match without loading stored fields.
        "id": NUMERIC(int, bits=64, signed=True, unique=True, stored=True, sortable=True),
        "title": STORED(),
        "body": STORED(),
        "tags": KEYWORD(commas=True, lowercase=True, stored=True),
        "board": ID(stored=True),
        "status": ID(stored=True),
        "created": DATETIME(stored=True, sortable=True),
        "merged": BOOLEAN(stored=True),
        "language": ID(stored=True),
        "fingerprint": ID(stored=True),
    }
    boosts = {"title": TITLE_BOOST, "body": 1.0, "comments": COMMENTS_BOOST}
    for lang in LANGUAGES:
        for name in _PROSE_FIELDS:
            fields[f"{name}_{lang}"] = TEXT(analyzer=text_analyzer(lang), phrase=False,
                                            field_boost=boosts[name])
    return Schema(**fields)


def _naive_utc(moment: datetime) -> datetime:
    """Whoosh stores naive datetimes; ours are UTC (naive input is taken as UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


class WhooshBackend(SearchBackend):
    """Search and duplicate suggestions backed by a Whoosh index in ``index_dir``."""

    def __init__(self, index_dir: str | Path, *, weights: RankerWeights | None = None) -> None:
        self._dir = Path(index_dir)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._ix = None
        if whoosh_index.exists_in(str(self._dir)):
            self._ix = whoosh_index.open_dir(str(self._dir))
            if not _same_schema(self._ix.schema, build_schema()):
                # An index of an older schema cannot answer this version's queries; an empty one
                # can, and `flask forum check` then lists every idea as missing until
                # `flask forum reindex` fills it (the index is derived: nothing is lost).
                log.warning("Search index in %s has an older schema: starting it afresh; "
                            "run `flask forum reindex`.", self._dir)
                self._ix.close()
                self._ix = None
        if self._ix is None:
            self._ix = whoosh_index.create_in(str(self._dir), build_schema())
        self._write_lock = threading.Lock()
        self._read_lock = threading.RLock()
        self._searcher: Searcher = self._ix.searcher()
        self._doc_sets: dict[str, BitSet] = {}
        self._arrays: ArraySearch | None = None  # for self._searcher; see _array_search
        self._ranker = DuplicateRanker(weights)
        self._ranker_lock = threading.Lock()
        # The ranker mirrors the index as of this generation; None forces a sync on next use.
        self._ranker_generation: int | None = None
        self._ranker_versions = Fingerprints()
        self._syncing = False  # _sync_ranker is reading the index into the ranker
        if self._searcher.doc_count_all() == 0:
            self._ranker_generation = self._ix.latest_generation()

    # -- writing -----------------------------------------------------------------------------

    def index(self, docs: Iterable[IdeaDocument]) -> None:
        batch = list(docs)
        if not batch:
            return

        def write(writer: Any) -> None:
            for doc in batch:
                writer.update_document(**self._fields(doc))

        def mirror() -> None:
            self._ranker.upsert(batch)
            self._ranker_versions.update((doc.id, fingerprint(doc)) for doc in batch)

        self._commit(write, mirror)

    def remove(self, ids: Iterable[int]) -> None:
        doomed = list(dict.fromkeys(int(i) for i in ids))
        if not doomed:
            return

        def write(writer: Any) -> None:
            for idea_id in doomed:
                writer.delete_by_term("id", idea_id)

        def mirror() -> None:
            self._ranker.remove(doomed)
            self._ranker_versions.discard(doomed)

        self._commit(write, mirror)

    def refresh(self, ids: Collection[int],
                load: Callable[[list[int]], list[IdeaDocument]]) -> None:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return
        batch: list[IdeaDocument] = []
        gone: list[int] = []

        def write(writer: Any) -> None:
            # Read while holding the index's write lock (a file lock, so across processes):
            # whoever writes last has read last, and the index ends with the latest version.
            batch.extend(load(wanted))
            found = {doc.id for doc in batch}
            gone.extend(i for i in wanted if i not in found)
            for doc in batch:
                writer.update_document(**self._fields(doc))
            for idea_id in gone:
                writer.delete_by_term("id", idea_id)

        def mirror() -> None:
            self._ranker.upsert(batch)
            self._ranker_versions.update((doc.id, fingerprint(doc)) for doc in batch)
            self._ranker.remove(gone)
            self._ranker_versions.discard(gone)

        self._commit(write, mirror)

    def rebuild(self, batches: Iterable[list[IdeaDocument]]) -> None:
        """One writer and one commit for the whole index: committing each batch would write a
        segment per batch and merge them again and again (most of a reindex's time)."""

        def write(writer: Any) -> None:
            for batch in batches:
                for doc in batch:
                    # The index starts empty (CLEAR below): nothing to replace, no lookups.
                    writer.add_document(**self._fields(doc))

        def forget() -> None:
            # The ranker is filled again from the stored fields when it is next used (see
            # _sync_ranker), not here: `flask forum reindex` runs in a process that never
            # ranks, and analysing every idea for it was a tenth of a reindex.
            self._ranker.clear()
            self._ranker_versions.clear()

        self._commit(write, forget, mergetype=writing.CLEAR, resync=True, pool=_TermPool())

    def clear(self) -> None:
        def mirror() -> None:
            self._ranker.clear()
            self._ranker_versions.clear()

        self._commit(lambda writer: None, mirror, mergetype=writing.CLEAR)

    def _commit(self, write: Callable[[Any], None], mirror: Callable[[], None],
                mergetype: Any = None, resync: bool = False,
                pool: _TermPool | None = None) -> None:
        """Apply ``write`` in one Whoosh commit, then the same change to the duplicate ranker
        (or, with ``resync``, have the ranker read the index again when next used). A writer
        that starts from an empty index (``writing.CLEAR``) may collect postings in ``pool``.

        Both happen under the ranker lock, so similar() never sees the index ahead of the ranker.
        """
        with self._write_lock:
            writer = self._ix.writer(timeout=_WRITE_TIMEOUT_S)
            if pool is not None:
                writer.pool.cleanup()
                writer.pool = pool
            try:
                write(writer)
            except BaseException:
                writer.cancel()
                raise
            if self._syncing:
                # The ranker is reading the whole index (a fresh worker's first build: 13 s at
                # 100,000 ideas). Waiting for it held a status change for as long. It will end
                # on the generation it read, older than this commit's, so the next similar()
                # syncs again and finds this change by its fingerprint.
                self._commit_writer(writer, mergetype)
                return
            with self._ranker_lock:
                self._commit_writer(writer, mergetype)
                mirror()
                # The commit made generation ``writer.generation``. If the ranker mirrored the
                # one this writer started from, it is in sync again; otherwise another process
                # wrote in between and the next similar() resyncs from stored fingerprints.
                in_step = self._ranker_generation == writer.generation - 1 and not resync
                self._ranker_generation = writer.generation if in_step else None

    @staticmethod
    def _commit_writer(writer: Any, mergetype: Any) -> None:
        try:
            if mergetype is None:
                writer.commit()
            else:
                writer.commit(mergetype=mergetype)
        except BaseException:
            # A failed commit keeps the index's write lock: release it, or every later write
            # in this process fails with LockError.
            with contextlib.suppress(Exception):
                writer.cancel()
            raise

    @staticmethod
    def _fields(doc: IdeaDocument) -> dict[str, Any]:
        lang = normalize_language(doc.language)
        fields: dict[str, Any] = {
            "id": doc.id,
            "title": doc.title,
            "body": doc.body,
            "tags": ",".join(t.strip() for t in doc.tags if t.strip()),
            "board": doc.board,
            "status": doc.status,
            "created": _naive_utc(doc.created_at),
            "merged": doc.merged_into is not None,
            "language": lang,
            "fingerprint": fingerprint(doc),
            f"title_{lang}": doc.title,
            f"body_{lang}": doc.body,
        }
        if doc.comments:
            fields[f"comments_{lang}"] = doc.comments
        return fields

    # -- reading -----------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Searcher]:
        with self._read_lock:
            if self._searcher.reader().generation() != self._ix.latest_generation():
                # Not Searcher.refresh(): in whoosh-reloaded 2.7.5 it re-adds the old reader's
                # segments, so deleted and replaced documents come back (and it fails on an
                # empty index). Reopening costs tens of milliseconds, and only after a write.
                self._searcher.close()
                self._searcher = self._ix.searcher()
                self._doc_sets.clear()
                self._arrays = None
            yield self._searcher

    def _array_search(self, searcher: Searcher) -> ArraySearch:
        """The array evaluator of the current searcher (it keeps decoded length columns).
        Call inside ``_reading``."""
        if self._arrays is None:
            self._arrays = ArraySearch(searcher)
        return self._arrays

    def _doc_set(self, searcher: Searcher, restriction: q.Query | None) -> BitSet | None:
        """The documents a filter or mask allows, computed once per searcher: a search of
        "dark mode" on the boards a visitor may see used to spend a third of its time listing
        those boards' 100,000 documents again. Call inside ``_reading``."""
        if restriction is None:
            return None
        key = repr(restriction)
        found = self._doc_sets.get(key)
        if found is None:
            if len(self._doc_sets) >= _MAX_DOC_SETS:
                self._doc_sets.clear()
            found = self._doc_sets[key] = BitSet(searcher.docs_for_query(restriction),
                                                 size=searcher.doc_count_all())
        return found

    def count(self) -> int:
        with self._reading() as searcher:
            return searcher.doc_count()

    def stored_versions(self) -> dict[int, str]:
        with self._reading() as searcher:
            return {int(f["id"]): f["fingerprint"] for f in searcher.all_stored_fields()}

    def search(self, query: str, *, boards: Collection[str] | None = None,
               status: str | None = None, tag: str | None = None, sort: str = "relevance",
               page: int = 1, per_page: int = 20,
               top_order: TopOrder | None = None) -> SearchPage:
        page = max(1, int(page))
        per_page = min(max(1, int(per_page)), _MAX_PER_PAGE)
        sort = sort if sort in SORTS else "relevance"
        if sort == "top" and top_order is None:
            sort = "new"
        text_query = _text_query(query)
        restriction = _filter_query(boards, status, tag)
        if restriction is q.NullQuery:
            return SearchPage(hits=[], total=0)
        with self._reading() as searcher:
            allowed = self._doc_set(searcher, restriction)
            if allowed is not None and not allowed:
                # Whoosh reads an empty filter as no filter at all.
                return SearchPage(hits=[], total=0)
            fuzzy = _FuzzyExpander(searcher)
            masked = self._doc_set(searcher, _MERGED)
            start, end = (page - 1) * per_page, page * per_page
            # Every word must match somewhere; if that finds nothing, any word will do.
            for combine in (q.And, q.Or):
                built = text_query.build(combine, fuzzy)
                ranked = self._ranked(searcher, built, sort, end, allowed, masked)
                if ranked[1] or len(text_query.words) < 2:
                    break
            shown, total = ranked
            if sort == "top":
                ids = searcher.reader().column_reader("id")
                docnums = {int(ids[docnum]): docnum for docnum, _ in shown}
                assert top_order is not None
                shown = [(docnums[i], 0.0) for i in top_order(list(docnums), end)]
            hits = [self._hit(searcher.stored_fields(docnum), score, text_query)
                    for docnum, score in shown[start:end]]
            return SearchPage(hits=hits, total=total)

    def _ranked(self, searcher: Searcher, built: q.Query, sort: str, end: int,
                allowed: BitSet | None, masked: BitSet | None
                ) -> tuple[list[tuple[int, float]], int]:
        """The first ``end`` matches of ``built`` in the order of ``sort`` (every match for
        "top", which the caller orders) as (document number, score), and how many there are.
        Call inside ``_reading``."""
        arrays = self._array_search(searcher)
        try:
            found = arrays.matches(built)
        except Unsupported:
            found = None
        if found is not None:
            ids, scores = arrays.restrict(found, allowed, masked)
            if sort == "new":
                created = searcher.reader().column_reader("created", translate=False)
                keys = np.fromiter((created.sort_key(i) for i in ids.tolist()),
                                   dtype=np.int64, count=len(ids))
                # Whoosh sorts (key, document number) pairs in reverse: newest first, and the
                # higher document number first among equal times.
                order = np.lexsort((ids, keys))[::-1]
            else:
                order = ArraySearch.by_score((ids, scores))
            if sort != "top":
                order = order[:end]
            shown = list(zip(ids[order].tolist(), scores[order].tolist(), strict=True))
            if sort != "relevance":
                shown = [(docnum, 0.0) for docnum, _ in shown]
            return shown, len(ids)
        # optimize=False: with Whoosh's block-quality skipping the number of matches stays
        # unknown, and the page's total then ran the whole query a second time (40% of a
        # search at 100,000 ideas) while the skipping saved little: nearly every block of a
        # common word may hold a top hit. Scoring every match once gives the same hits, and
        # the total with them. No limit: with one, on an index of several segments, Whoosh
        # leaves out hits that belong on the page and counts short ("calender sync": 176,
        # 245 and 265 matches said on pages 1, 2 and 3).
        results = searcher.search(built, limit=None, filter=allowed, mask=masked,
                                  optimize=False, **_sort_args(sort))
        if sort == "top":
            return [(docnum, 0.0) for docnum in results.docs()], len(results)
        # Sorted searches put the sort key in ``hit.score``; only relevance has a score.
        return ([(hit.docnum, hit.score if sort == "relevance" else 0.0)
                 for hit in results[:end]], len(results))

    def _hit(self, stored: dict[str, Any], score: float, text_query: _TextQuery) -> SearchHit:
        lang = stored.get("language", "en")
        title_html, snippet_html = highlighted(stored.get("title", ""), stored.get("body", ""),
                                               text_query.terms_for(lang), lang)
        return SearchHit(id=int(stored["id"]), score=float(score),
                         title_html=title_html, snippet_html=snippet_html)

    def similar(self, title: str, body: str = "", *, limit: int = 5,
                boards: Collection[str] | None = None, exclude_ids: Collection[int] = (),
                created_before: datetime | None = None,
                language: str | None = None) -> list[tuple[int, float]]:
        """See :meth:`SearchBackend.similar`; ``language`` is guessed from the text if omitted."""
        self.ready_ranker()
        return self._ranker.rank(title, body, limit=limit, language=language, boards=boards,
                                 exclude_ids=exclude_ids, created_before=created_before)

    def _sync_ranker(self) -> None:
        """Bring the in-memory ranker up to date with the index (after another process wrote).

        Compares fingerprints, so only new or changed ideas are analysed again.
        """
        with self._ranker_lock:
            if self._ranker_generation == self._ix.latest_generation():
                return
            self._syncing = True
            try:
                self._read_into_ranker()
            finally:
                self._syncing = False

    def _read_into_ranker(self) -> None:
        """The sync itself; call under the ranker lock."""
        versions = FingerprintsBuilder()

        def changed(stored: Iterable[dict[str, Any]]) -> Iterator[IdeaDocument]:
            for fields in stored:
                idea_id = int(fields["id"])
                versions.add(idea_id, fields["fingerprint"])
                if self._ranker_versions.get(idea_id) != fields["fingerprint"]:
                    yield _document_from_stored(fields)

        # Its own reader, through plain file reads: this one reads every stored document
        # once, and through the searcher's memory map those pages (the bulk of the index
        # file) stayed in the worker's resident memory for good, 40 MB at 100,000 ideas. Not
        # sharing the searcher also lets the documents stream into the ranker a chunk at a
        # time instead of being held all at once (100,000 documents, and the heap they
        # fragmented, were most of a first build's peak).
        storage = FileStorage(str(self._dir), supports_mmap=False, readonly=True)
        with contextlib.closing(storage.open_index().reader()) as reader:
            generation = reader.generation()
            self._ranker.upsert(changed(reader.all_stored_fields()))
        found = versions.build()
        self._ranker.remove(np.setdiff1d(self._ranker_versions.ids(), found.ids()).tolist())
        self._ranker.compact()
        self._ranker_versions = found
        self._ranker_generation = generation

    def close(self) -> None:
        with self._read_lock:
            self._searcher.close()
        self._ix.close()


def _same_schema(found: Schema, wanted: Schema) -> bool:
    return found.names() == wanted.names() and all(
        (found[name].column_type is None) == (wanted[name].column_type is None)
        for name in wanted.names())


def _document_from_stored(fields: dict[str, Any]) -> IdeaDocument:
    """Enough of an idea for the duplicate ranker (merged ideas only need to be dropped)."""
    created = fields.get("created") or datetime(1970, 1, 1)
    return IdeaDocument(id=int(fields["id"]), title=fields.get("title", ""),
                        body=fields.get("body", ""), board=fields.get("board", ""),
                        created_at=created.replace(tzinfo=UTC),
                        merged_into=-1 if fields.get("merged") else None,
                        language=fields.get("language", "en"))


def _sort_args(sort: str) -> dict[str, Any]:
    if sort == "new":
        return {"sortedby": "created", "reverse": True}
    return {}


def _filter_query(boards: Collection[str] | None, status: str | None,
                  tag: str | None) -> q.Query | None:
    """Restriction by board/status/tag; ``q.NullQuery`` when it can match nothing."""
    parts: list[q.Query] = []
    if boards is not None:
        if not boards:
            return q.NullQuery
        parts.append(q.Or([q.Term("board", b) for b in boards]))
    if status:
        parts.append(q.Term("status", status))
    if tag:
        parts.append(q.Term("tags", tag.strip().lower()))
    return q.And(parts) if parts else None


class _FuzzyExpander:
    """Typo tolerance: edit-distance alternatives for words absent from the index."""

    def __init__(self, searcher: Searcher) -> None:
        self._reader = searcher.reader()

    def known(self, field: str, term: str) -> bool:
        return self._reader.doc_frequency(field, term) > 0

    @staticmethod
    def alternatives(field: str, term: str) -> q.Query:
        # One edit for short words, two for long ones; the first letter is rarely mistyped and
        # fixing it keeps the lexicon scan small.
        distance = 1 if len(term) <= 6 else 2
        return q.FuzzyTerm(field, term, boost=0.5, maxdist=distance, prefixlength=1)


class _TextQuery:
    """A user's query as plain words: no operators, so no input can be malformed."""

    def __init__(self, text: str) -> None:
        self.words = query_words(text)[:_MAX_QUERY_WORDS]
        self._stop_language = guess_language(text)

    def terms_for(self, language: str) -> set[str]:
        return {term for word in self.words for term, _, _ in word_terms(word, language)}

    def build(self, combine: type[q.CompoundQuery], fuzzy: _FuzzyExpander) -> q.Query:
        clauses = [c for c in (self._word_clause(w, fuzzy) for w in self.words) if c is not None]
        if not clauses:
            # Nothing to look for (empty or only stop words): list everything, filtered/sorted.
            return q.Every()
        return combine(clauses)

    def _word_clause(self, word: str, fuzzy: _FuzzyExpander) -> q.Query | None:
        """Where ``word`` may match: any prose field of any language, or a tag."""
        # A stop word of the query's own language is not required ("the", "de", "il").
        if not word_terms(word, self._stop_language):
            return None
        alternatives: list[q.Query] = [q.Term("tags", word.lower())]
        terms = {lang: part_terms(word, lang) for lang in LANGUAGES}
        # A part of the word is a typo only when no language's index knows it: "dark" is
        # unknown to the French fields of an English site, and expanding it there by edit
        # distance cost 50 ms a query (Whoosh builds an automaton per fuzzy term).
        known_spans = {(begin, end) for lang, parts in terms.items()
                       for term, begin, end in parts
                       if any(fuzzy.known(f, term) for f in _fields(lang))}
        for lang, parts in terms.items():
            # A compound ("dark-mode", "getUserName") matches through all of its parts, so
            # "dark mode" and "dark-mode" find each other.
            typo = {term: (begin, end) not in known_spans for term, begin, end in parts}
            if typo:
                alternatives.append(q.And([self._term_anywhere(lang, term, fuzzy, is_typo)
                                           for term, is_typo in typo.items()]))
        return q.Or(alternatives)

    @staticmethod
    def _term_anywhere(lang: str, term: str, fuzzy: _FuzzyExpander, typo: bool) -> q.Query:
        fields = _fields(lang)
        exact: list[q.Query] = [q.Term(f, term) for f in fields]
        if typo and len(term) >= _FUZZY_MIN_LENGTH:
            exact.extend(fuzzy.alternatives(f, term) for f in fields[:2])
        return q.Or(exact)


def _fields(lang: str) -> list[str]:
    return [f"{name}_{lang}" for name in _PROSE_FIELDS]


def _text_query(text: str) -> _TextQuery:
    return _TextQuery(text if isinstance(text, str) else "")
