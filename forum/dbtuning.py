"""SQLite behaviour for a web app with several workers.

- WAL lets readers work while one writer writes; ``synchronous=NORMAL`` is safe in WAL mode
  (a power cut may lose the last commits, never corrupt the file).
- A busy timeout makes a second writer wait instead of failing.
- Write requests begin ``IMMEDIATE`` transactions. A deferred transaction that read first and
  writes later cannot wait for the lock in WAL mode (its snapshot is stale) and fails at once
  with "database is locked"; taking the write lock up front makes it wait its turn instead.
  Reads (GET) stay deferred so they never queue behind writers.
- A write view marked ``reads_first`` (a vote) does its reads (the person, the idea and
  whether they may see it) in a deferred transaction and calls ``begin_writing`` before its
  first write: only its writes hold the lock, and under a burst of votes each vote kept the
  lock for its reads too, while every other voter waited. What it read before the lock may be
  a moment old; what the writes and who may see the idea depend on is read again under the
  lock (ideas.services._lock), and the views check again that the person may see it.
- On SQLite the ``reads_first`` views of one process take turns (``reads_first`` wraps them):
  with four threads a worker, a voter holding the write lock shared the interpreter with the
  other voters' reads and waited for the GIL at each of its statements. So "not for each
  other's reads" above holds across processes; within one, a voter waits for the one before.
- Writers queue on a file lock beside the database (``forum.db-writers``) before they ask SQLite
  for its write lock. SQLite's busy handler polls: a writer that finds the lock taken sleeps
  1, 2, 5, 10 … up to 100 ms and tries again, so under a burst of votes the lock sat free while
  every waiter slept, and an unlucky waiter was overtaken again and again (p99 over a second).
  A blocked ``flock`` is woken by the kernel the moment the holder lets go. Every writer of
  this app (web workers, CLI, deliverers) takes it; a program that does not still waits on
  SQLite's busy timeout as before.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
from collections.abc import Callable

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

try:
    import fcntl
except ImportError:  # not on Windows: writers then wait on SQLite's busy timeout alone
    fcntl = None  # type: ignore[assignment]

_installed = False
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_OPTION = "forum_read_only"
READS_FIRST = "forum_reads_first"
# session.info key: objects of this session were read before its write transaction began.
READ_BEFORE_WRITING = "forum_read_before_writing"
_WRITING = "forum.writing"  # in the request's environ: begin_writing was called


def may_write() -> bool:
    """Whether the work in hand may write: anything outside a request (commands, workers) and
    requests other than GET, HEAD and OPTIONS, except a ``reads_first`` view until it calls
    ``begin_writing``. Their transactions begin by queueing for the write lock (``BEGIN
    IMMEDIATE``)."""
    if not has_request_context():
        return True
    if request.method in READ_METHODS:
        return False
    if not getattr(current_app.view_functions.get(request.endpoint), READS_FIRST, False):
        return True
    return request.environ.get(_WRITING, False)


# One reads_first view (a vote) at a time in each process, on SQLite: votes queue for the
# database's one write lock anyway, and while one voter held it, the other voters' threads of
# its process ran their reads in the same interpreter and kept the holder waiting for the GIL
# at every statement. A voter now waits for the view of the one before it (its reads too),
# without holding the GIL; other processes' voters still read while this one writes. Taken
# around the view only: the request's body, the session and an API token are read before it,
# so a client sending its body slowly holds one thread, not every vote of the process. Other
# writes (a sign-in hashing a password) do not wait.
_one_voter = threading.Lock()


def _take_turns() -> bool:
    return current_app.extensions["sqlalchemy"].engine.dialect.name == "sqlite"


def reads_first(view: Callable) -> Callable:
    """A write view (register what this returns) whose transaction starts deferred: it must
    call ``begin_writing`` before it writes. On SQLite such views of one process take turns."""

    @functools.wraps(view)
    def in_turn(*args, **kwargs):
        if not _take_turns():
            return view(*args, **kwargs)
        with _one_voter:
            return view(*args, **kwargs)

    setattr(in_turn, READS_FIRST, True)
    return in_turn


def begin_writing() -> None:
    """End the reads of a ``reads_first`` view: its next statement begins a write transaction
    (on SQLite, by queueing for the write lock). What it loaded stays loaded, unexpired, and
    ``session.info[READ_BEFORE_WRITING]`` tells code that relies on reading under the lock
    (``ideas.services._lock``) to read again."""
    from forum.extensions import db

    request.environ[_WRITING] = True
    session = db.session()
    if session.in_transaction():
        session.info[READ_BEFORE_WRITING] = True
        if session.get_bind().dialect.name == "sqlite":
            # A deferred SQLite transaction that has read cannot take the write lock once
            # another writer has committed: end it. Nothing was written, so this only lets go
            # of the snapshot; keeping the objects loaded spares reading them again.
            expire, session.expire_on_commit = session.expire_on_commit, False
            try:
                session.commit()
            finally:
                session.expire_on_commit = expire


def read_only_engine(engine: Engine) -> Engine:
    """The same engine, for sessions that never write."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def install() -> None:
    global _installed
    if _installed:
        return
    event.listen(Engine, "connect", _on_connect)
    event.listen(Engine, "begin", _on_begin)
    _installed = True


