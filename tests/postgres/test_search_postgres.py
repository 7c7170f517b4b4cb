"""What the PostgreSQL search backend adds: stemming per language, websearch syntax, typos by
title trigrams, and the same visibility rules as everywhere (tests/postgres: PostgreSQL only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.extensions import db
from forum.ideas.models import Board, Visibility
from forum.search import IdeaDocument, service
from forum.search.postgres_backend import PostgresBackend

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def doc(id: int, title: str, body: str = "", *, language: str = "en", **fields) -> IdeaDocument:
    return IdeaDocument(id=id, title=title, body=body, language=language,
                        created_at=T0 + timedelta(days=id), board="general", status="open",
                        **fields)


IDEAS = [
    doc(1, "Tableaux de bord personnalisables",
        "Chaque équipe voudrait choisir les graphiques affichés.", language="fr"),
    doc(2, "Esportazione dei rapporti mensili", "Vorremmo esportare i rapporti in PDF.",
        language="it"),
    doc(3, "Dark mode for the dashboard", "The dashboard is too bright at night."),
    doc(4, "Dark theme for the mobile app", "Mobile screens need a dark palette too."),
    doc(5, "Export invoices as CSV", "Accounting imports the files into a spreadsheet."),
    doc(6, "Export reports as PDF", "Managers print the monthly reports."),
    doc(7, "Keyboard shortcuts", "Power users want shortcuts for voting."),
]


@pytest.fixture
def backend(database_url):
    found = PostgresBackend(database_url)
    found.index(IDEAS)
    yield found
    found.close()


def ids(page) -> list[int]:
    return [hit.id for hit in page.hits]


def test_the_database_selects_the_postgres_backend(app):
    assert app.config["SEARCH_BACKEND"] == "postgres"
    assert isinstance(service.backend(), PostgresBackend)


@pytest.mark.parametrize(("query", "expected"), [
    ("tableau personnalisable", 1),      # French singulars find the French plurals
    ("graphique", 1),
    ("équipes", 1),
    ("esportare rapporto", 2),           # Italian verb and singular
    ("mensile", 2),
    ("exporting invoice", 5),            # English
])
def test_each_language_is_stemmed_with_its_own_rules(backend, query, expected):
    assert ids(backend.search(query)) == [expected]


def test_the_tsvector_is_built_in_the_ideas_language(backend, database_url):
    with db.create_engine(database_url).connect() as conn:
        lexemes = conn.execute(db.text(
            "SELECT language, tsvector_to_array(prose) FROM search_documents "
            "WHERE idea_id IN (1, 2, 3) ORDER BY idea_id")).all()
    assert [lang for lang, _ in lexemes] == ["fr", "it", "en"]
    assert "tableau" in lexemes[0][1] and "personnalis" in lexemes[0][1]   # french_stem
    assert "rapport" in lexemes[1][1]                                       # italian_stem
    assert "dashboard" in lexemes[2][1] and "the" not in lexemes[2][1]      # english stop list


def test_websearch_syntax_quotes_exclusion_and_or(backend):
    assert set(ids(backend.search("dark"))) == {3, 4}
    assert ids(backend.search("dark -mobile")) == [3]
    assert ids(backend.search('"dark theme"')) == [4]
    assert ids(backend.search('"theme dark"')) == []
    assert set(ids(backend.search("csv or pdf"))) == {2, 5, 6}  # the Italian idea says PDF
    assert set(ids(backend.search("export -invoices"))) == {6}


def test_typos_find_titles_through_trigrams(backend):
    assert ids(backend.search("keybord"))[:1] == [7]
    assert ids(backend.search("dashbord"))[:1] == [3]
    assert backend.search("zzqx wvvy").total == 0


def test_ranking_puts_title_matches_and_fuller_matches_first(backend):
    backend.index([doc(8, "Monthly newsletter", "Include the invoices we export to CSV.")])
    assert ids(backend.search("invoices"))[:2] == [5, 8]       # title before body
    assert ids(backend.search("export csv invoices"))[0] == 5   # every word, in the title


def test_search_and_similar_never_show_hidden_boards_or_hidden_ideas(client, auth, make_idea,
                                                                      personas):
    secret = Board(slug="internal", name="Internal", visibility=Visibility.STAFF)
    db.session.add(secret)
    db.session.commit()
    make_idea("Acquire the competitor Zenith", board=secret)
    hidden = make_idea("Zenith merger rumours")
    hidden.hidden_at = hidden.created_at
    db.session.commit()
    for person in (None, "fred@example.com"):
        if person:
            auth.login(person)
        assert "Zenith" not in client.get("/search?q=zenith").get_data(as_text=True)
        assert "Zenith" not in client.get("/search?q=zenit").get_data(as_text=True)  # typo path
        assert client.get("/similar?title=acquire zenith").get_json() == []
    auth.logout()
    auth.login("pam@example.com")
    page = client.get("/search?q=zenith").get_data(as_text=True)
    assert "Acquire the competitor <mark>Zenith</mark>" in page
    assert "merger rumours" not in page


def test_other_processes_see_writes_in_similar(backend, database_url):
    other = PostgresBackend(database_url)  # e.g. a web worker on another host
    try:
        assert other.similar("Keyboard shortcuts please")[0][0] == 7
        backend.remove([7])
        backend.index([doc(9, "Shortcuts on the keyboard for power users")])
        assert [i for i, _ in other.similar("Keyboard shortcuts please")][:1] == [9]
        assert 7 not in dict(other.similar("Keyboard shortcuts please", limit=20))
    finally:
        other.close()


def test_reindex_and_check_work_on_the_table(runner, make_idea, no_drift):
    idea = make_idea("Webhooks when a status changes")
    db.session.execute(db.text("DELETE FROM search_documents"))
    db.session.commit()
    result = runner.invoke(args=["forum", "check"])
    assert result.exit_code == 1 and f"idea {idea.id}: missing" in result.output
    assert runner.invoke(args=["forum", "reindex"]).exit_code == 0
    assert [hit.id for hit in service.backend().search("webhooks").hits] == [idea.id]
