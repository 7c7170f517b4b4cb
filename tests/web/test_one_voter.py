"""On SQLite the votes of one process take turns (forum.dbtuning.reads_first): they queue for
the database's one write lock anyway, and a voter holding it shared the interpreter with the
others' reads. Other writes do not wait for them, and a vote that fails lets the next one go."""

from __future__ import annotations

import threading
import time

import pytest

from forum import dbtuning
from forum.accounts import tokens
from forum.extensions import db
from forum.ideas import services
from tests.conftest import PASSWORD

pytestmark = pytest.mark.sqlite_only("one vote at a time per process is for SQLite's one lock")
JSON = {"Accept": "application/json"}


@pytest.fixture(autouse=True)
def _turn_given_back():
    yield
    # A turn kept after a test would hang every later vote of the run instead of failing it.
    assert not dbtuning._one_voter.locked()


def _signed_in(app, email: str):
    client = app.test_client()
    client.post("/signin", data={"email": email, "password": PASSWORD})
    return client


def _started(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_votes_of_one_process_take_turns_and_other_writes_do_not_wait(app, personas, make_idea,
                                                                      monkeypatch):
    first = make_idea("Dark mode", author=personas["bob"]).id
    second = make_idea("CSV export", author=personas["bob"]).id
    entered: list[int] = []
    release = threading.Event()
    cast_vote = services.cast_vote

    def held_open(idea, voter, **kwargs):
        entered.append(idea.id)
        if idea.id == first:
            assert release.wait(10)
        return cast_vote(idea, voter, **kwargs)

    monkeypatch.setattr(services, "cast_vote", held_open)
    anna, bob = _signed_in(app, "anna@example.com"), _signed_in(app, "bob@example.com")
    # The second voter comes through the JSON API, whose vote takes its turn the same way.
    fred = {"Authorization": f"Bearer {tokens.create_token(personas['fred'], 'test').secret}"}
    db.session.commit()
    api = app.test_client()
    answers = {}
    voting = []
    try:
        voting.append(_started(lambda: answers.update(
            anna=anna.post(f"/ideas/{first}/vote", headers=JSON))))
        deadline = time.monotonic() + 10
        while not entered and time.monotonic() < deadline:
            time.sleep(0.01)
        assert entered == [first]
        voting.append(_started(lambda: answers.update(
            fred=api.post(f"/api/v1/ideas/{second}/vote", headers=fred))))
        time.sleep(0.3)
        assert entered == [first], "the second vote began while the first was under way"
        # A comment is a write too, and does not wait for the votes.
        commenting = _started(lambda: answers.update(
            bob=bob.post(f"/ideas/{second}/comments", data={"body": "Same here."})))
        commenting.join(10)
        assert not commenting.is_alive(), "the comment waited for the votes"
        assert answers["bob"].status_code == 302, answers["bob"].text
        assert "fred" not in answers
    finally:
        release.set()
        for thread in voting:
            thread.join(10)
    assert entered == [first, second]
    assert answers["anna"].json["votes"] == 2
    assert answers["fred"].status_code in (200, 201), answers["fred"].text
    db.session.rollback()
    assert services.count_votes(services.get_visible_idea(second, None)) == 2


def test_a_vote_refused_lets_the_next_one_go(app, client, auth, personas, make_idea):
    idea = make_idea("Dark mode", author=personas["bob"])
    shipped = make_idea("Gantt chart", author=personas["bob"])
    services.change_status(shipped, services.find_status("shipped"), personas["pam"])
    db.session.commit()
    assert client.post(f"/ideas/{idea.id}/vote", headers=JSON).status_code == 401  # signed out
    assert not dbtuning._one_voter.locked()
    auth.login("anna@example.com")
    assert client.post("/ideas/999999/vote", headers=JSON).status_code == 404
    assert not dbtuning._one_voter.locked()
    assert client.post(f"/ideas/{shipped.id}/vote", headers=JSON).status_code == 409
    assert not dbtuning._one_voter.locked()
    assert client.post(f"/ideas/{idea.id}/vote", headers=JSON).json["votes"] == 2
    assert not dbtuning._one_voter.locked()
