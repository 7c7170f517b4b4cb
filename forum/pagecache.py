"""Whole pages for signed-out visitors, kept until the database changes.

A launch brings many readers who are not signed in, and they all see the same board page: it
is rendered once and served again until anything is committed. Being exact matters more than
the time saved, so an entry is valid only for the state of the database it was rendered from:

- on SQLite, ``PRAGMA data_version`` on a connection of its own changes whenever any other
  connection, of this process or another, commits;
- on PostgreSQL there is no such counter: a commit in this process invalidates at once, and
  one in another process after at most ``PAGE_CACHE_SECONDS``.

The JSON API's idea list is kept the same way for callers without a token. Never cached:
signed-in people and token holders (their votes, the bell, staff tools, private boards), a
visitor with a message waiting (flash), anything but a 200 HTML or JSON answer. A page's CSRF
token (the language form) is the visitor's own: it is cut out of the stored page and put back
for each visitor.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from forum.extensions import db

_READS = ("SELECT", "BEGIN", "PRAGMA", "SAVEPO", "RELEAS")  # 6 letters of each
_TOKEN = "\x00csrf\x00"  # cannot occur in a page: NUL is refused in every input
_MAX_ENTRIES = 256
# Pages, and the JSON API's lists for callers without a token.
_STORED_TYPES = frozenset({"text/html", "application/json"})
_MAX_WATCHERS = 4

_lock = threading.Lock()
_pages: OrderedDict[tuple, tuple[float, bytes, str]] = OrderedDict()
_commits = 0  # commits seen in this process
_watchers: dict[str, tuple[sqlite3.Connection, int]] = {}
_watchers_opened = 0


def _note_write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if not statement.lstrip()[:6].upper().startswith(_READS):
        conn.info["forum_wrote"] = True


def _count_commit(conn: Connection) -> None:
    # Only commits that wrote: the test client, for one, commits empty transactions.
    global _commits
    if conn.info.pop("forum_wrote", False):
        with _lock:
            _commits += 1


def _forget_writes(conn: Connection) -> None:
    conn.info.pop("forum_wrote", None)


def install() -> None:
    # Once per process, whatever the number of apps (tests build many).
    if not event.contains(Engine, "commit", _count_commit):
        event.listen(Engine, "before_cursor_execute", _note_write)
        event.listen(Engine, "commit", _count_commit)
        event.listen(Engine, "rollback", _forget_writes)


def _database_version() -> tuple[int, int] | None:
    """SQLite's change counter for the app's database file, with the number of the watching
    connection it was read on (counters of two connections are not comparable); None on other
    databases."""
    global _watchers_opened
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = url.database
    with _lock:
        found = _watchers.get(path)
        if found is None:
            # A server has one database; a process that opens many (the test suite) keeps
            # only the latest few connections open.
            while len(_watchers) >= _MAX_WATCHERS:
                _watchers.pop(next(iter(_watchers)))[0].close()
            _watchers_opened += 1
            found = _watchers[path] = (sqlite3.connect(path, check_same_thread=False,
                                                       isolation_level=None), _watchers_opened)
        watcher, number = found
        return number, watcher.execute("PRAGMA data_version").fetchone()[0]


def incomplete() -> None:
    """This request's page lacks something that will be there soon (related ideas while a
    fresh process builds its ranker), or depends on more than the database (the search index,
    updated just after a commit, so a page rendered in between would be kept under the new
    state): serve it, but do not keep it."""
    g.page_incomplete = True


def clear() -> None:
    """Forget every stored page (for tests that change the configuration between requests)."""
    with _lock:
        _pages.clear()


def for_visitors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the view's page to signed-out visitors from the cache when nothing changed."""

    @wraps(view)
    def cached(*args: Any, **kwargs: Any) -> Any:
        if current_user.is_authenticated or session.get("_flashes") or request.method != "GET":
            return view(*args, **kwargs)
        version = _database_version()
        key = (id(current_app), str(db.engine.url), request.full_path, str(get_locale()),
               version, _commits)
        now = time.monotonic()
        with _lock:
            found = _pages.get(key)
            if found is not None:
                _pages.move_to_end(key)
        # Other processes' commits are seen by SQLite's counter; elsewhere an entry expires.
        if found is not None and (version is not None
                                  or now - found[0] < current_app.config["PAGE_CACHE_SECONDS"]):
            body = found[1]
            if _TOKEN.encode() in body:  # not in JSON: an API call gets no session from here
                body = body.replace(_TOKEN.encode(), generate_csrf().encode())
            return Response(body, mimetype=found[2])
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and response.mimetype in _STORED_TYPES \
                and not response.direct_passthrough and not g.get("page_incomplete"):
            token = session.get("csrf_token") and generate_csrf()
            body = response.get_data()
            if token:
                body = body.replace(token.encode(), _TOKEN.encode())
            with _lock:
                _pages[key] = (now, body, response.mimetype)
                while len(_pages) > _MAX_ENTRIES:
                    _pages.popitem(last=False)
        return response

    return cached
