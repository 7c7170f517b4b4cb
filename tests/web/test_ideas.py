import pytest

from forum.extensions import db
from forum.ideas.models import Board, Idea, Visibility


def test_posting_an_idea_casts_the_authors_vote(client, auth, personas, no_drift):
    auth.login()
    response = client.post("/ideas/new", data={"title": "Export tasks to CSV",
                                               "body": "For our **monthly** report.",
                                               "board": 1})
    assert response.status_code == 302
    idea = db.session.scalar(db.select(Idea))
    assert response.headers["Location"].endswith(f"/ideas/{idea.id}")
    assert idea.vote_count == 1
    page = client.get(f"/ideas/{idea.id}").text
    assert "<strong>monthly</strong>" in page
    assert 'aria-pressed="true"' in page


@pytest.mark.parametrize(
    ("title", "message"),
    [("", "This field is required."), ("ab", "at least 3"), ("x" * 121, "at most 120")],
)
def test_bad_titles_are_refused_with_the_text_kept(client, auth, personas, title, message):
    auth.login()
    response = client.post("/ideas/new", data={"title": title, "body": "My long explanation",
                                               "board": 1})
    assert response.status_code == 422
    assert message in response.text
    assert "My long explanation" in response.text
    assert db.session.scalar(db.select(db.func.count(Idea.id))) == 0


def test_the_honeypot_silently_drops_bot_posts(client, auth, personas):
    auth.login()
    response = client.post("/ideas/new", data={"title": "Buy cheap pills", "body": "",
                                               "board": 1, "website": "http://spam.example"})
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Idea.id))) == 0


def test_markdown_is_rendered_safely(client, make_idea):
    idea = make_idea("Safe", body='<script>alert("x")</script> [a](javascript:alert(1))')
    page = client.get(f"/ideas/{idea.id}").text
    assert '<script>alert("x")</script>' not in page
    assert "href=\"javascript" not in page


def test_author_can_edit_until_staff_acts(client, auth, personas, make_idea):
    idea = make_idea("Dark mode", author=personas["anna"])
    auth.login()
    response = client.post(f"/ideas/{idea.id}/edit", data={"title": "Dark mode please",
                                                           "body": "", "board": 1})
    assert response.status_code == 302
    assert db.session.get(Idea, idea.id).title == "Dark mode please"
    from forum.ideas import services

    services.post_comment(idea, personas["pam"], "We are looking into it.")
    db.session.commit()
    assert client.get(f"/ideas/{idea.id}/edit").status_code == 403


def test_other_people_cannot_edit(client, auth, personas, make_idea):
    idea = make_idea("Dark mode", author=personas["anna"])
    auth.login("fred@example.com")
    assert client.post(f"/ideas/{idea.id}/edit",
                       data={"title": "Hacked", "body": "", "board": 1}).status_code == 403
    assert db.session.get(Idea, idea.id).title == "Dark mode"


def test_list_sorts(client, make_idea, personas):
    from forum.ideas import services

    old = make_idea("Older but popular")
    new = make_idea("Brand new")
    for voter in ("bob", "fred", "pam"):
        services.cast_vote(old, personas[voter])
    db.session.commit()
    top = client.get("/?sort=top").text
    assert top.index("Older but popular") < top.index("Brand new")
    newest = client.get("/?sort=new").text
    assert newest.index("Brand new") < newest.index("Older but popular")
    assert client.get("/?sort=trending").status_code == 200
    assert client.get("/?sort=activity").status_code == 200
    assert client.get("/?sort=nonsense").status_code == 200  # falls back to top
    assert new.id


def test_pagination(client, make_idea, app):
    app.config["IDEAS_PER_PAGE"] = 3
    for n in range(7):
        make_idea(f"Idea number {n}")
    first = client.get("/?sort=new").text
    assert "Page 1 of 3" in first and "Idea number 6" in first and "Idea number 3" not in first
    third = client.get("/?sort=new&page=3").text
    assert "Idea number 0" in third
    assert client.get("/?page=abc").status_code == 200


def test_empty_board_has_a_clear_empty_state(client):
    assert "No ideas here yet." in client.get("/").text


def test_board_pages_and_private_boards(client, auth, personas, make_idea):
    members = Board(slug="beta", name="Beta", visibility=Visibility.MEMBERS)
    staff = Board(slug="internal", name="Internal", visibility=Visibility.STAFF)
    db.session.add_all([members, staff])
    db.session.commit()
    secret = make_idea("Secret roadmap item", board=staff)
    beta = make_idea("Beta feature", board=members)
    assert client.get("/boards/general").status_code == 200
    assert client.get("/boards/beta").status_code == 404
    assert "Beta feature" not in client.get("/").text
    assert client.get(f"/ideas/{beta.id}").status_code == 404
    auth.login()
    assert "Beta feature" in client.get("/").text
    assert "Secret roadmap item" not in client.get("/").text
    assert client.get(f"/ideas/{secret.id}").status_code == 404
    auth.logout()
    auth.login("pam@example.com")
    assert "Secret roadmap item" in client.get("/boards/internal").text


def test_unknown_idea_is_a_friendly_404(client):
    response = client.get("/ideas/424242")
    assert response.status_code == 404
    assert "Page not found" in response.text or "No idea with that number" in response.text
