"""Rendered pieces of pages shared between requests, keyed by everything they show.

A list page renders the same rows for everyone who looks at it; rendering a row (a vote form,
translated labels, links, dates) costs far more than finding it. ``{% call cached_fragment(key)
%}…{% endcall %}`` renders its body once per key and reuses it while the process lives. The key
must hold every value the body shows (see ``list_row_key``), so a cached row is never stale:
a changed vote count or title is a different key. The two per-request values a row contains, the
CSRF token and the ``next`` path of its vote form, are rendered as placeholders and filled in
for each request.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import request
from flask_babel import get_locale
from markupsafe import Markup, escape

# Control characters never survive forum.text.clean_input, nor escaping: no user text holds these.
CSRF_MARK = "\x00csrf_token\x00"
NEXT_MARK = "\x00next\x00"


class FragmentCache:
    """A bounded, thread-safe LRU map of key -> HTML (gthread workers share it)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
            return html

    def put(self, key: Hashable, html: str) -> None:
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


# About 2 KB a row or comment: a few megabytes per worker.
rows = FragmentCache(4096)


def digest(text: str) -> bytes:
    """Long texts enter keys as a digest: 4,096 keys holding 20 KB bodies would be 80 MB."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def rendering_fragment() -> bool:
    return getattr(request, "_forum_rendering_fragment", False)


def cached_fragment(key: Hashable, caller: Callable[[], str]) -> Markup:
    from forum.templating import vote_button_text

    html = rows.get(key)
    if html is None:
        request._forum_rendering_fragment = True
        try:
            html = str(caller())
        finally:
            request._forum_rendering_fragment = False
        rows.put(key, html)
    text = vote_button_text()
    return Markup(html.replace(CSRF_MARK, str(escape(text["csrf_token"])))
                  .replace(NEXT_MARK, str(escape(text["next"]))))


def list_row_key(idea, voted: bool, show_board: bool) -> tuple:
    """Everything a row of templates/ideas/list.html shows. Add to it when the row shows more."""
    from forum.templating import when

    status = idea.status
    return ("list-row", request.script_root, str(get_locale()), idea.id, idea.title,
            digest(idea.body),
            idea.vote_count, idea.comment_count, idea.created_at, when(idea.created_at),
            status.slug, status.name, status.kind, idea.board.name if show_board else None,
            voted)


def comment_key(comment) -> tuple:
    """Everything a comment of templates/ideas/show.html shows."""
    from forum.templating import when

    author = comment.author
    return ("comment", request.script_root, str(get_locale()), comment.id, digest(comment.body),
            comment.is_internal, comment.created_at, when(comment.created_at), author.id,
            author.name, author.is_staff)
