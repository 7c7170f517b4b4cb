"""A vote reads the person and the idea first and takes SQLite's write lock only for its writes
(forum.dbtuning.reads_first), so that voters of other processes wait for each other's writes
and not for each other's reads. What another request commits in between must still decide the
vote: these tests commit it at exactly that moment, from another connection."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from forum import dbtuning
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Board, Idea, Visibility, Vote


def _between_reads_and_writes(monkeypatch, sql: str, **params) -> None:
    """Commit ``sql`` from another connection when the vote has read and is about to write."""
    begin_writing = dbtuning.begin_writing

    def meanwhile() -> None:
        with db.engine.connect() as other:
            other.execute(text(sql), params)
            other.commit()
        begin_writing()

    monkeypatch.setattr(dbtuning, "begin_writing", meanwhile)


def _vote(client, idea_id: int, action: str = "vote"):
    db.session.rollback()
    return client.post(f"/ideas/{idea_id}/{action}", headers={"Accept": "application/json"})


@pytest.mark.sqlite_only("PostgreSQL reads the person once, at the start of the request")
def test_a_ban_committed_meanwhile_stops_the_vote(client, auth, personas, make_idea,
                                                   monkeypatch):
    idea = make_idea("Dark mode", author=personas["bob"])
    auth.login("anna@example.com")
    _between_reads_and_writes(monkeypatch, "UPDATE users SET is_banned = :yes WHERE id = :id",
                              yes=True, id=personas["anna"].id)
    response = _vote(client, idea.id)
    assert response.status_code == 403, response.text
    assert "can no longer post or vote" in response.json["message"]
    db.session.rollback()
    assert services.count_votes(idea) == 1 and db.session.get(Idea, idea.id).vote_count == 1


def test_a_status_closing_the_vote_meanwhile_refuses_it(client, auth, personas, make_idea,
                                                        monkeypatch):
    idea = make_idea("Dark mode", author=personas["bob"])
    shipped = services.find_status("shipped")
    auth.login("anna@example.com")
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET status_id = :status WHERE id = :id",
                              status=shipped.id, id=idea.id)
    response = _vote(client, idea.id)
    assert response.status_code == 409, response.text
    assert "Voting is closed" in response.json["message"]
    db.session.rollback()
    assert services.count_votes(idea) == 1


def test_votes_meanwhile_are_counted_with_this_one(client, auth, personas, make_idea,
                                                   monkeypatch):
    """The count read before the lock is a moment old: the vote adds to the count read under
    it. (Two voters here stand for the hundred of a launch.)"""
    idea = make_idea("Dark mode", author=personas["bob"])
    auth.login("anna@example.com")
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET vote_count = 41 WHERE id = :id",
                              id=idea.id)
    response = _vote(client, idea.id)
    assert response.status_code == 200 and response.json["votes"] == 42, response.text
    monkeypatch.undo()
    response = _vote(client, idea.id, "unvote")
    assert response.status_code == 200 and response.json["votes"] == 41, response.text


def test_a_merge_meanwhile_moves_the_vote_to_the_canonical_idea(client, auth, personas,
                                                                make_idea, monkeypatch):
    idea = make_idea("Dark mode", author=personas["bob"])
    canonical = make_idea("Night theme", author=personas["bob"])
    auth.login("anna@example.com")
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET merged_into_id = :into WHERE id = :id",
                              into=canonical.id, id=idea.id)
    response = _vote(client, idea.id)
    assert response.status_code == 200, response.text
    assert response.json["id"] == canonical.id
    db.session.rollback()
    anna_votes = db.session.scalars(
        db.select(Vote.idea_id).where(Vote.user_id == personas["anna"].id)).all()
    assert anna_votes == [canonical.id]


def test_the_api_vote_reads_first_too(app, client, personas, make_idea, monkeypatch):
    from forum.accounts import tokens

    idea = make_idea("Dark mode", author=personas["bob"])
    secret = tokens.create_token(personas["anna"], "script").secret
    db.session.commit()
    # Its use recorded once now: the vote's own reading then writes nothing before its votes.
    assert client.get("/api/v1/ideas", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200
    shipped = services.find_status("shipped")
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET status_id = :status WHERE id = :id",
                              status=shipped.id, id=idea.id)
    db.session.rollback()
    response = client.post(f"/api/v1/ideas/{idea.id}/vote",
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 409, response.text
    db.session.rollback()
    assert services.count_votes(idea) == 1


def _board(slug: str, visibility: Visibility) -> Board:
    board = Board(slug=slug, name=slug.title(), visibility=visibility)
    db.session.add(board)
    db.session.commit()
    return board


def test_an_idea_hidden_meanwhile_is_not_found(client, auth, personas, make_idea,
                                               monkeypatch):
    idea = make_idea("Dark mode", author=personas["bob"])
    auth.login("anna@example.com")
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET hidden_at = :now WHERE id = :id",
                              now=datetime(2026, 11, 24, 8, 0), id=idea.id)
    response = _vote(client, idea.id)
    assert response.status_code == 404, response.text
    db.session.rollback()
    assert services.count_votes(idea) == 1


def test_an_idea_merged_meanwhile_into_one_this_person_cannot_see_is_not_found(
        client, auth, personas, make_idea, monkeypatch):
    idea = make_idea("Dark mode", author=personas["bob"])
    team = make_idea("Night theme (team notes)", author=personas["pam"],
                     board=_board("team", Visibility.STAFF))
    auth.login("anna@example.com")
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET merged_into_id = :into WHERE id = :id",
                              into=team.id, id=idea.id)
    response = _vote(client, idea.id)
    assert response.status_code == 404, response.text
    assert str(team.id) not in response.text
    db.session.rollback()
    assert db.session.scalars(
        db.select(Vote).where(Vote.user_id == personas["anna"].id)).all() == []


def test_a_public_webhook_hears_nothing_of_an_idea_moved_meanwhile_to_a_members_board(
        client, auth, personas, make_idea, monkeypatch):
    from forum.webhooks import services as webhooks
    from forum.webhooks.models import WebhookDelivery

    webhooks.create_endpoint(personas["ada"], name="Public", url="https://hooks.example.com/a",
                             events=["vote.created"], include_private=False)
    idea = make_idea("Dark mode", author=personas["bob"])
    members = _board("members", Visibility.MEMBERS)
    auth.login("anna@example.com")
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET board_id = :board WHERE id = :id",
                              board=members.id, id=idea.id)
    response = _vote(client, idea.id)
    assert response.status_code == 200 and response.json["votes"] == 2, response.text
    db.session.rollback()
    assert db.session.scalars(db.select(WebhookDelivery)).all() == []


def test_trending_meanwhile_is_added_to_not_overwritten(client, auth, personas, make_idea,
                                                        monkeypatch):
    idea = make_idea("Dark mode", author=personas["bob"])
    auth.login("anna@example.com")
    # As if a thousand votes had come in meanwhile: the score a vote adds to is the one read
    # under the lock.
    boosted = idea.trending_score + 10
    _between_reads_and_writes(monkeypatch,
                              "UPDATE ideas SET trending_score = :score WHERE id = :id",
                              score=boosted, id=idea.id)
    assert _vote(client, idea.id).status_code == 200
    db.session.rollback()
    assert db.session.get(Idea, idea.id).trending_score == pytest.approx(boosted, abs=1e-2)


def test_an_unvote_meanwhile_closed_is_refused_and_keeps_the_vote(client, auth, personas,
                                                                  make_idea, monkeypatch):
    idea = make_idea("Dark mode", author=personas["bob"])
    auth.login("anna@example.com")
    assert _vote(client, idea.id).status_code == 200
    shipped = services.find_status("shipped")
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET status_id = :status WHERE id = :id",
                              status=shipped.id, id=idea.id)
    response = _vote(client, idea.id, "unvote")
    assert response.status_code == 409, response.text
    db.session.rollback()
    assert services.count_votes(idea) == 2


def test_the_api_unvote_reads_first_too(client, personas, make_idea, monkeypatch):
    from forum.accounts import tokens

    idea = make_idea("Dark mode", author=personas["bob"])
    secret = tokens.create_token(personas["anna"], "script").secret
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.post(f"/api/v1/ideas/{idea.id}/vote", headers=headers).status_code == 200
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET vote_count = 41 WHERE id = :id",
                              id=idea.id)
    db.session.rollback()
    response = client.delete(f"/api/v1/ideas/{idea.id}/vote", headers=headers)
    assert response.status_code == 200 and response.json["votes"] == 40, response.text



def test_a_token_s_use_is_recorded_though_another_writer_committed_after_its_reading(
        client, personas, make_idea, monkeypatch):
    """The API reads the token, then records its use. In a vote, which reads first, recording
    it must queue for the write lock like any write: SQLite refuses a write in a deferred
    transaction that has read once another writer has committed since."""
    from forum.accounts import tokens
    from forum.accounts.models import ApiToken

    idea = make_idea("Dark mode", author=personas["bob"])
    made = tokens.create_token(personas["anna"], "script")
    db.session.commit()
    touch_due = tokens.touch_due

    def another_writer_meanwhile(token):
        # Between the reading of the token and the recording of its use: a comment elsewhere.
        with db.engine.connect() as other:
            other.execute(text("UPDATE ideas SET comment_count = comment_count + 1 "
                               "WHERE id = :id"), {"id": idea.id})
            other.commit()
        return touch_due(token)

    monkeypatch.setattr(tokens, "touch_due", another_writer_meanwhile)
    db.session.rollback()
    response = client.post(f"/api/v1/ideas/{idea.id}/vote",
                           headers={"Authorization": f"Bearer {made.secret}"})
    assert response.status_code == 200, response.text
    db.session.rollback()
    assert db.session.get(ApiToken, made.token.id).last_used_at is not None
