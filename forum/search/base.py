"""Search backend interface: plain documents in, ids and highlighted snippets out.

Nothing here knows about Flask or the database models; the app converts its ideas to
:class:`IdeaDocument` and calls a :class:`SearchBackend`.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from forum.search.analysis import forget_words

SORTS: tuple[str, ...] = ("relevance", "top", "new")

# Puts matching idea ids in "top" order (most votes first), returning at least the first
# ``needed`` of them; the database holds the counts, the index does not.
TopOrder = Callable[[list[int], int], list[int]]


def _epoch() -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IdeaDocument:
    """What the search index knows of an idea.

    Nothing that changes with every vote: a launch brings thousands of votes an hour, and each
    would rewrite the document. "Most votes" is ordered by the database (see :data:`TopOrder`).
    """

    id: int
    title: str
    body: str                                  # Markdown source
    comments: str = ""                         # concatenated public comment text
    tags: tuple[str, ...] = ()
    board: str = ""                            # board slug
    status: str = ""                           # status slug
    created_at: datetime = field(default_factory=_epoch)  # timezone-aware UTC
    merged_into: int | None = None
    language: str = "en"                       # "en" | "fr" | "it"


@dataclass(frozen=True)
class SearchHit:
    id: int
    score: float
    title_html: str      # escaped title with query matches wrapped in <mark>
    snippet_html: str    # escaped body excerpt with query matches wrapped in <mark>


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int


def fingerprint(doc: IdeaDocument) -> str:
    """A digest of everything the index stores about ``doc``.

    The app computes it from the database and compares with :meth:`SearchBackend.stored_versions`
    to find ideas missing from the index or indexed from an older version.
    """
    created = doc.created_at
    if created.tzinfo is None:  # naive datetimes are UTC by convention
        created = created.replace(tzinfo=UTC)
    payload = [doc.id, doc.title, doc.body, doc.comments, sorted(doc.tags), doc.board,
               doc.status, created.astimezone(UTC).isoformat(), doc.merged_into,
               doc.language]
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


class SearchBackend(ABC):
    """Full-text search and duplicate suggestions over ideas."""

    @abstractmethod
    def index(self, docs: Iterable[IdeaDocument]) -> None:
        """Add or replace ideas by id, in one batch."""

    @abstractmethod
    def remove(self, ids: Iterable[int]) -> None:
        """Remove ideas by id; unknown ids are ignored."""

    def refresh(self, ids: Collection[int],
                load: Callable[[list[int]], list[IdeaDocument]]) -> None:
        """Make the index hold what ``load`` returns for these ids now (the others removed).

        Backends that can call ``load`` while holding their write lock: then two processes
        refreshing the same idea cannot leave the older version in the index last.
        """
        wanted = sorted(set(ids))
        docs = load(wanted)
        self.index(docs)
        self.remove(set(wanted) - {doc.id for doc in docs})

    @abstractmethod
    def search(self, query: str, *, boards: Collection[str] | None = None,
               status: str | None = None, tag: str | None = None, sort: str = "relevance",
               page: int = 1, per_page: int = 20,
               top_order: TopOrder | None = None) -> SearchPage:
        """Ideas matching ``query`` (plain text: operators and quotes have no meaning).

        Merged ideas are excluded; ``boards=None`` means all boards; ``sort`` is one of
        :data:`SORTS`; ``sort="top"`` needs ``top_order`` (without it, newest first). Never
        raises on user input.
        """

    @abstractmethod
    def similar(self, title: str, body: str = "", *, limit: int = 5,
                boards: Collection[str] | None = None, exclude_ids: Collection[int] = (),
                created_before: datetime | None = None) -> list[tuple[int, float]]:
        """Ideas most likely to duplicate (title, body), best first, as (id, score).

        Merged ideas are excluded; ``created_before`` keeps only ideas created earlier.
        """

    def rebuild(self, batches: Iterable[list[IdeaDocument]]) -> None:
        """Replace the whole index by these documents (``flask forum reindex``)."""
        self.clear()
        for batch in batches:
            self.index(batch)

    @abstractmethod
    def clear(self) -> None:
        """Remove every idea."""

    @abstractmethod
    def count(self) -> int:
        """Number of indexed ideas, merged ones included."""

    @abstractmethod
    def stored_versions(self) -> dict[int, str]:
        """Id -> :func:`fingerprint` of the version that was indexed."""

    @abstractmethod
    def close(self) -> None:
        """Release files and caches; the backend is unusable afterwards."""

    # -- the duplicate ranker's first build ------------------------------------------------

    @abstractmethod
    def _sync_ranker(self) -> None:
        """Bring the in-memory duplicate ranker up to date with the stored documents."""

    def ready_ranker(self) -> None:
        """:meth:`_sync_ranker`, remembering that the ranker has been built once."""
        built = self._ranker_built()
        first = not built.is_set()
        if first:
            _map_large_allocations()
        self._sync_ranker()
        if first:
            forget_words()
            _return_free_heap()
            built.set()

    def warm_up(self, wait: float = 0.0) -> bool:
        """Build the ranker in a background thread (once per process); wait up to ``wait``
        seconds for it. Returns whether it is ready.

        The first build analyses every idea (about 13 s at 100,000 ideas on two cores): a
        page that only garnishes itself with related ideas must not make its visitor wait
        for that; a new worker starts it as soon as it boots (bench/gunicorn.conf.py).
        """
        built = self._ranker_built()
        with _WARM_UP_LOCK:
            if not getattr(self, "_warm_up_started", False):
                self._warm_up_started = True
                threading.Thread(target=self._warm_up, name="ranker-warm-up",
                                 daemon=True).start()
        return built.wait(wait) if wait > 0 else built.is_set()

    def _warm_up(self) -> None:
        try:
            self.ready_ranker()
        except Exception:
            # The next use that needs the ranker builds it itself and reports the failure.
            with _WARM_UP_LOCK:
                self._warm_up_started = False

    def _ranker_built(self) -> threading.Event:
        with _WARM_UP_LOCK:
            if not hasattr(self, "_ranker_event"):
                self._ranker_event = threading.Event()
            return self._ranker_event


_WARM_UP_LOCK = threading.Lock()


def _return_free_heap() -> None:
    """Hand the heap that a first build used and freed back to the operating system.

    The build peaks about 100 MB above what the ranker keeps (documents, analyses and
    temporary arrays, at 100,000 ideas). glibc keeps freed memory for later allocations rather
    than returning it, so every worker stayed that much larger for its whole life; a worker
    never allocates that much again. A no-op where there is no ``malloc_trim`` (not glibc).
    """
    heap_trimmer.release_now()


class HeapTrimmer:
    """Hands the heap freed by searches and rankings back to the operating system, a moment
    after they ran, from a thread of its own.

    A ranking or a search allocates several megabytes of arrays and rows for a moment. glibc
    keeps what is freed for later allocations, and the free space of each thread's arena
    stays resident for good: under gunicorn, the first related ideas each of a worker's four
    threads served grew the worker by 15 MB. ``malloc_trim`` returns it (about 2 ms for a
    100,000-idea worker), off the request's path and at most once per ``delay`` seconds of
    activity; an idle process does nothing.
    """

    def __init__(self, trim: Callable[[int], object] | None, delay: float = 1.0):
        self._trim = trim
        self._delay = delay
        self._also: list[Callable[[], object]] = []
        self._pending = threading.Event()
        self._lock = threading.Lock()
        self._pid = 0  # the process whose thread runs: a forked worker starts its own

    def also(self, release: Callable[[], object]) -> None:
        """Run ``release`` (another way of giving memory back) with every trim."""
        self._also.append(release)

    def soon(self) -> None:
        """Trim within ``delay`` seconds (cheap: called after every search and ranking)."""
        if self._trim is None:
            return
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    threading.Thread(target=self._run, name="heap-trimmer", daemon=True).start()
                    self._pid = os.getpid()
        self._pending.set()

    def release_now(self) -> None:
        """Trim, and run the other releases, in the calling thread."""
        if self._trim is None:
            return
        self._trim(0)
        for release in self._also:
            release()

    def _run(self) -> None:
        while True:
            self._pending.wait()
            time.sleep(self._delay)  # the rest of a burst of requests, trimmed once
            self._pending.clear()
            self.release_now()


_M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h)
_MAPPED_FROM = 256 * 1024


def _map_large_allocations() -> None:
    """Have glibc give every allocation of 256 KB or more its own mapping, handed back to the
    operating system when freed.

    A ranking allocates arrays of one value per idea (800 KB of floats at 100,000 ideas), and
    a search its arrays of matches. glibc maps allocations that large at first, but raises its
    threshold each time such a mapping is freed (up to 32 MB): after a few queries they came
    from the heap, which the rankings of four threads left fragmented and kept. A worker ended
    the benchmark's pages, searches and similar-ideas requests at 231 MB; with the threshold
    fixed, at 197 MB. A no-op where there is no ``mallopt`` (not glibc).
    """
    mallopt = _glibc("mallopt")
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, _MAPPED_FROM)


def _glibc(name: str) -> Callable[..., int] | None:
    """A function of the C library this process runs on, or None where it has none such."""
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


heap_trimmer = HeapTrimmer(_glibc("malloc_trim"))
