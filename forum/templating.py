"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_timedelta,
    get_locale,
)

from forum.i18n import LANGUAGE_NAMES
from forum.ideas.workflow import voting_open
from forum.text import excerpt, render_markdown, slugify


def when(value: datetime | None) -> str:
    """Relative ("3 days ago"), in the reader's language."""
    if value is None:
        return ""
    return format_timedelta(value - datetime.now(UTC), add_direction=True, threshold=1.0)


def exact(value: datetime | None) -> str:
    return format_datetime(value, "medium") if value else ""


def atom_date(value: datetime | None) -> str:
    """RFC 3339, as Atom wants; an empty feed is as old as the epoch."""
    return (value or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC).isoformat()


def day(value: datetime | None) -> str:
    """A calendar date without the time, for things where the hour means nothing."""
    return format_date(value, "long") if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        markdown=render_markdown, excerpt=excerpt, when=when, exact=exact, day=day, slugify=slugify,
        atom_date=atom_date, decimal=format_decimal,
    )
    app.jinja_env.globals.update(language_names=LANGUAGE_NAMES, voting_open=voting_open)

    @app.context_processor
    def site():
        return {"site_name": current_app.config["SITE_NAME"], "locale": str(get_locale()),
                "unread_notifications": _unread}


def _unread() -> int:
    """The bell's figure; a function so that only pages that show the header pay the query."""
    from flask_login import current_user

    from forum.notifications.services import unread_count

    if current_user and current_user.is_authenticated:
        return unread_count(current_user)
    return 0
