"""Every email the product sends, to a French and to an Italian reader, through the real outbox
and deliverer (the in-memory sender): subject, plain text and HTML without one English
sentence, and dates written in the reader's language and the site's time zone.

Each kind of email in forum.notifications.emails needs a case here; a new kind fails
``test_every_email_has_a_case`` until someone writes one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from babel.dates import format_datetime

from forum.accounts import services as accounts
from forum.accounts.models import NotifyFrequency, Role
from forum.extensions import db
from forum.ideas import merging, services
from forum.ideas.models import SubscriptionLevel
from forum.notifications import emails, senders
from forum.notifications import services as notifications
from forum.notifications.models import Notification, OutboxMessage
from tests.conftest import deliver, html_of, text_of
from tests.english import english_in, english_on_page

READERS = {"fr": "amelie@example.com", "it": "giulia@example.com"}
ZONE = "Europe/Rome"
# 13:30 UTC is 14:30 in Rome in March.
WHEN = datetime(2026, 3, 5, 13, 30, tzinfo=UTC)
# What people wrote: the same French text reaches both readers and is not the product's.
WRITTEN = frozenset({"Mode sombre", "Trop lumineux le soir.", "Thème nuit", "Comme le soir.",
                     "Oui, vraiment !", "Prévu pour mars.", "Disponible en version 2.4."})


@pytest.fixture
def app_config(app_config, request):
    return {**app_config, "MAIL_URL": "memory://" + re.sub(r"\W", "-", request.node.name),
            "TIME_ZONE": ZONE}


@pytest.fixture
def inbox(app):
    name = urlsplit(app.config["MAIL_URL"]).netloc
    senders.MEMORY[name] = []
    yield senders.MEMORY[name]
    senders.MEMORY.pop(name, None)


class Cast:
    def __init__(self, make_user):
        self.pam = make_user("Pam", email="pam@example.com", role=Role.STAFF)
        self.bob = make_user("Bob", email="bob@example.com")
        self.readers = {}
        for locale, address in READERS.items():
            reader = make_user(address.split("@")[0].title(), email=address)
            reader.locale = locale
            self.readers[locale] = reader
        db.session.commit()


def _idea(cast: Cast, make_idea, *, voters: bool = True):
    idea = make_idea("Mode sombre", "Trop lumineux le soir.", author=cast.bob)
    if voters:
        for reader in cast.readers.values():
            services.cast_vote(idea, reader)
    return idea


def status_changed(cast, make_idea):
    idea = _idea(cast, make_idea)
    services.change_status(idea, services.find_status("planned"), cast.pam,
                           note="Prévu pour mars.")


def shipped(cast, make_idea):
    idea = _idea(cast, make_idea)
    services.change_status(idea, services.find_status("shipped"), cast.pam,
                           note="Prévu pour mars.", release_notes="Disponible en version 2.4.")


def comment(cast, make_idea):
    idea = _idea(cast, make_idea, voters=False)
    for reader in cast.readers.values():
        services.set_subscription(idea, reader, SubscriptionLevel.ALL)
    services.post_comment(idea, cast.bob, "Oui, vraiment !")


def merged(cast, make_idea):
    idea = _idea(cast, make_idea, voters=False)
    duplicate = make_idea("Thème nuit", "Comme le soir.", author=cast.bob)
    for reader in cast.readers.values():
        services.cast_vote(duplicate, reader)
    merging.merge_ideas(duplicate, idea, cast.pam)


def password_reset(cast, make_idea):
    for address in READERS.values():
        accounts.request_password_reset(address)


def confirm_email(cast, make_idea):
    for reader in cast.readers.values():
        reader.email_confirmed_at = None
        accounts.request_confirmation(reader)


def digest(cast, make_idea):
    for reader in cast.readers.values():
        reader.notify_frequency = NotifyFrequency.DAILY
    idea = _idea(cast, make_idea)
    services.post_comment(idea, cast.bob, "Oui, vraiment !")
    services.change_status(idea, services.find_status("planned"), cast.pam,
                           note="Prévu pour mars.")
    db.session.flush()
    db.session.execute(db.update(Notification).values(created_at=WHEN))
    notifications.queue_due_digests(datetime(2026, 3, 6, 12, tzinfo=UTC))


def send_test_message(cast, make_idea):
    """Sent from the send log to an address that may have no account: in the language of
    the team member who sends it."""
    from flask_babel import force_locale

    for locale, address in READERS.items():
        with force_locale(locale):
            notifications.send_test(address, cast.pam)
    db.session.execute(db.update(OutboxMessage).values(created_at=WHEN))


CASES: dict[str, Callable] = {
    "status_changed": status_changed, "shipped": shipped, "comment": comment,
    "merged": merged, "password_reset": password_reset, "confirm_email": confirm_email,
    "digest": digest, "test": send_test_message,
}
# Emails that show a date, and the date they show.
DATED = {"digest", "test"}


def test_every_email_has_a_case():
    assert set(CASES) == set(emails.CONTEXTS), "write a case for each kind of email"


def _english_in_text(text: str, locale: str) -> list[str]:
    found = []
    for line in text.splitlines():
        word = english_in(line, locale, WRITTEN)
        if word:
            found.append(f"{word!r} in {line!r}")
    return found


@pytest.mark.parametrize("kind", sorted(CASES))
def test_every_email_in_french_and_italian(app, make_user, make_idea, inbox, kind):
    cast = Cast(make_user)
    with app.test_request_context():
        CASES[kind](cast, make_idea)
        db.session.commit()
    report = deliver(app)
    assert report.failed == 0, report.errors
    for locale, address in READERS.items():
        mails = [m for m in inbox if m["To"] == address]
        assert len(mails) == 1, f"{kind}: {len(mails)} emails to the {locale} reader"
        mail = mails[0]
        subject, text, html = str(mail["Subject"]), text_of(mail), html_of(mail)
        problems = [f"subject: {english_in(subject, locale, WRITTEN)!r} in {subject!r}"
                    ] if english_in(subject, locale, WRITTEN) else []
        problems += [f"text: {p}" for p in _english_in_text(text, locale)]
        problems += [f"html: {word!r} in {chunk!r}"
                     for word, chunk in english_on_page(html, locale, WRITTEN)]
        assert not problems, f"{kind} [{locale}]:\n" + "\n".join(problems)
        assert f'<html lang="{locale}"' in html
        if kind in DATED:
            written = format_datetime(WHEN, "medium", tzinfo=_zone(), locale=locale)
            assert written in text and written in html, f"{kind} [{locale}]: {written!r}"
            assert "14:30" in written


def _zone():
    from pytz import timezone

    return timezone(ZONE)


def test_dates_differ_by_language(app):
    """The check above would pass with English dates if both languages wrote them alike."""
    french = format_datetime(WHEN, "medium", tzinfo=_zone(), locale="fr")
    italian = format_datetime(WHEN, "medium", tzinfo=_zone(), locale="it")
    english = format_datetime(WHEN, "medium", tzinfo=_zone(), locale="en")
    assert len({french, italian, english}) == 3
    assert re.search(r"\bmars\b", french) and re.search(r"\bmar\b", italian)
