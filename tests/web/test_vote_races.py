"""A vote reads the person and the idea first and takes SQLite's write lock only for its writes
(forum.dbtuning.reads_first), so that voters wait for each other's writes and not for each
other's reads. What another request commits in between must still decide the vote: these
tests commit it at exactly that moment, from another connection."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from forum import dbtuning
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Idea, Vote


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
    shipped = services.find_status("shipped")
    _between_reads_and_writes(monkeypatch, "UPDATE ideas SET status_id = :status WHERE id = :id",
                              status=shipped.id, id=idea.id)
    db.session.rollback()
    response = client.post(f"/api/v1/ideas/{idea.id}/vote",
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 409, response.text
    db.session.rollback()
    assert services.count_votes(idea) == 1
