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
