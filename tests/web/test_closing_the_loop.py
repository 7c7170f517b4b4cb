"""Satisfaction answers, digests, in-app notifications, preferences, merges, accounts mail,
the changelog feed and the deliver command. Mail goes to the in-memory sender here; the SMTP
path is covered in test_mail_delivery.py."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default
from urllib.parse import urlsplit

import pytest

from forum import signals, tokens
from forum.accounts.models import NotifyFrequency, User
from forum.changelog.models import SatisfactionAnswer
from forum.db import utcnow
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Idea, SubscriptionLevel
from forum.notifications import senders
from forum.notifications import services as notifications
from forum.notifications.models import MailState, Notification, OutboxMessage
from tests.conftest import deliver, html_of, text_of


@pytest.fixture
def app_config(app_config, request):
    return {**app_config, "MAIL_URL": f"memory://{request.node.name}"}


@pytest.fixture
def inbox(app):
    name = urlsplit(app.config["MAIL_URL"]).netloc
    senders.MEMORY[name] = []
    yield senders.MEMORY[name]
    senders.MEMORY.pop(name, None)


def path_of(url: str) -> str:
    return urlsplit(url).path


def mails_to(inbox, address):
    return [m for m in inbox if m["To"] == address]


def shipped_idea(personas, make_idea, voters=()):
    idea = make_idea("Export to CSV", author=personas["bob"])
    for voter in voters:
        services.cast_vote(idea, voter)
    services.change_status(idea, services.find_status("shipped"), personas["pam"],
                           release_notes="CSV export is in the Reports menu.")
    db.session.commit()
    return idea


# --- satisfaction -------------------------------------------------------------------------


def answer_links(mail) -> dict[str, str]:
    return {m.group(2): m.group(0) for m in re.finditer(
        r"http://[^\s]+/satisfaction/([^/\s]+)/(yes|partly|no)", text_of(mail))}


def test_satisfaction_is_recorded_once_per_person(app, client, personas, make_idea, inbox):
    idea = shipped_idea(personas, make_idea, voters=[personas["anna"]])
    deliver(app)
    links = answer_links(mails_to(inbox, "anna@example.com")[0])

    first = client.get(path_of(links["partly"]))  # no sign-in needed
    assert first.status_code == 200 and "your answer “Partly” is recorded" in first.text
    # Clicking again, or another answer, does not overwrite it by itself (link scanners).
    again = client.get(path_of(links["no"]))
    assert "was already recorded" in again.text and 'data-answer="partly"' in again.text
    assert db.session.scalar(db.select(db.func.count(SatisfactionAnswer.id))) == 1
    # The person may change it explicitly.
    client.post(path_of(links["no"]))
    answers = db.session.scalars(db.select(SatisfactionAnswer)).all()
    assert [(a.user_id, a.answer.value) for a in answers] == [(personas["anna"].id, "no")]

    # Bob answers too: the idea page and the changelog show the summary.
    links = answer_links(mails_to(inbox, "bob@example.com")[0])
    client.get(path_of(links["yes"]))
    for page in (client.get(f"/ideas/{idea.id}").text, client.get("/changelog").text):
        assert "Yes: 1" in page and "Partly: 0" in page and "No: 1" in page
        assert "2 answers" in page


def test_forged_and_other_purpose_tokens_are_refused(app, client, personas, make_idea, inbox):
    idea = shipped_idea(personas, make_idea, voters=[personas["anna"]])
    deliver(app)
    link = answer_links(mails_to(inbox, "anna@example.com")[0])["yes"]
    token = path_of(link).split("/")[2]
    _payload, _, signature = token.partition(".")
    # Fred swaps in his own id: the signature no longer matches.
    import base64
    import json
    forged_payload = base64.urlsafe_b64encode(json.dumps(
        {"u": personas["fred"].id, "i": idea.id}).encode()).decode().rstrip("=")
    forged = f"{forged_payload}.{signature}"
    assert client.get(f"/satisfaction/{forged}/no").status_code == 400
    # An unsubscribe token (same signing key, other purpose) is not a satisfaction token.
    other = tokens.make("unsubscribe", {"u": personas["fred"].id, "i": idea.id})
    assert client.get(f"/satisfaction/{other}/no").status_code == 400
    assert client.get(f"/satisfaction/{token}/maybe").status_code == 422
    assert db.session.scalar(db.select(db.func.count(SatisfactionAnswer.id))) == 0


# --- digests ------------------------------------------------------------------------------


def test_daily_readers_get_one_digest_with_the_days_updates(app, personas, make_user,
                                                            make_idea, inbox):
    fay = make_user("Fay")
    fay.notify_frequency = NotifyFrequency.DAILY
    first = make_idea("Calendar sync", author=personas["bob"])
    second = make_idea("Offline mode", author=personas["bob"])
    services.cast_vote(first, fay)
    services.post_comment(second, fay, "Following this closely.")
    db.session.commit()
    services.change_status(first, services.find_status("planned"), personas["pam"],
                           note="Next quarter.")
    services.post_comment(second, personas["anna"], "Trains have no signal!")
    db.session.commit()
    deliver(app)
    assert mails_to(inbox, fay.email) == []  # nothing immediately

    now = utcnow()
    # Before the next digest time nothing goes; after it, exactly one digest.
    assert notifications.queue_due_digests(now) == 0
    tomorrow = notifications.digest_cutoff(now) + timedelta(days=1, minutes=1)
    assert notifications.queue_due_digests(tomorrow) == 1
    assert notifications.queue_due_digests(tomorrow) == 0
    db.session.commit()
    deliver(app)
    digest = mails_to(inbox, fay.email)
    assert len(digest) == 1
    text = text_of(digest[0])
    assert "Your daily digest: 2 updates" in digest[0]["Subject"]
    assert "Calendar sync" in text and "Now Planned. Next quarter." in text
    assert "Offline mode" in text and "Anna commented: Trains have no signal" in text
    assert " · Anna commented: Trains have no signal</li>" in html_of(digest[0])
    assert digest[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_digest_hour_is_respected(app):
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=utcnow().tzinfo)
    assert notifications.digest_cutoff(noon).hour == app.config["DIGEST_HOUR"]
    assert notifications.digest_cutoff(noon).day == 23
    early = noon.replace(hour=3)
    assert notifications.digest_cutoff(early).day == 22


# --- in-app notifications and preferences -------------------------------------------------


def test_the_bell_counts_unread_notifications(app, client, auth, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    services.cast_vote(idea, personas["anna"])
    services.change_status(idea, services.find_status("planned"), personas["pam"])
    db.session.commit()
    auth.login()
    page = client.get("/").text
    assert 'data-unread="1"' in page and "Notifications: 1 unread" in page
    listing = client.get("/notifications").text
    assert "“Dark mode for the dashboard” is now Planned." in listing
    notice = db.session.scalar(db.select(Notification).where(
        Notification.user_id == personas["anna"].id))
    opened = client.get(f"/notifications/{notice.id}")
    assert opened.headers["Location"].endswith(f"/ideas/{idea.id}")
    assert 'data-unread="0"' in client.get("/").text
    # Nobody opens someone else's notifications.
    auth.logout()
    auth.login("fred@example.com")
    assert client.get(f"/notifications/{notice.id}").status_code == 404


def test_mark_all_read(client, auth, personas, make_idea):
    idea = make_idea(author=personas["anna"])
    services.post_comment(idea, personas["bob"], "Hi")
    services.post_comment(idea, personas["bob"], "Again")
    db.session.commit()
    auth.login()
    assert 'data-unread="2"' in client.get("/").text
    client.post("/notifications/read")
    assert 'data-unread="0"' in client.get("/").text


def test_preferences_page(client, auth, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    other = make_idea("Not mine", author=personas["bob"])
    services.cast_vote(idea, personas["anna"])
    db.session.commit()
    auth.login()
    page = client.get("/settings/notifications").text
    assert idea.title in page and "Not mine" not in page
    client.post("/settings/notifications", data={
        "frequency": "daily", f"level-{idea.id}": "all", f"level-{other.id}": "all"})
    anna = db.session.get(User, personas["anna"].id)
    db.session.refresh(anna)
    assert anna.notify_frequency == NotifyFrequency.DAILY
    assert services.subscription_level(idea, anna) == SubscriptionLevel.ALL
    # A forged field for an idea they do not follow subscribes nobody.
    assert services.subscription_level(other, anna) is None
    bad = client.post("/settings/notifications", data={"frequency": "hourly"})
    assert bad.status_code == 422


# --- merges -------------------------------------------------------------------------------


def test_voters_of_a_merged_idea_hear_once_where_their_vote_counts(
        app, personas, make_user, make_idea, inbox):
    canonical = make_idea("Dark mode", author=personas["anna"])
    duplicate = make_idea("Night theme", author=personas["bob"])
    carl = make_user("Carl")
    services.cast_vote(duplicate, carl)
    db.session.commit()
    db.session.get(Idea, duplicate.id).merged_into_id = canonical.id
    # What the merge service sends once it has linked the ideas.
    signals.ideas_merged.send(canonical, merged=duplicate, by=personas["pam"])
    db.session.commit()
    deliver(app)
    assert sorted(m["To"] for m in inbox) == sorted([personas["bob"].email, carl.email])
    mail = mails_to(inbox, carl.email)[0]
    assert mail["Subject"] == "Your idea was merged into “Dark mode”"
    assert "Your vote counts there" in text_of(mail)
    assert f"/ideas/{canonical.id}" in text_of(mail)
    notice = db.session.scalar(db.select(Notification).where(Notification.user_id == carl.id))
    assert notice.idea_id == canonical.id and notice.merged_idea_id == duplicate.id


# --- accounts mail ------------------------------------------------------------------------


def test_password_reset_same_answer_single_use(app, client, personas, inbox):
    known = client.post("/password/forgot", data={"email": "anna@example.com"},
                        follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.com"},
                          follow_redirects=True)
    message = "If an account uses that address"
    assert message in known.text and message in unknown.text
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 1
    # Asking again at once does not flood the inbox.
    client.post("/password/forgot", data={"email": "anna@example.com"})
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 1
    deliver(app)
    mail = mails_to(inbox, "anna@example.com")[0]
    assert mail["List-Unsubscribe"] is None
    link = re.search(r"http://\S+/password/reset/\S+", text_of(mail)).group(0)

    response = client.post(path_of(link), data={"password": "a brand new secret"},
                           follow_redirects=True)
    assert "Your new password is set" in response.text
    client.post("/signout")
    assert client.post("/signin", data={"email": "anna@example.com",
                                        "password": "a brand new secret"}).status_code == 302
    # The link worked once.
    client.post("/signout")
    again = client.post(path_of(link), data={"password": "another secret!"})
    assert again.status_code == 400 and "already used" in again.text


def test_an_expired_reset_link_is_refused(app, client, personas, monkeypatch):
    from forum.accounts import services as accounts

    token = accounts.reset_token(personas["anna"])
    import itsdangerous.timed

    later = itsdangerous.timed.time.time() + accounts.RESET_MAX_AGE + 5
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 400 and "expired" in response.text


def test_sign_up_sends_a_confirmation_and_notifications_wait_for_it(
        app, client, personas, make_idea, inbox):
    client.post("/signup", data={"name": "Nora", "email": "nora@example.com",
                                 "password": "nora's password"})
    nora = db.session.scalar(db.select(User).where(User.email == "nora@example.com"))
    assert nora.email_confirmed_at is None
    idea = make_idea(author=personas["bob"])
    services.cast_vote(idea, nora)
    db.session.commit()
    services.change_status(idea, services.find_status("planned"), personas["pam"])
    db.session.commit()
    deliver(app)
    nora_mail = mails_to(inbox, "nora@example.com")
    assert [m["Subject"] for m in nora_mail] == ["Confirm your address for Feedback"]
    link = re.search(r"http://\S+/confirm/\S+", text_of(nora_mail[0])).group(0)
    client.get(path_of(link))
    db.session.expire_all()
    assert db.session.get(User, nora.id).email_confirmed_at is not None
    services.change_status(idea, services.find_status("in_progress"), personas["pam"])
    db.session.commit()
    deliver(app)
    assert len(mails_to(inbox, "nora@example.com")) == 2


def test_email_is_in_the_recipients_language(app, personas, make_idea, inbox):
    anna = db.session.get(User, personas["anna"].id)
    anna.locale = "fr"
    idea = make_idea(author=personas["bob"])
    services.cast_vote(idea, anna)
    services.change_status(idea, services.find_status("planned"), personas["pam"])
    db.session.commit()
    deliver(app)
    assert '<html lang="fr">' in html_of(mails_to(inbox, "anna@example.com")[0])
    assert '<html lang="en">' in html_of(mails_to(inbox, "bob@example.com")[0])


# --- changelog and feed -------------------------------------------------------------------


def test_changelog_is_newest_first_with_an_atom_feed(client, personas, make_idea):
    for title in ("First thing", "Second <thing> & more"):
        idea = make_idea(title, author=personas["bob"])
        services.change_status(idea, services.find_status("shipped"), personas["pam"],
                               release_notes=f"Notes for *{title}*")
        db.session.commit()
    page = client.get("/changelog").text
    assert page.index("Second &lt;thing&gt; &amp; more") < page.index("First thing")
    feed = client.get("/changelog.atom")
    assert feed.content_type.startswith("application/atom+xml")
    root = ET.fromstring(feed.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert titles == ["Second <thing> & more", "First thing"]
    content = root.find("a:entry/a:content", ns).text
    assert "<em>Second &lt;thing&gt; &amp; more</em>" in content


# --- the deliver command and the senders --------------------------------------------------


def test_flask_forum_deliver_once(app, runner, personas, make_idea, inbox):
    idea = make_idea(author=personas["bob"])
    services.cast_vote(idea, personas["anna"])
    services.change_status(idea, services.find_status("planned"), personas["pam"])
    db.session.commit()
    result = runner.invoke(args=["forum", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output
    assert sorted(m["To"] for m in inbox) == ["anna@example.com", "bob@example.com"]
    assert runner.invoke(args=["forum", "deliver", "--once"]).exit_code == 0
    assert len(inbox) == 2
    states = db.session.scalars(db.select(OutboxMessage.state)).all()
    assert states == [MailState.SENT, MailState.SENT]


def test_file_and_console_senders(app, tmp_path, capsys, personas, make_idea):
    idea = make_idea(author=personas["bob"])
    services.change_status(idea, services.find_status("planned"), personas["pam"])
    db.session.commit()
    deliver(app, sender=senders.from_url(f"file://{tmp_path}/mail"))
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    written = message_from_bytes(files[0].read_bytes(), policy=default)
    assert written["Subject"].endswith("is now Planned") and "moved from Open" in text_of(written)

    services.change_status(idea, services.find_status("in_progress"), personas["pam"])
    db.session.commit()
    deliver(app, sender=senders.from_url("console"))
    assert "is now In progress" in capsys.readouterr().out


def test_mail_url_is_parsed(app):
    smtp = senders.from_url("smtp://me%40x.org:p%2Fw@mail.example.org:2525?starttls=1")
    assert (smtp.host, smtp.port, smtp.starttls, smtp.username, smtp.password) == (
        "mail.example.org", 2525, True, "me@x.org", "p/w")
    assert senders.from_url("smtps://mail.example.org").port == 465
    with pytest.raises(ValueError, match="FORUM_MAIL_URL"):
        senders.from_url("carrier-pigeon://coop")


@pytest.fixture
def strict_client(app_config, personas):
    """CSRF and rate limits on, as in production."""
    from forum import create_app

    strict = create_app({**app_config, "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True,
                         "PASSWORD_RESET_RATE_LIMIT": "2 per hour"})
    return strict.test_client()


def test_one_click_unsubscribe_needs_no_session_and_no_csrf_token(strict_client, personas,
                                                                  make_idea):
    idea = make_idea(author=personas["bob"])
    bob_id, idea_id = personas["bob"].id, idea.id
    db.session.rollback()  # end our read transaction: the other app writes to the same file
    token = tokens.make("unsubscribe", {"u": bob_id, "i": idea_id})
    response = strict_client.post(f"/unsubscribe/{token}",
                                  data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert services.subscription_level(idea, personas["bob"]) == SubscriptionLevel.NONE
    # The digest's link stops all email.
    token = tokens.make("unsubscribe", {"u": bob_id, "i": None})
    db.session.rollback()
    strict_client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    db.session.expire_all()
    assert db.session.get(User, personas["bob"].id).notify_frequency == NotifyFrequency.NEVER


def test_the_reset_form_is_rate_limited(strict_client):
    page = strict_client.get("/password/forgot").text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    codes = [strict_client.post("/password/forgot", data={
        "email": "anna@example.com", "csrf_token": csrf}).status_code for _ in range(3)]
    assert codes == [302, 302, 429]


def test_an_unconfirmed_person_can_ask_for_a_new_link(app, client, auth, personas, inbox):
    client.post("/signup", data={"name": "Nora", "email": "nora@example.com",
                                 "password": "nora's password"})
    assert "is not confirmed yet" in client.get("/settings/notifications").text
    client.post("/settings/confirm")  # within a minute of the first: not sent again
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 1
    db.session.execute(db.update(OutboxMessage).values(
        created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    client.post("/settings/confirm")
    deliver(app)
    assert [m["Subject"] for m in inbox] == ["Confirm your address for Feedback"] * 2
    auth.logout()
    auth.login("anna@example.com")
    assert "is not confirmed yet" not in client.get("/settings/notifications").text
