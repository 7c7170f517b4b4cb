"""Error pages in the reader's language (400, 403, 404, 405, 413, 429, 500), and the JSON API,
which answers in English whatever Accept-Language says (README, "JSON API")."""

from __future__ import annotations

import pytest

from forum import create_app
from tests.english import english_on_page


@pytest.mark.parametrize("locale", ["fr", "it"])
def test_error_pages_speak_the_readers_language(app, client, locale):
    @app.route("/boom")
    def boom():
        raise RuntimeError("a bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    headers = {"Accept-Language": locale}
    answers = {
        404: client.get("/nowhere", headers=headers),
        405: client.get("/signout", headers=headers),
        400: client.get("/?q=%00", headers=headers),
        413: client.post("/signin", data={"email": "x" * (2 * 1024 * 1024)}, headers=headers),
        500: client.get("/boom", headers=headers),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert f'<html lang="{locale}"' in response.text
        assert english_on_page(response.text, locale) == [], status


@pytest.mark.parametrize("locale", ["fr", "it"])
def test_the_rate_limit_page_speaks_the_readers_language(app_config, locale):
    app = create_app({**app_config, "RATELIMIT_ENABLED": True, "SIGNUP_RATE_LIMIT": "1 per hour"})
    with app.app_context():
        client = app.test_client()
        for n in range(2):
            response = client.post("/signup", data={"email": f"p{n}@example.com", "name": "P",
                                                    "password": "correct horse battery"},
                                   headers={"Accept-Language": locale})
            client.post("/signout")
    assert response.status_code == 429
    assert english_on_page(response.text, locale) == []
    assert {"fr": "1 tentative par 1\u00a0heure", "it": "1 tentativo ogni 1 ora"}[locale] \
        in response.text


def test_the_api_answers_in_english(client):
    response = client.get("/api/v1/ideas/999999", headers={"Accept-Language": "fr"})
    assert response.status_code == 404 and response.json["error"] == "not_found"
    assert english_on_page(f"<p>{response.json['message']}</p>", "fr")
    docs = client.get("/api/v1/docs", headers={"Accept-Language": "fr"})
    assert '<html lang="fr"' in docs.text, "the reference page is for people"
