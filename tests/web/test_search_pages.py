"""The search page and the similar-ideas endpoint, as a person (or the browser) uses them."""

from __future__ import annotations

import threading

import pytest

from forum.extensions import db
from forum.ideas import merging
from forum.ideas import services as ideas
from forum.ideas.models import Board, Visibility
from forum.search import service


def titles(response) -> str:
    return response.get_data(as_text=True)


def test_the_header_links_to_search(client):
    assert 'href="/search"' in titles(client.get("/"))


def test_search_finds_highlights_and_filters(client, make_idea, personas, general):
    make_idea("Export reports to PDF", "Monthly reports for the board meeting.")
    make_idea("Share reports by link")
    planned = make_idea("Report scheduling by email")
    ideas.change_status(planned, ideas.find_status("planned"), personas["pam"])
    db.session.commit()
    page = titles(client.get("/search?q=reports"))
    assert "3 ideas found" in page
    assert "<mark>Reports</mark>" in page or "<mark>reports</mark>" in page
    page = titles(client.get("/search?q=reports&status=planned"))
    assert "1 idea found" in page and "scheduling by email" in page
    assert "No ideas match" in titles(client.get("/search?q=reports&status=declined"))


def test_search_paginates(app, client, make_idea):
    app.config["IDEAS_PER_PAGE"] = 2
    for n in range(5):
        make_idea(f"Integration number {n} with the calendar")
    first = titles(client.get("/search?q=calendar"))
    assert "5 ideas found" in first and "Page 1 of 3" in first
    assert "Page 3 of 3" in titles(client.get("/search?q=calendar&page=3"))


def test_no_results_is_a_clear_state(client, make_idea):
    make_idea()
    response = client.get("/search?q=xylophone")
    assert response.status_code == 200
    assert "No ideas match your search." in titles(response)


@pytest.mark.parametrize("query", ['"', "(", "AND OR NOT", "title:", "*", "a" * 500, "[x TO",
                                   "%", "\\", "😀", "<script>alert(1)</script>"])
def test_malformed_queries_never_error(client, make_idea, query):
    make_idea()
    response = client.get("/search", query_string={"q": query, "sort": "bogus", "page": "x"})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in titles(response)


def test_french_and_italian_queries_find_their_stemmed_forms(client, make_idea):
    french = make_idea("Améliorations des notifications par courriel",
                       "Les notifications arrivent trop tard.")
    italian = make_idea("Esportazione dei rapporti in formato PDF", "Vorrei esportare i dati.")
    page = titles(client.get("/search?q=amélioration notification"))
    assert f"/ideas/{french.id}/" in page
    assert f"/ideas/{french.id}/" in titles(client.get("/search?q=ameliorer"))  # no accent
    page = titles(client.get("/search?q=esportare rapporto"))
    assert f"/ideas/{italian.id}/" in page and f"/ideas/{french.id}/" not in page


def test_typos_and_hyphens_still_find_the_idea(client, make_idea):
    idea = make_idea("Notification settings per project", "Choose which e-mails arrive.")
    dark = make_idea("Dark-mode for the dashboard", "")
    assert f"/ideas/{idea.id}/" in titles(client.get("/search?q=notifcation settings"))
    assert f"/ideas/{dark.id}/" in titles(client.get("/search?q=dark mode"))
    found = client.get("/similar?title=notifcation setings").get_json()
    assert [item["id"] for item in found][:1] == [idea.id]
    assert client.get("/similar?title=darkmode dashboard").get_json()[0]["id"] == dark.id


def test_hidden_boards_never_leak(client, auth, make_idea, personas):
    secret = Board(slug="roadmap-internal", name="Internal", visibility=Visibility.STAFF)
    db.session.add(secret)
    db.session.commit()
    make_idea("Acquire the competitor Zenith", board=secret)
    assert "Zenith" not in titles(client.get("/search?q=zenith"))
    assert "Zenith" not in titles(client.get("/search?q=zenith&board=roadmap-internal"))
    assert client.get("/similar?title=acquire zenith").get_json() == []
    auth.login("fred@example.com")
    assert "Zenith" not in titles(client.get("/search?q=zenith"))
    auth.logout()
    auth.login("pam@example.com")
    assert "Zenith" in titles(client.get("/search?q=zenith"))
    assert client.get("/similar?title=acquire zenith").get_json()[0]["title"] == (
        "Acquire the competitor Zenith")


