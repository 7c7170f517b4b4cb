"""Whole pages kept until the database changes: for signed-out visitors, and board pages for
members too.

A launch brings many readers, and they all see much the same board page: it is rendered once
and served again until anything is committed. Being exact matters more than the time saved, so
an entry is valid only for the state of the database it was rendered from:

- on SQLite, ``PRAGMA data_version`` on a connection of its own changes whenever any other
  connection, of this process or another, commits;
- on PostgreSQL there is no such counter: a commit in this process invalidates at once, and
  one in another process after at most ``PAGE_CACHE_SECONDS``.

The JSON API's idea list is kept the same way for callers without a token. A page's CSRF token
is the visitor's own: it is cut out of the stored page and put back for each visitor.

Board pages (``for_visitors(members=True)``) are kept for signed-in members as well, on
SQLite only: on PostgreSQL another worker's commit shows late, and a member's own vote or idea
may be one. Rendering a board page took 11.5 ms of CPU against well under one for a stored
page. Members who are not staff all see the same board page but for three things, which the
stored page holds as marks that
each member's request resolves: their own votes (one query for the ideas on the page), the
header with their name and their bell (:func:`account_links`, kept per member until the
database changes) and their token. A test compares every such page with the same member's page
rendered afresh.

Never stored: staff (their tools), token holders, a visitor with a message waiting (flash),
anything but a 200 HTML or JSON answer.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, make_response, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import Pool

from forum.extensions import db

_READS = ("SELECT", "BEGIN", "PRAGMA", "SAVEPO", "RELEAS")  # 6 letters of each
_TOKEN = "\x00csrf\x00"  # cannot occur in a page: NUL is refused in every input
_MAX_ENTRIES = 256
# Pages, and the JSON API's lists for callers without a token.
_STORED_TYPES = frozenset({"text/html", "application/json"})
_MAX_WATCHERS = 4
# Marks a member's page resolves; NUL cannot occur in anything a person wrote (refused in every
# input), so no text on the page can pass for one.
_ACCOUNT = b"\x00account\x00"
_VOTE_MARK = re.compile(rb"\x00v(\d+)\x01([^\x00\x01]*)\x01([^\x00\x01]*)\x00")
_VOTE_ID = re.compile(rb"\x00v(\d+)\x01")
_MAX_ACCOUNTS = 1024
_MAX_REMEMBERED = 4096
# Off in tests that compare a stored member's page with one rendered afresh.
MEMBERS = True

_lock = threading.Lock()
_pages: OrderedDict[tuple, tuple[float, bytes, str]] = OrderedDict()
_accounts: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
_remembered: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
_commits = 0  # commits seen in this process
_watchers: dict[str, tuple[sqlite3.Connection, int]] = {}
_watchers_opened = 0


def _note_write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if not statement.lstrip()[:6].upper().startswith(_READS):
        conn.info["forum_wrote"] = True


def _count_commit(conn: Connection) -> None:
    # Only commits that wrote: the test client, for one, commits empty transactions. This event
    # comes just before the database commits: counting here would let a page rendered from the
    # state before the commit be stored under the count after it. It is counted once the
    # commit is done: when the connection goes back to the pool or begins again.
    if conn.info.pop("forum_wrote", False):
        conn.info["forum_committing"] = True


def _committed(info: dict | None) -> None:
    global _commits
    if info is not None and info.pop("forum_committing", False):
        with _lock:
            _commits += 1


def _on_begin(conn: Connection) -> None:
    _committed(conn.info)


def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    _committed(getattr(record, "info", None))


def _forget_writes(conn: Connection) -> None:
    conn.info.pop("forum_wrote", None)


def _session_reads(session: OrmSession, _transaction: Any, _connection: Any) -> None:
    # The session's transaction has a connection: what it reads from now on is its snapshot,
    # which may be older than the database's state read later (see until_changed).
    session.info["forum_reading"] = True


def _session_ends(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop("forum_reading", None)


def install() -> None:
    # Once per process, whatever the number of apps (tests build many).
    if not event.contains(Engine, "commit", _count_commit):
        event.listen(Engine, "before_cursor_execute", _note_write)
        event.listen(Engine, "commit", _count_commit)
        event.listen(Engine, "rollback", _forget_writes)
        event.listen(Engine, "begin", _on_begin)
        event.listen(Pool, "checkin", _on_checkin)
        event.listen(OrmSession, "after_begin", _session_reads)
        event.listen(OrmSession, "after_transaction_end", _session_ends)


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


def until_changed(kind: str, key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, remembered in this process until the database changes: on SQLite, whose
    change counter makes that exact; on other databases computed every time. For small values
    read on most requests of a member (the person, their votes on a stored page); the value
    must be immutable, as every request gets the same one.

    A value is kept only when it is computed in a transaction that begins after the state is
    read: one begun earlier reads a snapshot that may predate it, and a value older than its
    state would be served until the next commit."""
    version = _database_version()
    if version is None:
        return compute()
    state = (version, _commits)
    full_key = (kind, id(current_app), str(db.engine.url), key)
    with _lock:
        found = _remembered.get(full_key)
        if found is not None:
            _remembered.move_to_end(full_key)
    if found is not None and found[0] == state:
        return found[1]
    reading = db.session.info.get("forum_reading")
    value = compute()
    if reading:
        return value
    with _lock:
        _remembered[full_key] = (state, value)
        _remembered.move_to_end(full_key)
        while len(_remembered) > _MAX_REMEMBERED:
            _remembered.popitem(last=False)
    return value


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
        _accounts.clear()
        _remembered.clear()


