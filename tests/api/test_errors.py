"""One error shape for every failure, inside and outside the API's own views."""

import pytest

from forum.extensions import db
from forum.ideas.models import Idea

JSON = {"Accept": "application/json"}


def _is_error_shape(response, status, code):
    assert response.status_code == status
    assert response.is_json
    assert set(response.json) <= {"error", "message", "fields"}
    assert response.json["error"] == code and response.json["message"]


def test_unknown_api_paths_and_methods(client):
    _is_error_shape(client.get("/api/v1/nothing-here"), 404, "not_found")
    response = client.put("/api/v1/ideas")
    _is_error_shape(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_pages_answer_json_when_the_client_asks_for_it(client, app):
    _is_error_shape(client.get("/no/such/page", headers=JSON), 404, "not_found")
    _is_error_shape(client.put("/", headers=JSON), 405, "method_not_allowed")
    assert client.get("/no/such/page").content_type.startswith("text/html")


def test_server_errors_answer_json_when_asked(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/explode")
    def explode():
        raise RuntimeError("boom")

    response = client.get("/explode", headers=JSON)
    _is_error_shape(response, 500, "server_error")
    assert "boom" not in response.text
    assert client.get("/explode").content_type.startswith("text/html")


def test_server_errors_inside_the_api_use_the_shape(app, client, monkeypatch):
    from forum.api import views

    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(views.queries, "tags", broken)
    _is_error_shape(client.get("/api/v1/tags"), 500, "server_error")


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"{not json", "application/json", "not valid JSON"),
    (b"[1, 2]", "application/json", "JSON object"),
    (b"title=Hello", "application/x-www-form-urlencoded", "Content-Type"),
])
def test_malformed_bodies_are_400(client, as_, body, content_type, message):
    response = client.post("/api/v1/ideas", headers=as_["anna"], data=body,
                           content_type=content_type)
    _is_error_shape(response, 400, "bad_request")
    assert message in response.json["message"]


def test_too_large_bodies_are_413(client, as_, app):
    body = b'{"title": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'
    response = client.post("/api/v1/ideas", headers=as_["anna"], data=body,
                           content_type="application/json")
    _is_error_shape(response, 413, "too_large")
    assert db.session.scalar(db.select(db.func.count(Idea.id))) == 0


def test_invalid_fields_name_each_field(client, as_):
    response = client.post("/api/v1/ideas", headers=as_["anna"],
                           json={"title": 1, "body": "", "tags": [1]})
    _is_error_shape(response, 422, "invalid")
    assert set(response.json["fields"]) == {"title", "tags"}