def test_similar_answers_the_contract_shape_and_leaves_merged_ideas_out(client, make_idea,
                                                                       personas):
    canonical = make_idea("Single sign-on with SAML", "Okta and Azure AD.")
    duplicate = make_idea("SAML single sign on support")
    merging.merge_ideas(duplicate, canonical, personas["pam"])
    db.session.commit()
    items = client.get("/similar?title=SAML sign-on&limit=5").get_json()
    assert [item["id"] for item in items] == [canonical.id]
    item = items[0]
    assert {"id", "title", "status", "votes", "score", "url"} <= set(item)
    assert item["status"] == "open" and item["votes"] == 2
    assert item["url"].endswith(f"/ideas/{canonical.id}")
    assert client.get("/similar").get_json() == []
    assert client.get("/similar?title=x&limit=abc").status_code == 200


def test_vote_for_this_instead_votes_and_goes_there_without_js(client, auth, make_idea,
                                                              personas, general, no_drift):
    other = make_idea("Recurring invoices", author=personas["bob"])
    auth.login("anna@example.com")
    page = titles(client.post("/ideas/new", data={"title": "Recurring invoice support",
                                                  "body": "", "board": general.id,
                                                  "check": "1"}))
    assert "Recurring invoices" in page and "Vote for this instead" in page
    assert ideas.count_votes(other) == 1  # nothing posted, nothing voted yet
    # ?from=similar: the insights count the ideas picked instead of a duplicate.
    action = f"/ideas/{other.id}/vote?next=/ideas/{other.id}&from=similar"
    assert f'formaction="{action}"' in page.replace("&amp;", "&").replace("%2F", "/")
    response = client.post(f"/ideas/{other.id}/vote", query_string={"next": f"/ideas/{other.id}"},
                           data={"title": "Recurring invoice support", "board": general.id})
    assert response.status_code == 302 and response.location.endswith(f"/ideas/{other.id}")
    db.session.refresh(other)
    assert other.vote_count == 2
    assert db.session.scalar(db.select(db.func.count()).select_from(
        db.select(ideas.Idea).where(ideas.Idea.title == "Recurring invoice support").subquery()
    )) == 0


def test_the_new_idea_form_has_the_live_suggestion_box(client, auth, personas):
    auth.login("anna@example.com")
    page = titles(client.get("/ideas/new"))
    assert "data-similar-url=\"/similar\"" in page and 'aria-live="polite"' in page
    assert "js/similar.js" in page


def test_related_ideas_on_the_idea_page(client, make_idea, personas):
    idea = make_idea("Slack integration for new ideas")
    related = make_idea("Post new ideas to a Slack channel")
    merged = make_idea("Slack notifications when ideas are posted")
    make_idea("Invoices in PDF")
    merging.merge_ideas(merged, related, personas["pam"])
    db.session.commit()
    page = titles(client.get(f"/ideas/{idea.id}"))
    assert "Related ideas" in page and "Post new ideas to a Slack channel" in page
    assert "Slack notifications when ideas are posted" not in page  # merged: left out
    assert "Invoices in PDF" not in page


def test_a_fresh_process_answers_idea_pages_before_its_ranker_is_built(app, client, make_idea,
                                                                       monkeypatch):
    """At 100,000 ideas a process's first ranker build takes seconds: the idea page goes out
    without related ideas meanwhile, and has them once the background build is done."""
    idea = make_idea("Slack integration for new ideas")
    make_idea("Post new ideas to a Slack channel")
    db.session.commit()
    found = service.backend(app)
    assert not found._ranker_built().is_set()
    release = threading.Event()
    build = found._sync_ranker

    def slow_build() -> None:
        release.wait(10)
        build()

    monkeypatch.setattr(found, "_sync_ranker", slow_build)
    monkeypatch.setattr(service, "RELATED_WARM_UP_WAIT", 0.05)
    page = titles(client.get(f"/ideas/{idea.id}"))
    assert "Slack integration for new ideas" in page
    assert "Post new ideas to a Slack channel" not in page
    release.set()
    assert found.warm_up(wait=5)
    page = titles(client.get(f"/ideas/{idea.id}"))
    assert "Related ideas" in page and "Post new ideas to a Slack channel" in page


def test_filters_alone_list_the_most_wanted_first(client, make_idea, personas):
    quiet = make_idea("Quiet idea")
    wanted = make_idea("Wanted idea")
    for voter in ("bob", "fred"):
        ideas.cast_vote(wanted, personas[voter])
    db.session.commit()
    page = titles(client.get("/search?status=open"))
    assert "2 ideas found" in page
    assert page.index(f"/ideas/{wanted.id}/") < page.index(f"/ideas/{quiet.id}/")


def test_an_idea_page_survives_a_broken_index(client, make_idea, monkeypatch):
    idea = make_idea("Import ideas from a spreadsheet")

    def broken(*args, **kwargs):
        raise OSError("index files are gone")

    monkeypatch.setattr(service.backend(), "similar", broken)
    response = client.get(f"/ideas/{idea.id}")
    assert response.status_code == 200 and "Import ideas from a spreadsheet" in titles(response)
    assert "Related ideas" not in titles(response)
