"""Through the whole app: an idea written in French or Italian is detected as such when it is
indexed and analysed with that language's stemmer, so another form of its words finds it."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("title", "body", "query"), [
    ("Améliorer les notifications", "Les rappels arrivent trop tard.", "amélioration"),
    ("Améliorer les notifications", "Les rappels arrivent trop tard.", "rappel"),
    ("Miglioramenti delle notifiche", "I promemoria arrivano troppo tardi.", "notifica"),
    ("Miglioramenti delle notifiche", "I promemoria arrivano troppo tardi.", "miglioramento"),
])
def test_a_query_finds_an_idea_by_its_stem(client, make_idea, title, body, query):
    idea = make_idea(title, body)
    make_idea("Dark mode for the dashboard", "It is too bright at night.")
    page = client.get("/search", query_string={"q": query}).text
    assert f"/ideas/{idea.id}" in page
    assert "Dark mode" not in page