class Connection(sqlite3.Connection):
    """A pysqlite connection whose write transactions queue on the database's writer lock.

    Passed as ``connect_args={"factory": Connection}`` (forum.config). The lock is taken just
    before ``BEGIN IMMEDIATE`` (see ``_on_begin``) and let go right after the transaction's
    COMMIT or ROLLBACK, whichever way it ends.
    """

    def __init__(self, database, *args, **kwargs) -> None:
        super().__init__(database, *args, **kwargs)
        self._writers_path = _writers_path(database, kwargs.get("uri", False))
        self._writers_fd: int | None = None
        self._holding = False

    def queue_for_writing(self) -> None:
        if self._writers_path is None or self._holding or fcntl is None:
            return
        held = _held_here()
        if self._writers_path in held:
            # This thread holds the lock through another connection (a second session opened
            # inside a write transaction): waiting on the lock would wait on itself. SQLite's
            # busy timeout decides, as it did before the queue existed.
            return
        if self._writers_fd is None:
            # Read-only is enough for flock, so a lock file created by another user (a CLI
            # run as root beside web workers run as www-data) still serves; a folder where it
            # cannot be created leaves this connection to SQLite's busy timeout, as before.
            try:
                self._writers_fd = os.open(self._writers_path, os.O_RDONLY | os.O_CREAT, 0o644)
            except OSError:
                self._writers_path = None
                return
        # Marked before locking and unmarked after unlocking: a KeyboardInterrupt (Ctrl+C, or
        # a second SIGTERM in `flask forum deliver`) landing in between then leaves at worst a mark
        # without the lock (unlocking again is harmless, and a marked thread falls back on
        # SQLite's busy timeout), never the lock without the mark, which nothing would free.
        self._holding = True
        held.add(self._writers_path)
        fcntl.flock(self._writers_fd, fcntl.LOCK_EX)

    def leave_queue(self) -> None:
        if self._holding:
            fcntl.flock(self._writers_fd, fcntl.LOCK_UN)
            _held_here().discard(self._writers_path)
            self._holding = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_queue()
            if self._writers_fd is not None:
                os.close(self._writers_fd)
                self._writers_fd = None


_local = threading.local()


def _held_here() -> set[str]:
    """The writer locks this thread holds."""
    held = getattr(_local, "held", None)
    if held is None:
        held = _local.held = set()
    return held


def _writers_path(database: object, uri: bool) -> str | None:
    """The lock file of a database file; None for an in-memory or URI-named database."""
    name = os.fspath(database) if isinstance(database, (str, os.PathLike)) else ""
    if uri or not name or name == ":memory:":
        return None
    return os.path.abspath(name) + "-writers"


def _on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling would
    # begin lazily and always deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _on_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    # Sessions that only read (``read_only_engine``) never queue behind a writer: in WAL mode
    # they see the last commit even while another connection holds the write lock.
    if connection.get_execution_options().get(READ_ONLY_OPTION) or not may_write():
        connection.exec_driver_sql("BEGIN")
        return
    dbapi_connection = connection.connection.dbapi_connection
    queued = isinstance(dbapi_connection, Connection)
    if queued:
        dbapi_connection.queue_for_writing()
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if queued:
            dbapi_connection.leave_queue()
        raise
