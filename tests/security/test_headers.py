"""The hardening headers on every answer: pages, redirects, error pages, JSON and files."""

from __future__ import annotations

import pytest
from flask import abort

from forum import create_app
from tests.conftest import IsolatedClient
from tests.security.conftest import rules_with, sample_path, sign_in_as

pytestmark = pytest.mark.any_database("headers are added after the view, whatever the database")


def assert_hardened(response, where: str) -> None:
    headers = response.headers
    csp = {d.split()[0]: d.split()[1:] for d in
           (part.strip() for part in headers.get("Content-Security-Policy", "").split(";")) if d}
    assert csp, f"{where}: no Content-Security-Policy"
    assert csp["script-src"] == ["'self'"], f"{where}: script-src {csp['script-src']}"
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"], where
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"], where
    assert csp["form-action"] == ["'self'"], where
    assert not any("unsafe" in value for values in csp.values() for value in values), where
    assert headers["X-Content-Type-Options"] == "nosniff", where
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", where
    assert headers["X-Frame-Options"] == "DENY", where


@pytest.mark.parametrize("persona", ["anonymous", "staff"])
def test_every_get_route_is_hardened(app, world, persona):
    client = sign_in_as(app.test_client(), world.people[persona])
    checked = 0
    for rule in rules_with(app, {"GET"}):
        path = sample_path(rule, world)
        for accept in ("text/html", "application/json"):
            with client.get(path, headers={"Accept": accept}) as response:
                assert response.status_code < 500, path
                assert_hardened(response, f"GET {path} ({accept})")
                checked += 1
    assert checked >= 20


def test_error_pages_and_json_errors_are_hardened(app, world, client_as):
    client = client_as("staff")
    idea = world.ideas["public"]
    cases = [
        ("GET", "/no/such/page", {}, 404),
        ("GET", "/signout", {}, 405),
        ("GET", "/language", {"headers": {"Accept": "application/json"}}, 405),
        ("POST", "/signin", {"data": {"email": "x" * 2_000_000}}, 413),
        ("POST", f"/ideas/{idea.id}/follow", {"data": {"level": "loud"}}, 400),
        ("POST", f"/ideas/{idea.id}/vote", {"headers": {"Accept": "application/json"}}, 200),
        ("GET", "/ideas/999999", {"headers": {"Accept": "application/json"}}, 404),
    ]
    for method, path, kwargs, status in cases:
        response = client.open(path, method=method, **kwargs)
        assert response.status_code == status, (path, response.status_code)
        assert_hardened(response, f"{method} {path} -> {status}")


def test_a_server_error_page_is_hardened_and_says_nothing_internal(app_config):
    app = create_app({**app_config, "PROPAGATE_EXCEPTIONS": False})
    app.test_client_class = IsolatedClient

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret stack detail")

    @app.get("/teapot")
    def teapot():
        abort(418)

    client = app.test_client()
    for accept in ("text/html", "application/json"):
        response = client.get("/boom", headers={"Accept": accept})
        assert response.status_code == 500
        assert "secret stack detail" not in response.text and "Traceback" not in response.text
        assert_hardened(response, f"500 ({accept})")
    assert_hardened(client.get("/teapot"), "418")


def test_over_https_browsers_are_told_to_stay_on_https(app_config):
    app = create_app({**app_config, "BASE_URL": "https://feedback.example.com"})
    response = app.test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = create_app(app_config).test_client().get("/")
    assert "Strict-Transport-Security" not in plain.headers
