import pytest

from forum import create_app
from forum.extensions import limiter


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_inline_script_in_pages(client, make_idea):
    idea = make_idea()
    for path in ("/", f"/ideas/{idea.id}", "/signin", "/signup"):
        html = client.get(path).text
        assert "<script>" not in html and " onclick=" not in html


def test_json_clients_get_the_error_shape(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert set(response.json) == {"error", "message"} and response.json["error"] == "not_found"


def test_too_large_bodies_are_refused(client, app):
    response = client.post("/signin", data={"email": "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)})
    assert response.status_code == 413


@pytest.mark.parametrize(("proxies", "separate"), [(1, True), (0, False)])
def test_rate_limits_count_each_client_behind_a_trusted_balancer(app_config, proxies, separate):
    # Behind a balancer every request comes from its address; trusting its X-Forwarded-For
    # gives each client its own quota, and without trust a forged header buys nothing.
    app = create_app({**app_config, "RATELIMIT_ENABLED": True, "TRUSTED_PROXIES": proxies})
    app.add_url_rule("/limited", "limited", limiter.limit("1/minute")(lambda: "ok"))
    client = app.test_client()
    balancer = {"REMOTE_ADDR": "10.0.0.2"}
    first = client.get("/limited", headers={"X-Forwarded-For": "203.0.113.1"},
                       environ_base=balancer)
    second = client.get("/limited", headers={"X-Forwarded-For": "203.0.113.2"},
                        environ_base=balancer)
    assert first.status_code == 200
    assert second.status_code == (200 if separate else 429)


@pytest.mark.parametrize(("method", "path", "data"), [
    ("post", "/signin", {"email": "anna\x00@example.com", "password": "x"}),
    ("post", "/signup", {"email": "new@example.com", "name": "N\x00", "password": "long enough"}),
    ("get", "/?sort=top\x00", None),
    ("get", "/boards/general%00", None),
])
def test_nul_characters_are_refused_as_malformed(client, personas, method, path, data):
    # PostgreSQL cannot store or compare them; SQLite would take them: refused on both alike.
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 400


def test_nul_characters_in_json_are_refused(client, auth, personas, make_idea):
    idea = make_idea()
    auth.login()
    response = client.post(f"/ideas/{idea.id}/vote", data='{"note": "a\\u0000b"}',
                           headers={"Accept": "application/json",
                                    "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"


def test_json_may_mention_the_escape_itself(client, auth, personas, make_idea):
    idea = make_idea()
    auth.login()
    response = client.post(f"/ideas/{idea.id}/vote", data='{"note": "strip \\\\u0000 please"}',
                           headers={"Accept": "application/json",
                                    "Content-Type": "application/json"})
    assert response.status_code == 200
