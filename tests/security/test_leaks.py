"""Private boards, hidden ideas, hidden comments and internal notes never reach the wrong
reader: each persona crawls every page it can reach (and the private ones by number) and no
secret marker may appear in what it gets back, HTML or JSON."""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from forum.extensions import db
from forum.ideas.models import Comment
from tests.security.conftest import FORBIDDEN_MARKERS, INTERNAL, PERSONAS, STAFF, World

MAX_PAGES = 120


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _same_site_paths(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    paths = []
    for href in parser.links:
        url, _fragment = urldefrag(href)
        parts = urlsplit(url)
        if parts.netloc in ("", "forum.test") and parts.path.startswith("/") \
                and not parts.path.startswith("/static/"):
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def crawl(client, seeds: list[str]) -> dict[str, tuple[int, str]]:
    """GET every same-site page reachable from the seeds (bounded); path -> (status, body)."""
    seen: dict[str, tuple[int, str]] = {}
    queue = deque(seeds)
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        body = response.get_data(as_text=True)
        seen[path] = (response.status_code, body + str(response.headers))
        if response.status_code == 200:
            queue.extend(p for p in _same_site_paths(body) if p not in seen)
    return seen


def seeds(world: World) -> list[str]:
    ideas = [f"/ideas/{idea.id}" for idea in world.ideas.values()]
    people = [f"/people/{user.id}" for user in world.people.values() if user]
    boards = [f"/boards/{board.slug}" for board in world.boards.values()]
    edits = [f"/ideas/{idea.id}/edit" for idea in world.ideas.values()]
    return ["/", "/me", *boards, *ideas, *people, *edits, "/ideas/new",
            f"/signin?next=/ideas/{world.ideas['staff'].id}"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_secret_reaches_the_wrong_reader(world, client_as, persona):
    pages = crawl(client_as(persona), seeds(world))
    assert len(pages) >= 15, sorted(pages)
    for marker in FORBIDDEN_MARKERS[persona]:
        leaks = [path for path, (_status, body) in pages.items() if marker in body]
        assert not leaks, f"{persona} read {marker} on {leaks}"
    if persona in ("staff", "admin"):
        # The crawl reaches the secrets when allowed to: the markers are not simply missing.
        everything = "".join(body for _status, body in pages.values())
        assert all(m in everything for m in FORBIDDEN_MARKERS["anonymous"])


@pytest.mark.parametrize("persona", ["anonymous", "customer", "other"])
def test_json_answers_leak_nothing_either(world, client_as, persona):
    client = client_as(persona)
    for kind in ("staff", "hidden", "merged"):
        for action in ("vote", "unvote", "comments", "follow"):
            response = client.post(f"/ideas/{world.ideas[kind].id}/{action}",
                                   headers={"Accept": "application/json"}, data={"body": "x"})
            assert response.status_code in (401, 404), (kind, action, response.status_code)
            assert set(response.json) == {"error", "message"}
            for marker in FORBIDDEN_MARKERS[persona]:
                assert marker not in response.text


def test_fred_cannot_write_an_internal_note(world, client_as):
    public = world.ideas["public"]
    response = client_as("other").post(f"/ideas/{public.id}/comments",
                                       data={"body": "Pretending to be the team", "internal": "1"})
    assert response.status_code == 302
    comment = db.session.scalars(db.select(Comment).order_by(Comment.id.desc())).first()
    assert comment.body == "Pretending to be the team" and not comment.is_internal


def test_staff_sees_internal_notes_marked_as_such(world, client_as):
    html = client_as("staff").get(f"/ideas/{world.ideas['public'].id}").text
    assert INTERNAL in html and "Internal note: only the team sees this" in html


def test_followed_ideas_show_only_what_the_follower_may_read(world, client_as):
    """The list of followed ideas (/settings/notifications) must not name an idea its reader
    can no longer open: here one the team moved to its own board and retitled."""
    idea = world.ideas["public"]
    fred, staff = client_as("other"), client_as("staff")
    assert fred.post(f"/ideas/{idea.id}/follow", data={"level": "all"}).status_code == 302
    assert staff.post(f"/ideas/{idea.id}/edit", data={
        "title": f"Plan {STAFF}", "body": "x", "board": world.boards["staff"].id,
    }).status_code == 302
    assert fred.get(f"/ideas/{idea.id}").status_code == 404
    assert STAFF not in fred.get("/settings/notifications").text
