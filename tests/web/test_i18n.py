"""Every page in French and Italian, with no English sentence left in it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from forum.extensions import db
from forum.ideas import services
from tests.unit.test_translations import source_messages

# Words that are the same in every language here, or names.
ALLOWED = {"email", "password", "markdown", "feedback", "team", "pages", "page", "votes", "top",
           "vote", "notes", "ok", "api", "roadmap", "csv", "token",
           "account"}
# Common English words that are not also French or Italian words.
ENGLISH_WORDS = re.compile(r"\b(the|and|your|you|with|this|that|are|has|have|will|please|"
                           r"sign in|sign up|vote for|yet|here|by)\b", re.I)


class VisibleText(HTMLParser):
    """Collects text a person reads (and attributes a screen reader reads)."""

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt") and value:
                self.chunks.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.chunks.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.chunks


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
    english = {m for m in source_messages() if len(m.split()) >= 1}
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
            for chunk in visible_text(html):
                words = chunk.lower()
                if words in ALLOWED or chunk in ("Anna", "Bob", "Pam", "Feedback"):
                    continue
                assert chunk not in english, f"{path} [{locale}]: untranslated {chunk!r}"
                assert not ENGLISH_WORDS.search(chunk) or _is_user_content(chunk), (
                    f"{path} [{locale}]: English in {chunk!r}")


def _is_user_content(chunk: str) -> bool:
    return chunk in {"Mode sombre", "Trop lumineux le soir.", "Oui, s'il vous plaît !",
                     "Prévu pour mars."}


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
