"""Every write is refused without a session; CSRF guards every form."""

import pytest

from forum import create_app

WRITE_ROUTES = [
    ("post", "/ideas/new"),
    ("get", "/ideas/new"),
    ("post", "/ideas/{id}/vote"),
    ("post", "/ideas/{id}/unvote"),
    ("post", "/ideas/{id}/comments"),
    ("post", "/ideas/{id}/follow"),
    ("get", "/ideas/{id}/edit"),
    ("post", "/ideas/{id}/edit"),
    ("get", "/me"),
]


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_anonymous_is_sent_to_sign_in(client, make_idea, method, path):
    idea = make_idea()
    response = getattr(client, method)(path.format(id=idea.id))
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]


@pytest.mark.parametrize(("method", "path"), [r for r in WRITE_ROUTES if r[0] == "post"])
def test_anonymous_json_clients_get_401(client, make_idea, method, path):
    idea = make_idea()
    response = client.post(path.format(id=idea.id), headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


@pytest.fixture
def csrf_client(app_config, personas):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    return app.test_client()


@pytest.mark.parametrize(
    "path",
    ["/signin", "/signup", "/signout", "/ideas/new", "/ideas/1/vote", "/ideas/1/unvote",
     "/ideas/1/comments", "/ideas/1/follow", "/ideas/1/edit", "/language"],
)
def test_every_form_needs_a_csrf_token(csrf_client, path):
    response = csrf_client.post(path, data={"title": "x", "email": "anna@example.com"})
    assert response.status_code == 400
    assert "This form had expired" in response.text
