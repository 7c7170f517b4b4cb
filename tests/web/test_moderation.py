"""Reports, the moderation queue, bans, rate limits and the sign-up honeypot."""

from __future__ import annotations

import pytest

from forum import create_app
from forum.accounts.models import User
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Comment, Idea
from forum.moderation.models import Report, ReportState
from tests.conftest import PASSWORD


def _report(client, path, reason="spam", details=""):
    return client.post(path, data={"reason": reason, "details": details})


def test_reporting_an_idea_puts_it_in_the_queue_once(client, auth, personas, make_idea):
    idea = make_idea("Buy cheap watches", author=personas["fred"])
    auth.login("anna@example.com")
    assert _report(client, f"/ideas/{idea.id}/report", details="An ad").status_code == 302
    _report(client, f"/ideas/{idea.id}/report")
    assert db.session.scalar(db.select(db.func.count(Report.id))) == 1
    auth.logout()
    auth.login("pam@example.com")
    page = client.get("/staff/moderation").text
    assert "Buy cheap watches" in page and "An ad" in page


def test_a_report_needs_a_reason(client, auth, personas, make_idea):
    idea = make_idea()
    auth.login("anna@example.com")
    _report(client, f"/ideas/{idea.id}/report", reason="because")
    assert db.session.scalar(db.select(db.func.count(Report.id))) == 0


def test_dismiss(client, auth, personas, make_idea):
    idea = make_idea()
    auth.login("anna@example.com")
    _report(client, f"/ideas/{idea.id}/report")
    auth.logout()
    auth.login("pam@example.com")
    report = db.session.scalar(db.select(Report))
    client.post(f"/staff/reports/{report.id}/resolve", data={"action": "dismiss"})
    db.session.expire_all()
    assert report.state == ReportState.DISMISSED and report.resolved_by_id == personas["pam"].id
    assert db.session.get(Idea, idea.id).hidden_at is None
    assert "Nothing to moderate." in client.get("/staff/moderation").text


def test_hiding_a_reported_comment(client, auth, personas, make_idea):
    idea = make_idea()
    comment = ideas.post_comment(idea, personas["fred"], "You are all idiots")
    db.session.commit()
    auth.login("anna@example.com")
    _report(client, f"/comments/{comment.id}/report", reason="abuse")
    auth.logout()
    auth.login("pam@example.com")
    report = db.session.scalar(db.select(Report))
    client.post(f"/staff/reports/{report.id}/resolve", data={"action": "hide"})
    auth.logout()
    auth.login("bob@example.com")
    assert "You are all idiots" not in client.get(f"/ideas/{idea.id}").text
    assert db.session.get(Comment, comment.id).hidden_at is not None


def test_banning_hides_everything_deletes_nothing_and_stops_sign_in(
        client, auth, personas, make_idea, no_drift):
    fred = personas["fred"]
    idea = make_idea("Fred spam", author=fred)
    other = make_idea("A real idea", author=personas["anna"])
    ideas.post_comment(other, fred, "Visit my site")
    db.session.commit()
    auth.login("anna@example.com")
    _report(client, f"/ideas/{idea.id}/report")
    auth.logout()
    auth.login("pam@example.com")
    report = db.session.scalar(db.select(Report))
    client.post(f"/staff/reports/{report.id}/resolve", data={"action": "ban"})
    assert db.session.get(User, fred.id).is_banned
    assert "Fred spam" in client.get(f"/ideas/{idea.id}").text  # the team still sees it
    auth.logout()
    assert "Fred spam" not in client.get("/").text
    assert client.get(f"/ideas/{idea.id}").status_code == 404
    assert "Visit my site" not in client.get(f"/ideas/{other.id}").text
    assert "Fred spam" not in client.get(f"/people/{fred.id}").text
    response = auth.login("fred@example.com")
    assert "suspended" in response.text
    assert db.session.get(Idea, idea.id) is not None
    # Lifting the ban brings everything back.
    auth.login("pam@example.com")
    client.post(f"/staff/people/{fred.id}/unban")
    auth.logout()
    assert "Fred spam" in client.get("/").text


def test_team_accounts_cannot_be_banned(client, auth, personas):
    auth.login("pam@example.com")
    client.post(f"/staff/people/{personas['ada'].id}/ban")
    assert not db.session.get(User, personas["ada"].id).is_banned


def test_sign_up_honeypot_creates_nothing(client):
    response = client.post("/signup", data={"name": "Bot", "email": "bot@example.com",
                                            "password": PASSWORD, "website": "http://x"})
    assert response.status_code == 302
    assert db.session.scalar(db.select(User).where(User.email == "bot@example.com")) is None


@pytest.fixture
def limited_client(app_config):
    """The real limiter, switched on, with limits small enough to reach in a test.

    The limiter is one object per process (as in production, where there is one app), so this
    app must be the last one created in the test: no ``app`` fixture beside it."""
    app = create_app({**app_config, "RATELIMIT_ENABLED": True,
                      "SIGNUP_RATE_LIMIT": "2 per hour", "POST_RATE_LIMIT": "2 per hour"})
    with app.app_context():
        yield app.test_client()
        db.session.remove()


def test_sign_up_is_rate_limited_with_a_clear_page(limited_client):
    for n in range(2):
        response = limited_client.post("/signup", data={
            "name": f"P{n}", "email": f"p{n}@example.com", "password": PASSWORD})
        assert response.status_code == 302
        limited_client.post("/signout")
    response = limited_client.post("/signup", data={"name": "P3", "email": "p3@example.com",
                                                    "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.text and "2 attempts per 1 hour" in response.text
    assert db.session.scalar(db.select(User).where(User.email == "p3@example.com")) is None
    # Reading is never limited.
    assert limited_client.get("/signup").status_code == 200


def test_posting_ideas_is_rate_limited(limited_client):
    from forum.accounts import services as accounts

    accounts.register(email="anna@example.com", name="Anna", password=PASSWORD)
    db.session.commit()
    limited_client.post("/signin", data={"email": "anna@example.com", "password": PASSWORD})
    codes = [limited_client.post("/ideas/new", data={"title": f"Idea number {n}", "body": "",
                                                     "board": 1}).status_code
             for n in range(3)]
    assert codes == [302, 302, 429]
    assert db.session.scalar(db.select(db.func.count(Idea.id))) == 2
    json = limited_client.post("/ideas/new", data={"title": "Again", "board": 1},
                               headers={"Accept": "application/json"})
    assert json.status_code == 429 and json.json["error"] == "rate_limited"


def test_the_team_bans_from_the_profile_page(client, auth, personas):
    fred = personas["fred"]
    auth.login("pam@example.com")
    assert "Ban Fred" in client.get(f"/people/{fred.id}").text
    response = client.post(f"/staff/people/{fred.id}/ban")
    assert response.headers["Location"].endswith(f"/people/{fred.id}")
    assert "Lift the ban" in client.get(f"/people/{fred.id}").text
    auth.logout()
    auth.login("anna@example.com")
    assert "Ban Fred" not in client.get(f"/people/{fred.id}").text
