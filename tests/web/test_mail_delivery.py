"""Closing the loop against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from forum.accounts.models import NotifyFrequency
from forum.db import utcnow
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Idea, StatusChange, SubscriptionLevel
from forum.notifications import delivery, senders
from forum.notifications.models import MailPhase, MailState, Notification, OutboxMessage
from tests.conftest import deliver, html_of, text_of
from tests.processes import forum_environment


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "MAIL_URL": smtp_server.url}


def ship(idea, by, **kwargs):
    change = services.change_status(idea, services.find_status("shipped"), by, **kwargs)
    db.session.commit()
    return change


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_status_change_reaches_followers_and_voters_at_their_levels(
        app, personas, make_user, make_idea, smtp_server):
    bob, anna, pam = personas["bob"], personas["anna"], personas["pam"]
    idea = make_idea(author=bob)                                   # bob follows everything
    services.cast_vote(idea, anna)                                 # anna: status changes
    carl = make_user("Carl")
    services.set_subscription(idea, carl, SubscriptionLevel.ALL)   # carl follows, no vote
    dora = make_user("Dora")
    services.cast_vote(idea, dora)
    services.set_subscription(idea, dora, SubscriptionLevel.NONE)  # dora chose silence
    erin = make_user("Erin")
    services.cast_vote(idea, erin)
    erin.notify_frequency = NotifyFrequency.NEVER                  # erin: no email at all
    fay = make_user("Fay")
    services.cast_vote(idea, fay)
    fay.notify_frequency = NotifyFrequency.DAILY                   # fay: the digest
    db.session.commit()

    change = services.change_status(idea, services.find_status("planned"), pam,
                                    note="Scheduled for the spring release.")
    db.session.commit()
    report = deliver(app)

    assert report.sent == 3 and report.failed == 0
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        [bob.email, anna.email, carl.email])
    mail = smtp_server.to(anna.email)[0]
    assert "is now Planned" in mail["Subject"]
    assert "Scheduled for the spring release." in text_of(mail)
    assert f"/ideas/{idea.id}" in text_of(mail) and f"/ideas/{idea.id}" in html_of(mail)
    assert "Feedback" in text_of(mail) and "/settings/notifications" in text_of(mail)
    # Told: bob, anna, carl by email, fay in tomorrow's digest. Erin chose no email.
    assert db.session.get(StatusChange, change.id).notified_count == 4
    noticed = set(db.session.scalars(db.select(Notification.user_id)))
    assert noticed == {bob.id, anna.id, carl.id, erin.id, fay.id}

    # A comment reaches only those who follow everything, not its author.
    smtp_server.messages.clear()
    services.post_comment(idea, carl, "Can't wait!")
    db.session.commit()
    deliver(app)
    assert [m["To"] for m in smtp_server.messages] == [bob.email]
    assert "Carl commented" in text_of(smtp_server.messages[0])


def test_shipped_reaches_the_voters_of_merged_ideas_once(
        app, personas, make_user, make_idea, smtp_server):
    anna, bob, pam = personas["anna"], personas["bob"], personas["pam"]
    carl, dora = make_user("Carl"), make_user("Dora")
    canonical = make_idea("Dark mode", author=anna)
    duplicate = make_idea("Dark theme please", author=bob)
    services.cast_vote(duplicate, anna)        # anna voted on both: one email, not two
    services.cast_vote(canonical, carl)
    services.cast_vote(duplicate, dora)
    services.set_subscription(duplicate, dora, SubscriptionLevel.NONE)
    fay = make_user("Fay")
    services.cast_vote(duplicate, fay)
    fay.notify_frequency = NotifyFrequency.DAILY  # shipped news comes at once anyway
    db.session.commit()
    # The merge service belongs to another area; the link is all that matters here.
    db.session.get(Idea, duplicate.id).merged_into_id = canonical.id
    db.session.commit()

    change = ship(canonical, pam, note="Out today.", release_notes="Dark mode follows the "
                  "system setting.")
    deliver(app)

    recipients = sorted(m["To"] for m in smtp_server.messages)
    assert recipients == sorted([anna.email, bob.email, carl.email, fay.email])
    assert db.session.get(StatusChange, change.id).notified_count == 4
    mail = smtp_server.to(bob.email)[0]
    assert mail["Subject"] == "Shipped: “Dark mode”"
    assert "Did this solve what you asked for?" in text_of(mail)
    for answer in ("yes", "partly", "no"):
        assert re.search(rf"/satisfaction/[^/\s]+/{answer}", text_of(mail))
    assert "/changelog#entry-" in text_of(mail)
    # Delivering again sends nothing more.
    assert deliver(app).sent == 0 and len(smtp_server.messages) == 4


def test_unsubscribe_by_the_list_unsubscribe_header(app, client, personas, make_idea,
                                                     smtp_server):
    anna, pam = personas["anna"], personas["pam"]
    idea = make_idea(author=personas["bob"])
    services.cast_vote(idea, anna)
    db.session.commit()
    services.change_status(idea, services.find_status("under_review"), pam)
    db.session.commit()
    deliver(app)
    mail = smtp_server.to(anna.email)[0]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"]).group(1)

    # What a mail client does (RFC 8058): a POST, no cookies, no CSRF token.
    response = client.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    smtp_server.messages.clear()
    services.change_status(idea, services.find_status("planned"), pam)
    db.session.commit()
    deliver(app)
    assert smtp_server.to(anna.email) == []
    assert smtp_server.to(personas["bob"].email) != []


def test_unsubscribe_by_the_link_in_the_email(app, client, personas, make_idea, smtp_server):
    anna, pam = personas["anna"], personas["pam"]
    idea = make_idea(author=personas["bob"])
    services.cast_vote(idea, anna)
    db.session.commit()
    services.change_status(idea, services.find_status("planned"), pam)
    db.session.commit()
    deliver(app)
    link = re.search(r"Unsubscribe: (\S+)", text_of(smtp_server.to(anna.email)[0])).group(1)
    assert link in html_of(smtp_server.to(anna.email)[0]).replace("&amp;", "&")

    page = client.get(path_of(link))
    assert page.status_code == 200 and "Stop emails about" in page.text
    done = client.post(path_of(link))
    assert "you will get no more email about" in done.text
    assert services.subscription_level(idea, anna) == SubscriptionLevel.NONE
    # A forged link changes nothing.
    assert client.post(path_of(link)[:-3] + "xyz").status_code == 400


def test_smtp_down_then_up_every_message_arrives_once(app, personas, make_user, make_idea,
                                                      smtp_server):
    idea = make_idea(author=personas["bob"])
    voters = [make_user(f"Voter {n}") for n in range(6)]
    for voter in voters:
        services.cast_vote(idea, voter)
    db.session.commit()
    ship(idea, personas["pam"])
    expected = sorted([personas["bob"].email, *(v.email for v in voters)])

    # The server accepts two messages, then answers "421 try later" mid-batch.
    original = smtp_server.handle_DATA

    async def two_then_refuse(server, session, envelope):
        smtp_server.refuse = len(smtp_server.messages) >= 2
        return await original(server, session, envelope)

    smtp_server.handle_DATA = two_then_refuse
    first = deliver(app)
    assert first.sent == 2 and first.retrying == 5
    smtp_server.handle_DATA = original
    smtp_server.refuse = False

    # Then it is off the network entirely.
    smtp_server.stop()
    later = utcnow() + timedelta(minutes=2)
    down = deliver(app, clock=lambda: later)
    assert down.sent == 0 and down.retrying == 5
    waiting = db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.state == MailState.PENDING)).all()
    assert len(waiting) == 5 and all(m.attempts == 2 for m in waiting)
    assert all("cannot reach" in m.last_error for m in waiting)
    assert all(m.next_attempt_at > later for m in waiting)  # backing off

    # Back up: not before the back-off, then everything, once.
    smtp_server.start()
    assert deliver(app, clock=lambda: later).sent == 0
    much_later = later + timedelta(hours=1)
    assert deliver(app, clock=lambda: much_later).sent == 5
    assert deliver(app, clock=lambda: much_later + timedelta(days=1)).sent == 0
    assert sorted(m["To"] for m in smtp_server.messages) == expected
    assert len({m["Message-ID"] for m in smtp_server.messages}) == len(expected)


class SimulatedCrash(BaseException):
    """The process dies: nothing after this point runs, nothing is committed."""


class CrashAfterAccepted(senders.SMTPSender):
    def send(self, message, handing_over):
        super().send(message, handing_over)
        raise SimulatedCrash


class CrashBeforeData(senders.SMTPSender):
    def send(self, message, handing_over):
        def die():
            raise SimulatedCrash
        super().send(message, die)


def _one_message(personas, make_idea):
    idea = make_idea(author=personas["bob"])
    services.change_status(idea, services.find_status("planned"), personas["pam"])
    db.session.commit()
    return db.session.scalar(db.select(OutboxMessage))


def _sender(cls, server, **kwargs):
    return cls("127.0.0.1", server.port, implicit_tls=False, starttls=False, username=None,
               password=None, timeout=5, **kwargs)


def test_a_crash_after_the_server_accepted_does_not_send_twice(app, personas, make_idea,
                                                                smtp_server):
    message = _one_message(personas, make_idea)
    with pytest.raises(SimulatedCrash):
        deliver(app, sender=_sender(CrashAfterAccepted, smtp_server))
    db.session.rollback()
    assert len(smtp_server.messages) == 1
    row = db.session.get(OutboxMessage, message.id, populate_existing=True)
    assert row.state == MailState.SENDING and row.phase == MailPhase.HANDED

    # Another deliverer, after the lease ran out: it must not send it again.
    after_lease = utcnow() + timedelta(seconds=app.config["MAIL_LEASE_SECONDS"] + 1)
    report = deliver(app, clock=lambda: after_lease)
    assert report.sent == 0 and report.recovered == 1
    assert len(smtp_server.messages) == 1
    row = db.session.get(OutboxMessage, message.id, populate_existing=True)
    assert row.state == MailState.UNCERTAIN and "not resent" in row.last_error


def test_a_crash_before_the_data_was_handed_over_is_retried(app, personas, make_idea,
                                                             smtp_server):
    message = _one_message(personas, make_idea)
    with pytest.raises(SimulatedCrash):
        deliver(app, sender=_sender(CrashBeforeData, smtp_server))
    db.session.rollback()
    assert smtp_server.messages == []
    # Before the lease runs out nobody touches it; after, it goes out exactly once.
    assert deliver(app).sent == 0
    after_lease = utcnow() + timedelta(seconds=app.config["MAIL_LEASE_SECONDS"] + 1)
    assert deliver(app, clock=lambda: after_lease).sent == 1
    assert len(smtp_server.messages) == 1
    row = db.session.get(OutboxMessage, message.id, populate_existing=True)
    assert row.state == MailState.SENT and row.attempts == 2


def test_a_refused_recipient_fails_for_good_and_shows_in_the_send_log(
        app, client, auth, personas, make_idea, smtp_server):
    original = smtp_server.handle_DATA

    async def reject(server, session, envelope):
        return "550 5.1.1 No such mailbox"

    smtp_server.handle_DATA = reject
    _one_message(personas, make_idea)
    report = deliver(app)
    assert report.failed == 1 and report.sent == 0
    auth.login("pam@example.com")
    page = client.get("/admin/mail")
    assert "550 5.1.1 No such mailbox" in page.text and "Last error" in page.text
    # Staff send it again once the mailbox exists.
    smtp_server.handle_DATA = original
    message = db.session.scalar(db.select(OutboxMessage))
    client.post(f"/admin/mail/{message.id}/retry")
    assert deliver(app).sent == 1


def test_send_a_test_message_from_the_send_log(app, client, auth, personas, smtp_server):
    auth.login("pam@example.com")
    response = client.post("/admin/mail", data={"to": "ops@example.com"},
                           follow_redirects=True)
    assert "Test message queued" in response.text
    deliver(app)
    mail = smtp_server.to("ops@example.com")[0]
    assert "Test message" in mail["Subject"] and "Pam" in text_of(mail)
    assert mail["List-Unsubscribe"] is None  # not a notification
    page = client.get("/admin/mail").text
    assert "Test message from Feedback" in page and "sent: 1" in page


def test_the_send_log_is_for_staff(client, auth, personas):
    auth.login("fred@example.com")
    assert client.get("/admin/mail").status_code == 403
    assert client.post("/admin/mail", data={"to": "x@example.com"}).status_code == 403


def test_check_reports_a_stalled_deliverer_and_fix_releases_it(app, runner, personas,
                                                                make_idea):
    message = _one_message(personas, make_idea)
    row = db.session.get(OutboxMessage, message.id)
    row.state, row.phase = MailState.SENDING, MailPhase.CLAIMED
    row.lease_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["forum", "check"])
    assert result.exit_code == 1
    assert f"outbox message {message.id}: its deliverer stopped while sending" in result.output
    assert runner.invoke(args=["forum", "check", "--fix"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).state == MailState.PENDING
    assert runner.invoke(args=["forum", "check"]).exit_code == 0


class LeaseRunsOut(senders.SMTPSender):
    """A server so slow that, before our message goes out, the lease has run out and another
    deliverer has released and claimed the row."""

    def __init__(self, *args, later, **kwargs):
        super().__init__(*args, **kwargs)
        self.later = later
        self.taken: list[delivery.Claim] = []

    def send(self, message, handing_over):
        delivery.recover_expired(self.later)
        self.taken += delivery.claim_batch(self.later)
        super().send(message, handing_over)


def test_a_deliverer_that_lost_its_lease_does_not_send_the_row_it_lost(
        app, personas, make_idea, smtp_server):
    message = _one_message(personas, make_idea)
    after_lease = utcnow() + timedelta(seconds=app.config["MAIL_LEASE_SECONDS"] + 1)
    slow = LeaseRunsOut("127.0.0.1", smtp_server.port, implicit_tls=False, starttls=False,
                        username=None, password=None, timeout=5, later=after_lease)
    report = deliver(app, sender=slow)
    assert smtp_server.messages == [] and report.sent == 0 and report.errors == []
    # The row is the other deliverer's, as it left it: our writes matched nothing.
    [theirs] = slow.taken
    row = db.session.get(OutboxMessage, message.id, populate_existing=True)
    assert (row.state, row.phase, row.attempts) == (MailState.SENDING, MailPhase.CLAIMED,
                                                    theirs.attempts)
    assert theirs.attempts == 2
    # Should that deliverer vanish too, the row still goes out, once.
    much_later = after_lease + timedelta(seconds=app.config["MAIL_LEASE_SECONDS"] + 1)
    assert deliver(app, clock=lambda: much_later).sent == 1
    assert len(smtp_server.messages) == 1


class StoppedOnSecond(senders.SMTPSender):
    """The operator stops the deliverer while it sends the second message: softly (Ctrl+C or
    SIGTERM once, the ``stop`` flag) or at once (a second signal, KeyboardInterrupt)."""

    def __init__(self, *args, stop=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stop, self.started = stop, 0

    def send(self, message, handing_over):
        self.started += 1
        if self.started == 2:
            if self.stop is None:
                raise KeyboardInterrupt
            self.stop.set()
        super().send(message, handing_over)


def _shipped_to_three_voters(personas, make_user, make_idea) -> None:
    """Four messages in the outbox: the author's and three voters' news of "shipped"."""
    idea = make_idea(author=personas["bob"])
    for n in range(3):
        services.cast_vote(idea, make_user(f"Voter {n}"))
    db.session.commit()
    ship(idea, personas["pam"])


def test_stopping_the_deliverer_finishes_the_message_in_hand_and_gives_back_the_rest(
        app, personas, make_user, make_idea, smtp_server):
    _shipped_to_three_voters(personas, make_user, make_idea)
    stop = delivery.Stop()
    report = delivery.deliver_due(_sender(StoppedOnSecond, smtp_server, stop=stop), stop=stop)
    assert report.sent == 2 and len(smtp_server.messages) == 2
    rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.state for r in rows] == [MailState.SENT] * 2 + [MailState.PENDING] * 2
    # Given back as never tried: no lease to wait for, no attempt counted, no back-off.
    assert all(r.attempts == 0 and r.lease_until is None and r.phase is None for r in rows[2:])
    assert deliver(app).sent == 2
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(r.to_address for r in rows)


def test_stopping_the_deliverer_at_once_gives_back_what_it_had_not_sent(
        app, personas, make_user, make_idea, smtp_server):
    _shipped_to_three_voters(personas, make_user, make_idea)
    with pytest.raises(KeyboardInterrupt):
        deliver(app, sender=_sender(StoppedOnSecond, smtp_server))
    db.session.rollback()
    rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.state for r in rows] == [MailState.SENT] + [MailState.PENDING] * 3
    assert all(r.attempts == 0 and r.lease_until is None and r.phase is None for r in rows[1:])
    assert deliver(app).sent == 3
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(r.to_address for r in rows)


class StopInThePause(delivery.Stop):
    """The operator stops the deliverer while it waits for the next poll."""

    def wait(self, seconds):
        self.set()
        return True


def test_a_stop_in_the_pause_between_polls_ends_the_deliverer_without_another_round(app):
    from forum.webhooks import delivery as webhooks

    rounds = []

    def webhook_round(*, clock, stop):
        rounds.append(clock())
        return webhooks.deliver_due(clock=clock, stop=stop)

    report = delivery.run(senders.MemorySender("pause"), once=False, interval=5,
                          echo=lambda line: None, others=[webhook_round],
                          stop=StopInThePause())
    assert len(rounds) == 1 and report.attempted == 0


def _start_deliverer(app_config, tmp_path):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "forum", "deliver"],
        cwd=Path(__file__).resolve().parents[2], env=forum_environment(app_config, tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop(deliverer, signals: int) -> str:
    for _ in range(signals):
        deliverer.send_signal(signal.SIGTERM)  # as systemd stops it
        time.sleep(0.1)
    try:
        output = deliverer.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        deliverer.kill()
        output = deliverer.communicate()[0]
        raise AssertionError(f"the deliverer did not stop: {output}") from None
    assert deliverer.returncode == 0 and "Stopped." in output, output
    return output


@pytest.mark.parametrize("signals", [1, 2], ids=["softly", "at-once"])
def test_sigterm_stops_the_deliverer_and_gives_back_what_it_had_not_started(
        app, tmp_path, app_config, personas, make_user, make_idea, smtp_server, signals):
    idea = make_idea(author=personas["bob"])
    for n in range(5):
        services.cast_vote(idea, make_user(f"Voter {n}"))
    db.session.commit()
    ship(idea, personas["pam"])
    original = smtp_server.handle_DATA
    pause = 0.3 if signals == 1 else 2.0
    begun = []

    async def slow(server, session, envelope):  # time for the signals to land mid-message
        begun.append(envelope)
        await asyncio.sleep(pause)
        return await original(server, session, envelope)

    smtp_server.handle_DATA = slow
    deliverer = _start_deliverer(app_config, tmp_path)
    deadline = time.monotonic() + 60
    while len(begun) < 2 and deliverer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    # The deliverer is handing the second message over and waits for the server's answer.
    stopped_at = time.monotonic()
    output = _stop(deliverer, signals)
    if signals == 2:  # at once: it did not wait for the server to take the message in hand
        assert time.monotonic() - stopped_at < pause, output
    time.sleep(pause + 0.2)  # a message in flight when it stopped arrives now, if it does
    db.session.expire_all()
    rows = db.session.scalars(db.select(OutboxMessage)).all()
    states = Counter(r.state for r in rows)
    given_back = [r for r in rows if r.state == MailState.PENDING]
    assert len(rows) == 6 and given_back, (states, output)
    assert states[MailState.SENT] + states[MailState.SENDING] + len(given_back) == 6, states
    if signals == 1:  # softly: the message in hand was finished and recorded
        assert (states[MailState.SENT], states[MailState.SENDING]) == (2, 0), (states, output)
    else:  # at once: a message being handed over stays with the deliverer, to be held as
        # uncertain when its lease runs out, never sent twice. Nothing else stays claimed.
        assert states[MailState.SENDING] <= 1, (states, output)
        assert all(r.phase == MailPhase.HANDED for r in rows if r.state == MailState.SENDING)
    assert all(r.attempts == 0 and r.lease_until is None for r in given_back)
    # The rest goes out now, and nobody receives anything twice.
    smtp_server.handle_DATA = original
    assert deliver(app).sent == len(given_back)
    received = Counter(m["To"] for m in smtp_server.messages)
    assert max(received.values()) == 1 and len(received) >= 5, received


class SlowServer(senders.SMTPSender):
    """Each message takes 11 s of the deliverer's clock, longer than a batch may last; while
    the first is being sent, staff hide the idea (through another connection)."""

    def __init__(self, *args, clock, idea_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock, self.idea_id = clock, idea_id

    def send(self, message, handing_over):
        super().send(message, handing_over)
        with db.engine.begin() as other:
            other.execute(db.update(Idea).where(Idea.id == self.idea_id)
                          .values(hidden_at=utcnow()))
        self.clock.now += timedelta(seconds=11)


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


def test_a_batch_ends_after_its_time_and_gives_the_rest_back(app, personas, make_user,
                                                            make_idea, smtp_server):
    idea = make_idea(author=personas["bob"])
    for n in range(2):
        services.cast_vote(idea, make_user(f"Voter {n}"))
    db.session.commit()
    ship(idea, personas["pam"])
    clock = Clock()
    slow = SlowServer("127.0.0.1", smtp_server.port, implicit_tls=False, starttls=False,
                      username=None, password=None, timeout=5, clock=clock, idea_id=idea.id)
    report = delivery.deliver_due(slow, clock=clock)
    # The rest of the batch was given back and claimed again with a fresh read: the idea is
    # hidden now, so its news is withheld rather than sent from what the batch first read.
    assert (report.sent, report.withheld) == (1, 2) and len(smtp_server.messages) == 1
    rows = db.session.scalars(db.select(OutboxMessage)).all()
    assert sorted(r.state for r in rows) == [MailState.SENT, MailState.WITHHELD,
                                              MailState.WITHHELD]
    assert all(r.attempts == 1 for r in rows)  # given back, not counted as tried


def test_an_email_goes_on_the_wire_as_mail_servers_expect(app, make_user, make_idea, personas,
                                                         smtp_server):
    reader = make_user("Élodie Chassé", email="elodie@example.com")
    reader.locale = "fr"
    idea = make_idea("Exporter les votes en « CSV » — avec les accents éàç", author=reader)
    ship(idea, personas["pam"], note="Disponible dès aujourd’hui.")
    assert deliver(app).sent == 1
    [mail] = smtp_server.messages
    lines = mail.raw.split(b"\r\n")
    assert mail.raw.isascii()  # 7-bit: any server takes it, 8BITMIME or not
    assert b"\n" not in b"".join(lines) and lines[-1] == b""  # CRLF, and only CRLF
    assert max(len(line) for line in lines) <= 998
    words = re.findall(rb"=\?utf-8\?[qb]\?[^?]*\?=", mail.raw, re.IGNORECASE)
    assert words and all(len(word) <= 75 for word in words)  # RFC 2047
    # What the reader's program shows:
    assert "Exporter les votes en « CSV » — avec les accents éàç" in mail["Subject"]
    assert "Disponible dès aujourd’hui." in text_of(mail)
    assert "Disponible dès aujourd’hui." in html_of(mail)
    assert mail["List-Unsubscribe"].startswith("<http") and " " not in mail["List-Unsubscribe"]


def test_an_address_outside_ascii_fails_at_once_with_the_reason(app, make_user, make_idea,
                                                                  personas, smtp_server):
    make_idea(author=make_user("Zoë", email="zoë@example.com"))
    idea = db.session.scalar(db.select(Idea))
    ship(idea, personas["pam"])
    report = deliver(app)
    assert report.failed == 1 and report.retrying == 0 and smtp_server.messages == []
    row = db.session.scalar(db.select(OutboxMessage))
    assert row.state == MailState.FAILED and "SMTPUTF8" in row.last_error


@pytest.mark.sqlite_only("proves SQLite's single write lock is free while the server answers")
def test_the_deliverer_holds_no_database_lock_while_the_server_answers(
        app, personas, make_idea, smtp_server):
    import sqlite3

    _one_message(personas, make_idea)
    database = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    writes: list[bool] = []

    async def slow_rcpt(server, session, envelope, address, rcpt_options):
        # While the deliverer waits for this answer, the site must still be able to write.
        other = sqlite3.connect(database, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writes.append(True)
        except sqlite3.OperationalError:
            writes.append(False)
        finally:
            other.close()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handle_RCPT = slow_rcpt
    assert deliver(app).sent == 1
    assert writes == [True]
