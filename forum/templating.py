"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from flask import Flask, current_app, request, url_for
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_timedelta,
    get_locale,
    gettext,
)
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from forum import pagecache
from forum.i18n import LANGUAGE_NAMES, reader_keys, translated
from forum.ideas.workflow import voting_open
from forum.text import excerpt, render_markdown, slugify


def when(value: datetime | None) -> str:
    """Relative ("3 days ago"), in the reader's language."""
    if value is None:
        return ""
    delta = value - datetime.now(UTC)
    # Babel itself works on whole seconds, so this key loses nothing; a busy list page asks
    # for the same few dozen (value, second) pairs many times over.
    return _when(delta.days * 86400 + delta.seconds, reader_keys()[0])


@lru_cache(maxsize=8192)
def _when(seconds: int, _locale: str) -> str:
    return format_timedelta(timedelta(seconds=seconds), add_direction=True, threshold=1.0)


def exact(value: datetime | None) -> str:
    return _exact(value, *reader_keys()) if value else ""


@lru_cache(maxsize=8192)
def _exact(value: datetime, _locale: str, _timezone: str) -> str:
    # Babel formatting costs tens of microseconds and a list shows the same few hundred
    # timestamps to everyone; the reader's locale and time zone are part of the key.
    return format_datetime(value, "medium")


def idea_url(endpoint: str, idea_id: int, slug: str | None = None) -> str:
    """``url_for`` for the per-idea links of a list (four per row): the rules never change
    while the process runs, so each path is built once."""
    return _idea_url(request.script_root, endpoint, idea_id, slug)


@lru_cache(maxsize=16384)
def _idea_url(_script_root: str, endpoint: str, idea_id: int, slug: str | None) -> str:
    return url_for(endpoint, idea_id=idea_id, slug=slug)


def vote_button_text() -> dict:
    """What every vote button of a page shares, translated and built once per request."""
    # On the request, not on g: an app context can outlive one request (tests, CLI). Keyed by
    # the locale so a page rendered under force_locale (emails) gets its own labels.
    locale = get_locale()
    cached = getattr(request, "_forum_vote_button_text", None)
    if cached is None or cached[0] is not locale:
        cached = request._forum_vote_button_text = (locale, {
            "voted": gettext("Your vote is counted."),
            "unvoted": gettext("Your vote is withdrawn."),
            "failed": gettext("Your vote could not be saved. Please try again."),
            "closed": gettext("Voting is closed"),
            "votes": gettext("votes"),
            # Formatted with each title by the template; Markup escapes the title.
            "vote_for": Markup(gettext("Vote for “%(title)s”")),
            "signin_url": url_for("accounts.sign_in", next=request.full_path),
            "csrf_token": generate_csrf(),
            "next": request.full_path,
        })
    return cached[1]


def atom_date(value: datetime | None) -> str:
    """RFC 3339, as Atom wants; an empty feed is as old as the epoch."""
    return (value or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC).isoformat()


def day(value: datetime | None) -> str:
    """A calendar date without the time, for things where the hour means nothing."""
    return format_date(value, "long") if value else ""


# Two pieces every list row shows, written in Python rather than as Jinja macros: a macro call
# builds a new template context each time, and a row of twenty calls to these two was a sixth
# of a search page's rendering. ``_partials/macros.html`` exports them under their old names.
# (``escape`` and an f-string: ``Markup.format`` took half the time of each.)


def status_badge(status) -> Markup:
    """The status as a coloured badge, its name in the reader's language."""
    return Markup(f'<span class="badge status-{escape(status.kind.value)}" '
                  f'data-status="{escape(status.slug)}">{escape(translated(status.name))}</span>')


def time_tag(value: datetime | None) -> Markup:
    """A moment as "3 days ago", with the exact time on hover and for machines."""
    if value is None:
        return Markup("")
    return Markup(f'<time datetime="{escape(value.isoformat())}" title="{escape(exact(value))}">'
                  f"{escape(when(value))}</time>")


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        markdown=render_markdown, excerpt=excerpt, when=when, exact=exact, day=day, slugify=slugify,
        atom_date=atom_date, decimal=format_decimal,
    )
    app.jinja_env.globals.update(language_names=LANGUAGE_NAMES, voting_open=voting_open,
                                 idea_url=idea_url, vote_button_text=vote_button_text,
                                 status_badge_tag=status_badge, time_tag=time_tag,
                                 vote_pick=pagecache.vote_pick,
                                 account_links=pagecache.account_links)

    @app.context_processor
    def site():
        return {"site_name": current_app.config["SITE_NAME"], "locale": str(get_locale())}
