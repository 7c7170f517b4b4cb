"""Every page in French and Italian, with no English sentence left in it."""

from __future__ import annotations

import pytest

from forum.extensions import db
from forum.ideas import services
from tests.english import english_on_page

pytestmark = pytest.mark.any_database("translated pages render the same rows on either database")


@pytest.fixture
def pages(make_idea, personas):
    idea = make_idea("Mode sombre", "Trop lumineux le soir.", author=personas["anna"])
    services.post_comment(idea, personas["bob"], "Oui, s'il vous plaît !")
    services.change_status(idea, services.find_status("planned"), personas["pam"],
                           note="Prévu pour mars.")
    db.session.commit()
    return ["/", "/?sort=new", "/boards/general", f"/ideas/{idea.id}", "/signin", "/signup",
            f"/people/{personas['anna'].id}", "/ideas/999999"]


@pytest.mark.parametrize("locale", ["fr", "it"])
def test_no_english_left_on_any_page(client, auth, pages, locale):
    """The main pages, quickly; tests/web/test_i18n_pages.py goes through every page."""
    # The sign-in itself in that language too, for its flash message.
    client.set_cookie("locale", locale, domain="forum.test")
    for signed_in in (False, True):
        if signed_in:
            auth.login()
            pages = [*pages, "/ideas/new"]
        for path in pages:
            response = client.get(path, headers={"Accept-Language": locale})
            if response.status_code == 302:  # e.g. the sign-in page once signed in
                continue
            html = response.text
            assert f'<html lang="{locale}"' in html
            assert english_on_page(html, locale, USER_CONTENT) == [], path


USER_CONTENT = frozenset({"Mode sombre", "Trop lumineux le soir.", "Oui, s'il vous plaît !",
                          "Prévu pour mars."})


def test_the_switcher_remembers_the_choice(client):
    response = client.post("/language", data={"locale": "it"})
    assert "locale=it" in response.headers["Set-Cookie"]
    assert '<html lang="it"' in client.get("/").text


def test_a_signed_in_person_keeps_their_language(client, auth, personas):
    auth.login()
    client.post("/language", data={"locale": "fr"})
    db.session.expire_all()
    assert personas["anna"].locale == "fr"
    client.delete_cookie("locale")
    assert '<html lang="fr"' in client.get("/", headers={"Accept-Language": "it"}).text


def test_accept_language_then_default(client, app):
    assert '<html lang="it"' in client.get("/", headers={"Accept-Language": "it, en;q=0.5"}).text
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "de"}).text
    app.config["BABEL_DEFAULT_LOCALE"] = "fr"
    app.config["DEFAULT_LOCALE"] = "fr"
    assert '<html lang="fr"' in client.get("/", headers={"Accept-Language": "de"}).text
