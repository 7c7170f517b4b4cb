"""The browser session works on the API, with the X-CSRFToken header on writes."""

import re

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def _csrf(client, path="/signin") -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).text).group(1)


@pytest.fixture
def signed_in(client, personas):
    response = client.post("/signin", data={"email": "anna@example.com", "password": PASSWORD,
                                            "csrf_token": _csrf(client)})
    assert response.status_code == 302
    return _csrf(client, "/")


def test_session_reads_need_no_header(client, signed_in, make_idea):
    idea = make_idea()
    assert client.get(f"/api/v1/ideas/{idea.id}").json["voted"] is False


def test_session_writes_need_the_csrf_header(client, signed_in, make_idea):
    idea = make_idea()
    refused = client.post(f"/api/v1/ideas/{idea.id}/vote")
    assert refused.status_code == 400
    assert refused.json["error"] == "bad_request" and "CSRF" in refused.json["message"]
    wrong = client.post(f"/api/v1/ideas/{idea.id}/vote", headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 400
    assert client.get(f"/api/v1/ideas/{idea.id}").json["votes"] == 1
    accepted = client.post(f"/api/v1/ideas/{idea.id}/vote", headers={"X-CSRFToken": signed_in})
    assert accepted.status_code == 200, accepted.json
    assert accepted.json == {"voted": True, "votes": 2}
    created = client.post("/api/v1/ideas", headers={"X-CSRFToken": signed_in},
                          json={"title": "From the browser", "body": ""})
    assert created.status_code == 201 and created.json["author"]["name"] == "Anna"


def test_bearer_writes_need_no_csrf_header(client, as_, make_idea):
    idea = make_idea()
    response = client.post(f"/api/v1/ideas/{idea.id}/vote", headers=as_["bob"])
    assert response.status_code == 200


def test_anonymous_writes_are_unauthenticated_not_forged(client, make_idea):
    idea = make_idea()
    assert client.post(f"/api/v1/ideas/{idea.id}/vote").status_code == 401


def test_html_forms_still_need_their_csrf_field(client, signed_in, make_idea):
    idea = make_idea()
    assert client.post(f"/ideas/{idea.id}/vote").status_code == 400
