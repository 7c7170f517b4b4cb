"""Online backup and restore of the SQLite database, safe while the site is serving.

SQLite's backup API copies a consistent snapshot (one read transaction in WAL mode), so
writers carry on during a backup. The copy is written beside the target and renamed into
place: a backup file is either complete or absent. PostgreSQL sites use ``pg_dump``.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import Engine

PG_GUIDANCE = (
    "This site runs on PostgreSQL: back it up with pg_dump, e.g.\n"
    "  pg_dump --format=custom --file=forum.dump \"$FORUM_DATABASE_URL\"\n"
    "and restore into an empty database with\n"
    "  pg_restore --clean --if-exists --no-owner --dbname=\"$FORUM_DATABASE_URL\" forum.dump\n"
    "(use the URL without the '+psycopg' driver suffix)."
)


class BackupError(Exception):
    pass


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def backup(engine: Engine, target: Path) -> None:
    """Copy the live database to ``target`` (replaced whole, never left half-written)."""
    target = target.resolve()
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    raw = engine.raw_connection()
    try:
        copy = sqlite3.connect(partial)
        try:
            raw.driver_connection.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
        _verify(partial)
        os.replace(partial, target)
    finally:
        raw.close()
        partial.unlink(missing_ok=True)


def restore(engine: Engine, source: Path) -> None:
    """Replace the live database's content with the backup at ``source``, in one step that
    other connections (the running site) see as a single change."""
    _verify(source)
    copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    raw = engine.raw_connection()
    try:
        copy.backup(raw.driver_connection)
    finally:
        raw.close()
        copy.close()


def _verify(path: Path) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (result,) = connection.execute("PRAGMA integrity_check").fetchone()
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not an SQLite database: {error}") from None
    finally:
        connection.close()
    if result != "ok":
        raise BackupError(f"{path} is damaged: {result}")
    if not {"alembic_version", "ideas", "users"} <= tables:
        raise BackupError(f"{path} is not a forum database.")
