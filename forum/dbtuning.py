"""SQLite behaviour for a web app with several workers.

- WAL lets readers work while one writer writes; ``synchronous=NORMAL`` is safe in WAL mode
  (a power cut may lose the last commits, never corrupt the file).
- A busy timeout makes a second writer wait instead of failing.
- Write requests begin ``IMMEDIATE`` transactions. A deferred transaction that read first and
  writes later cannot wait for the lock in WAL mode (its snapshot is stale) and fails at once
  with "database is locked"; taking the write lock up front makes it wait its turn instead.
  Reads (GET) stay deferred so they never queue behind writers.
"""

from __future__ import annotations

import sqlite3

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

_installed = False
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_OPTION = "forum_read_only"


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
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        write = False
    else:
        write = not has_request_context() or request.method not in READ_METHODS
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