def marking() -> bool:
    """Whether the page being rendered is to be stored for every member (with marks)."""
    return bool(g.get("page_marks"))


def vote_pick(idea_id: int, voted: bool) -> Callable[[str, str], Any]:
    """For a vote button: ``pick(a, b)`` is ``a`` if the viewer voted, else ``b``. On a page
    being stored for every member it is a mark holding both, resolved per member."""
    if marking():
        return lambda a, b: Markup("\x00v%d\x01%s\x01%s\x00") % (idea_id, a, b)
    return lambda a, b: a if voted else b


def account_links() -> Markup:
    """The signed-in part of the header (templates/_partials/account.html)."""
    if marking():
        return Markup(_ACCOUNT.decode())
    return Markup(_render_account(current_user))


def _render_account(user: Any) -> str:
    from forum.notifications.services import unread_count

    macro = current_app.jinja_env.get_template("_partials/account.html").module.account_links
    return str(macro(user, unread_count(user)))


def _account(user: Any, version: tuple[int, int] | None, commits: int, now: float) -> bytes:
    """The member's header, rendered once per state of the database (the bell's count is a
    query of its own)."""
    key = (id(current_app), str(db.engine.url), user.get_id(), str(get_locale()), version,
           commits)
    with _lock:
        found = _accounts.get(key)
    if found is not None and (version is not None
                              or now - found[0] < current_app.config["PAGE_CACHE_SECONDS"]):
        return found[1]
    body = _render_account(user).encode()
    token = session.get("csrf_token") and generate_csrf()
    if token:
        body = body.replace(token.encode(), _TOKEN.encode())
    with _lock:
        _accounts[key] = (now, body)
        while len(_accounts) > _MAX_ACCOUNTS:
            _accounts.popitem(last=False)
    return body


def _personal(body: bytes, version: tuple[int, int] | None, commits: int, now: float) -> bytes:
    """A stored member's page made this member's: their votes, their header."""
    from forum.ideas.services import voted_ids

    ids = frozenset(int(found) for found in _VOTE_ID.findall(body))
    # The same member reloading a board, or paging back, while nothing changed: the votes
    # are the ones read last time.
    user = current_user._get_current_object()
    voted = until_changed("votes", (user.id, ids), lambda: frozenset(voted_ids(user, ids)))
    body = _VOTE_MARK.sub(lambda m: m[2] if int(m[1]) in voted else m[3], body)
    if _ACCOUNT in body:
        body = body.replace(_ACCOUNT, _account(current_user, version, commits, now))
    return body


def _served(body: bytes, member: bool, version: tuple[int, int] | None, commits: int,
            now: float) -> bytes:
    """A stored page (or one just rendered to be stored) as this request gets it."""
    if member:
        body = _personal(body, version, commits, now)
    if _TOKEN.encode() in body:  # not in JSON: an API call gets no session from here
        body = body.replace(_TOKEN.encode(), generate_csrf().encode())
    return body


def for_visitors(view: Callable[..., Any] | None = None, *,
                 members: bool = False) -> Callable[..., Any]:
    """Serve the view's page to signed-out visitors from the cache when nothing changed; with
    ``members``, to signed-in members who are not staff as well (see the module's text: the
    view's template must show nothing of the member but the marked parts)."""
    if view is None:
        return lambda view: for_visitors(view, members=members)

    @wraps(view)
    def cached(*args: Any, **kwargs: Any) -> Any:
        if session.get("_flashes") or request.method != "GET":
            return view(*args, **kwargs)
        # The state of the database first, before anything reads it (loading a member does):
        # a page rendered from a later state than its key says is harmless, one rendered from
        # an earlier state would be served until the next commit.
        version = _database_version()
        commits = _commits
        member = current_user.is_authenticated
        # Members only where every commit, from any process, changes the key (SQLite): on
        # PostgreSQL a member's own vote or idea, made through another worker, could be missing
        # from their next page for PAGE_CACHE_SECONDS.
        if member and not (members and MEMBERS and version is not None
                           and not current_user.is_staff):
            return view(*args, **kwargs)
        key = (id(current_app), str(db.engine.url), request.full_path, str(get_locale()),
               str(get_timezone()), member, version, commits)
        now = time.monotonic()
        with _lock:
            found = _pages.get(key)
            if found is not None:
                _pages.move_to_end(key)
        # Other processes' commits are seen by SQLite's counter; elsewhere an entry expires.
        if found is not None and (version is not None
                                  or now - found[0] < current_app.config["PAGE_CACHE_SECONDS"]):
            body, mimetype = found[1], found[2]
        else:
            g.page_marks = member
            try:
                response = make_response(view(*args, **kwargs))
            finally:
                g.page_marks = False
            storable = response.status_code == 200 and response.mimetype in _STORED_TYPES \
                and not response.direct_passthrough and not g.get("page_incomplete")
            if not member and not storable:
                return response
            token = session.get("csrf_token") and generate_csrf()
            body, mimetype = response.get_data(), response.mimetype
            if token:
                body = body.replace(token.encode(), _TOKEN.encode())
            if not storable:
                # A member's page that is not stored (none of the board pages' answers, today):
                # resolved like the others, keeping its own status and headers.
                response.set_data(_served(body, member, version, commits, now))
                return response
            with _lock:
                _pages[key] = (now, body, mimetype)
                while len(_pages) > _MAX_ENTRIES:
                    _pages.popitem(last=False)
        return Response(_served(body, member, version, commits, now), mimetype=mimetype)

    return cached
