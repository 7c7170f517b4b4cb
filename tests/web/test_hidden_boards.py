"""Ideas on a board someone may not see never reach them, through any channel that exists.

Search, similar ideas, the API, feeds and emails are built elsewhere; their owners add the
matching test beside these.
"""

from __future__ import annotations

import pytest

from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Visibility

SECRET = "Secret roadmap item"


@pytest.fixture
def secret(app, personas, make_idea):
    board = Board(slug="inner", name="Inner circle", visibility=Visibility.STAFF)
    db.session.add(board)
    db.session.commit()
    idea = make_idea(SECRET, author=personas["bob"], board=board)
    ideas.cast_vote(idea, personas["anna"])
    db.session.commit()
    make_idea("Public idea", author=personas["bob"])
    return idea


@pytest.fixture
def as_anna(auth, personas):
    auth.login("anna@example.com")


def test_list(client, secret, as_anna):
    assert SECRET not in client.get("/").text
    assert SECRET not in client.get("/?sort=new").text


def test_board_page_and_board_nav(client, secret, as_anna):
    assert client.get("/boards/inner").status_code == 404
    assert "Inner circle" not in client.get("/").text


def test_idea_page(client, secret, as_anna):
    assert client.get(f"/ideas/{secret.id}").status_code == 404


def test_profile_posted_and_voted(client, secret, as_anna, personas):
    assert SECRET not in client.get(f"/people/{personas['bob'].id}").text
    assert SECRET not in client.get(f"/people/{personas['anna'].id}").text


def test_tag_filter(client, secret, as_anna):
    from forum.ideas.models import Tag

    tag = Tag(slug="sso", name="SSO")
    secret.tags = [tag]
    db.session.commit()
    assert SECRET not in client.get("/?tag=sso").text


def test_counts(app, client, secret, as_anna):
    app.config["IDEAS_PER_PAGE"] = 1
    page = client.get("/").text
    assert "Page 1 of" not in page  # one visible idea: one page, no pagination at all


def test_writes_answer_not_found(client, secret, as_anna):
    for path in (f"/ideas/{secret.id}/vote", f"/ideas/{secret.id}/comments",
                 f"/ideas/{secret.id}/report"):
        assert client.post(path, data={"body": "x", "reason": "spam"}).status_code == 404


def test_members_board_needs_a_session(client, auth, personas, make_idea):
    board = Board(slug="beta", name="Beta", visibility=Visibility.MEMBERS)
    db.session.add(board)
    db.session.commit()
    idea = make_idea("Beta feature", board=board)
    assert client.get(f"/ideas/{idea.id}").status_code == 404
    assert "Beta feature" not in client.get("/").text
    auth.login("anna@example.com")
    assert client.get(f"/ideas/{idea.id}").status_code == 200


def test_the_team_sees_it(client, auth, secret):
    auth.login("pam@example.com")
    assert client.get(f"/ideas/{secret.id}").status_code == 200
    assert SECRET in client.get("/staff/ideas").text


def test_public_insights_leave_it_out(client, auth, secret):
    auth.login("pam@example.com")
    page = client.get("/staff/insights?scope=public").text
    assert SECRET not in page
    assert SECRET in client.get("/staff/insights").text
