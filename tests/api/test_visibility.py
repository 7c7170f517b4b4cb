"""Boards for members or staff only never leak through the API."""

import pytest

from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Board, Visibility


@pytest.fixture
def hidden(app, personas, make_idea):
    boards = {}
    for visibility in (Visibility.MEMBERS, Visibility.STAFF):
        board = Board(slug=f"{visibility.value}-only", name=visibility.value,
                      visibility=visibility)
        db.session.add(board)
        boards[visibility] = board
    db.session.commit()
    ideas = {v: make_idea(f"Secret {v.value} idea", author=personas["pam"], board=b)
             for v, b in boards.items()}
    for idea in ideas.values():
        services.post_comment(idea, personas["pam"], f"About {idea.title}")
        services.change_status(idea, services.find_status("planned"), personas["pam"])
    db.session.commit()
    return ideas


def _titles(response):
    return {i["title"] for i in response.json["items"]}


def test_anonymous_callers_see_no_hidden_board(client, hidden):
    assert _titles(client.get("/api/v1/ideas")) == set()
    assert {b["slug"] for b in client.get("/api/v1/boards").json} == {"general"}
    for idea in hidden.values():
        for path in ("", "/comments", "/history"):
            response = client.get(f"/api/v1/ideas/{idea.id}{path}")
            assert response.status_code == 404, path
            assert "Secret" not in response.text
    for slug in ("members-only", "staff-only"):
        response = client.get(f"/api/v1/ideas?board={slug}")
        # The same answer as for a board that does not exist.
        assert response.status_code == 422 and response.json == client.get(
            "/api/v1/ideas?board=nope").json | {"fields": {"board": f"No board called {slug!r}."}}


def test_members_see_members_boards_but_not_staff_boards(client, as_, hidden):
    members, staff = hidden[Visibility.MEMBERS], hidden[Visibility.STAFF]
    assert _titles(client.get("/api/v1/ideas", headers=as_["anna"])) == {members.title}
    assert client.get(f"/api/v1/ideas/{members.id}/comments", headers=as_["anna"]).status_code \
        == 200
    for path in ("", "/comments", "/history", "/vote"):
        method = client.post if path == "/vote" else client.get
        response = method(f"/api/v1/ideas/{staff.id}{path}", headers=as_["anna"])
        assert response.status_code == 404, path
    assert client.post(f"/api/v1/ideas/{staff.id}/comments", headers=as_["anna"],
                       json={"body": "hi"}).status_code == 404
    response = client.post("/api/v1/ideas", headers=as_["anna"],
                           json={"title": "Into the staff board", "body": "",
                                 "board": "staff-only"})
    assert response.status_code == 422 and set(response.json["fields"]) == {"board"}


def test_staff_see_every_board(client, as_, hidden):
    assert _titles(client.get("/api/v1/ideas", headers=as_["pam"])) == {
        i.title for i in hidden.values()}
    staff = hidden[Visibility.STAFF]
    history = client.get(f"/api/v1/ideas/{staff.id}/history", headers=as_["pam"]).json
    assert [h["to"] for h in history] == ["planned"]
