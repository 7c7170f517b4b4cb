"""What makes pages quick to show and pleasant to share: head tags, assets, dates."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from forum.extensions import db
from forum.ideas import services

STATIC = Path(__file__).resolve().parents[2] / "static"
CSS_BUDGET = 30 * 1024


class Head(HTMLParser):
    """Collects <script>, <link>, <meta> and <time> tags with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._in_script = False
        self.inline_scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "link", "meta", "time"}:
            self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def meta(self, key: str) -> str | None:
        for attrs in self.all("meta"):
            if key in (attrs.get("property"), attrs.get("name")):
                return attrs.get("content")
        return None


def parse(html: str) -> Head:
    head = Head()
    head.feed(html)
    return head


def test_the_stylesheet_stays_under_30_kb(client):
    assert (STATIC / "css" / "app.css").stat().st_size < CSS_BUDGET
    with client.get("/static/css/app.css") as response:
        assert len(response.data) < CSS_BUDGET


@pytest.mark.parametrize("path", ["/", "/signin", "/signup", "/ideas/{id}"])
def test_no_script_blocks_the_first_paint(client, make_idea, path):
    idea = make_idea()
    head = parse(client.get(path.format(id=idea.id)).text)
    scripts = head.all("script")
    assert scripts, "the page loads its enhancement script"
    for attrs in scripts:
        assert attrs.get("src", "").startswith("/static/")
        assert "defer" in attrs or "async" in attrs or attrs.get("type") == "module", attrs
    assert head.inline_scripts == []


def test_an_idea_page_has_social_preview_tags_and_a_canonical_link(app, client, make_idea):
    idea = make_idea("Export tasks to CSV", "For our **monthly** client report.")
    head = parse(client.get(f"/ideas/{idea.id}").text)
    expected = f"{app.config['BASE_URL']}/ideas/{idea.id}/export-tasks-to-csv"
    assert [link["href"] for link in head.all("link") if link.get("rel") == "canonical"] \
        == [expected]
    assert head.meta("og:url") == expected
    assert head.meta("og:title") == "Export tasks to CSV"
    assert head.meta("og:description") == "For our monthly client report."
    assert head.meta("twitter:card") == "summary"
    assert head.meta("og:site_name") == app.config["SITE_NAME"]


def test_an_idea_without_details_is_described_by_its_title(client, make_idea):
    idea = make_idea("Dark mode", "")
    assert parse(client.get(f"/ideas/{idea.id}").text).meta("og:description") == "Dark mode"


def test_dates_read_relative_with_the_exact_date_on_hover(client, make_idea):
    idea = make_idea()
    times = parse(client.get(f"/ideas/{idea.id}").text).all("time")
    assert times
    for attrs in times:
        assert re.match(r"\d{4}-\d\d-\d\dT", attrs["datetime"])
        assert re.search(r"\b20\d\d\b", attrs["title"])  # e.g. "Nov 23, 2026, 6:28:01 AM"


def test_every_page_has_the_favicon(client):
    head = parse(client.get("/").text)
    icons = [link["href"] for link in head.all("link") if link.get("rel") == "icon"]
    assert icons == ["/static/favicon.svg"]
    with client.get(icons[0]) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"


def test_a_closed_idea_says_in_words_that_voting_is_closed(client, make_idea, personas):
    idea = make_idea()
    assert "Voting is closed</span>" not in client.get(f"/ideas/{idea.id}").text
    services.change_status(idea, services.find_status("shipped"), personas["pam"])
    db.session.commit()
    assert "Voting is closed</span>" in client.get(f"/ideas/{idea.id}").text


def test_ideas_not_everyone_may_read_get_no_link_preview(client, auth, personas, make_idea):
    from forum.ideas.models import Board, Visibility
    from forum.triage import services as triage

    beta = Board(slug="beta", name="Beta", visibility=Visibility.MEMBERS, position=5)
    db.session.add(beta)
    members_only = make_idea("Secret beta feature", "Not announced yet.", board=beta)
    hidden = make_idea("Posted twice", "By mistake.")
    triage.set_idea_hidden(hidden, personas["pam"], hidden=True)
    db.session.commit()
    auth.login("pam@example.com")
    for idea in (members_only, hidden):
        html = client.get(f"/ideas/{idea.id}").text
        assert idea.title in html  # the team reads the page...
        head = parse(html)
        assert head.meta("og:title") is None and head.meta("og:description") is None
        assert head.meta("description") is None and head.meta("twitter:card") is None
        assert head.meta("robots") == "noindex"  # ...which is not a preview for anyone else
