"""Ideas on a team-only board (or hidden by moderation) never reach a customer, one test per
channel: lists, search, similar ideas (web and API), feeds, the API, emails and counts.

The board checks of pages (lists, idea page, profiles, tags) are in test_hidden_boards.py;
the crawl of every page per persona is in tests/security/test_leaks.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from forum.accounts.models import NotifyFrequency
from forum.db import utcnow
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Comment, Visibility
from forum.notifications import services as notifications
from forum.notifications.models import MailState, Notification, OutboxMessage
from forum.triage import services as triage
from tests.conftest import deliver

SECRET = "Quokka secret roadmap"
HIDDEN = "Quokka hidden by moderation"
PUBLIC = "Quokka public wish"


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "MAIL_URL": smtp_server.url}


@pytest.fixture
def inner(app) -> Board:
    board = Board(slug="inner", name="Inner circle", visibility=Visibility.STAFF)
    db.session.add(board)
    db.session.commit()
    return board


@pytest.fixture
def world(app, personas, make_idea, inner):
    """A team-only idea, a hidden one and a public one, all about quokkas, in the index."""
    secret = make_idea(SECRET, body="Quokka plans for the team.", author=personas["bob"],
                       board=inner)
    hidden = make_idea(HIDDEN, body="Quokka spam.", author=personas["bob"])
    triage.set_idea_hidden(hidden, personas["pam"], hidden=True)
    public = make_idea(PUBLIC, body="Quokka for everyone.", author=personas["bob"])
    db.session.commit()
    return {"secret": secret, "hidden": hidden, "public": public}


def _leaks(text: str) -> list[str]:
    # Words after the first: search pages wrap the matched word in <mark>.
    return [t for t in (SECRET, HIDDEN) if t.split(" ", 1)[1] in text]


@pytest.fixture
def as_anna(auth, personas):
    auth.login("anna@example.com")


# --- lists -------------------------------------------------------------------------------

def test_lists_and_roadmap(client, world, as_anna):
    for path in ("/", "/?sort=new", "/?sort=trending", "/roadmap", "/boards/general"):
        page = client.get(path).text
        assert PUBLIC in page or path == "/roadmap"
        assert not _leaks(page), path


# --- search ------------------------------------------------------------------------------

def test_search_page_and_its_count(client, world, as_anna):
    page = client.get("/search?q=quokka").text
    assert f"/ideas/{world['public'].id}/" in page and not _leaks(page)
    assert "1 idea found" in page  # the hidden ones are not counted either


# --- similar ideas -----------------------------------------------------------------------

def test_similar_ideas_web(client, world, as_anna):
    answer = client.get("/similar?title=quokka roadmap plans&body=quokka")
    assert answer.status_code == 200
    assert PUBLIC in answer.text and not _leaks(answer.text)


def test_similar_ideas_api(client, world):
    answer = client.get("/api/v1/similar?title=quokka roadmap plans&body=quokka")
    assert answer.status_code == 200
    assert [i["title"] for i in answer.json] == [PUBLIC]


# --- feeds -------------------------------------------------------------------------------

def test_changelog_page_and_atom_feed(client, auth, world, personas):
    pam = personas["pam"]
    for key in ("secret", "public"):
        ideas.change_status(world[key], ideas.find_status("shipped"), pam,
                            release_notes=f"Release notes of {world[key].title}")
    db.session.commit()
    feed = client.get("/changelog.atom").text
    assert PUBLIC in feed and not _leaks(feed)
    auth.login("anna@example.com")
    page = client.get("/changelog").text
    assert PUBLIC in page and not _leaks(page)
    auth.logout()
    auth.login("pam@example.com")
    assert SECRET in client.get("/changelog").text  # the team reads its own notes


# --- the API -----------------------------------------------------------------------------

def test_api_lists_reads_and_counts(client, world):
    listed = client.get("/api/v1/ideas?q=quokka").json
    assert [i["title"] for i in listed["items"]] == [PUBLIC] and listed["total"] == 1
    everything = client.get("/api/v1/ideas?per_page=100").json
    assert not _leaks(str(everything)) and everything["total"] == len(everything["items"])
    for key in ("secret", "hidden"):
        for suffix in ("", "/comments", "/history"):
            answer = client.get(f"/api/v1/ideas/{world[key].id}{suffix}")
            assert answer.status_code == 404 and not _leaks(answer.text), (key, suffix)
    assert "inner" not in [b["slug"] for b in client.get("/api/v1/boards").json]


# --- emails ------------------------------------------------------------------------------

def _mailed(smtp_server) -> str:
    return "".join(m.as_string() for m in smtp_server.messages)


def test_status_change_email_once_the_board_is_team_only(app, world, personas, inner,
                                                         smtp_server):
    public, pam, anna = world["public"], personas["pam"], personas["anna"]
    ideas.cast_vote(public, anna)
    triage.move_to_board(public, inner, pam)
    ideas.change_status(public, ideas.find_status("planned"), pam)
    db.session.commit()
    deliver(app)
    assert smtp_server.to(anna.email) == [] and smtp_server.to(personas["bob"].email) == []
    assert db.session.scalar(db.select(db.func.count(Notification.id))
                             .where(Notification.user_id == anna.id)) == 0


def test_status_change_email_written_before_the_move_is_withheld(app, world, personas, inner,
                                                                smtp_server):
    """Visibility changed between the outbox row and the delivery: checked again at send."""
    public, pam, anna = world["public"], personas["pam"], personas["anna"]
    ideas.cast_vote(public, anna)
    ideas.change_status(public, ideas.find_status("planned"), pam)
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 2  # anna and bob
    triage.move_to_board(public, inner, pam)
    db.session.commit()
    report = deliver(app)
    assert (report.sent, report.withheld) == (0, 2)
    assert smtp_server.messages == []
    states = set(db.session.scalars(db.select(OutboxMessage.state)))
    assert states == {MailState.WITHHELD}
    # The bell does not name it any more either.
    assert notifications.unread_count(anna) == 0


def test_comment_email_of_a_comment_hidden_before_delivery(app, world, personas, smtp_server):
    public, pam = world["public"], personas["pam"]
    comment = ideas.post_comment(public, personas["anna"], "Quokka phone number 555-0100")
    db.session.commit()
    triage.set_comment_hidden(comment, pam, hidden=True)
    db.session.commit()
    report = deliver(app)
    assert report.withheld == 1 and "555-0100" not in _mailed(smtp_server)


def test_comment_email_of_an_idea_hidden_before_delivery(app, world, personas, smtp_server):
    public, pam = world["public"], personas["pam"]
    ideas.post_comment(public, personas["anna"], "Me too")
    db.session.commit()
    triage.set_idea_hidden(public, pam, hidden=True)
    db.session.commit()
    assert deliver(app).withheld == 1 and smtp_server.messages == []


def test_digest_leaves_out_what_became_team_only(app, world, personas, inner, make_idea,
                                                 smtp_server):
    anna, pam = personas["anna"], personas["pam"]
    anna.notify_frequency = NotifyFrequency.DAILY
    other = make_idea("Still public quokka", author=personas["bob"])
    for idea in (world["public"], other):
        ideas.cast_vote(idea, anna)
        ideas.change_status(idea, ideas.find_status("planned"), pam)
    db.session.commit()
    triage.move_to_board(world["public"], inner, pam)
    db.session.commit()
    tomorrow = utcnow() + timedelta(days=1, hours=1)
    assert notifications.queue_due_digests(tomorrow) == 1
    db.session.commit()
    deliver(app, clock=lambda: tomorrow)
    [digest] = smtp_server.to(anna.email)
    assert "Still public quokka" in digest.as_string()
    assert PUBLIC not in digest.as_string()


def test_a_digest_with_nothing_left_to_tell_is_withheld(app, world, personas, smtp_server):
    anna, pam = personas["anna"], personas["pam"]
    anna.notify_frequency = NotifyFrequency.DAILY
    ideas.cast_vote(world["public"], anna)
    ideas.change_status(world["public"], ideas.find_status("planned"), pam)
    db.session.commit()
    triage.set_idea_hidden(world["public"], pam, hidden=True)
    db.session.commit()
    tomorrow = utcnow() + timedelta(days=1, hours=1)
    notifications.queue_due_digests(tomorrow)
    db.session.commit()
    report = deliver(app, clock=lambda: tomorrow)
    assert smtp_server.messages == []  # nor Bob's email about the status change, held too
    digest = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.template == "digest"))
    assert (digest.to_address, digest.state) == (anna.email, MailState.WITHHELD)
    assert report.withheld == 2


# --- counts ------------------------------------------------------------------------------

def test_comment_counts_are_what_customers_can_read(client, world, personas, as_anna):
    public, pam = world["public"], personas["pam"]
    shown = ideas.post_comment(public, personas["anna"], "Visible")
    spam = ideas.post_comment(public, personas["fred"], "Spam")
    ideas.post_comment(public, pam, "Team note", internal=True)
    triage.set_comment_hidden(spam, pam, hidden=True)
    db.session.commit()
    assert shown.id and db.session.get(type(public), public.id).comment_count == 1
    assert client.get(f"/api/v1/ideas/{public.id}").json["comments"] == 1
    assert re.search(r"1 comment\b", client.get("/").text)
    triage.set_comment_hidden(spam, pam, hidden=False)
    db.session.commit()
    assert client.get(f"/api/v1/ideas/{public.id}").json["comments"] == 2


def test_a_ban_takes_the_comments_out_of_the_counts(client, world, personas):
    from forum.moderation.services import set_banned

    public, pam = world["public"], personas["pam"]
    ideas.post_comment(public, personas["fred"], "Rude")
    db.session.commit()
    assert client.get(f"/api/v1/ideas/{public.id}").json["comments"] == 1
    set_banned(personas["fred"], pam, banned=True)
    db.session.commit()
    assert client.get(f"/api/v1/ideas/{public.id}").json["comments"] == 0
    set_banned(personas["fred"], pam, banned=False)
    db.session.commit()
    assert client.get(f"/api/v1/ideas/{public.id}").json["comments"] == 1
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 1  # nothing deleted


def test_profile_and_board_counts(client, world, personas, as_anna):
    page = client.get(f"/people/{personas['bob'].id}").text
    assert PUBLIC in page and not _leaks(page)
    assert "Inner circle" not in client.get("/").text


def test_insights_shared_outside_the_team(client, auth, world):
    auth.login("pam@example.com")
    page = client.get("/staff/insights?scope=public").text
    assert 'data-figure="total-ideas">1<' in page and not _leaks(page)
